{{
    config(
        indexes=[
            {'columns': ['antecedent_product_id']},
            {'columns': ['rule_rank'], 'unique': true},
        ]
    )
}}

with pairs as (
    select * from {{ ref('int_basket_product_pairs_filtered') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

-- each pair gives two rules: a -> b and b -> a
directed as (
    select
        product_a_id as antecedent_product_id,
        product_b_id as consequent_product_id,
        pair_count,
        product_a_count as antecedent_count,
        product_b_count as consequent_count,
        basket_count
    from pairs
    union all
    select
        product_b_id as antecedent_product_id,
        product_a_id as consequent_product_id,
        pair_count,
        product_b_count as antecedent_count,
        product_a_count as consequent_count,
        basket_count
    from pairs
),

measured as (
    select
        antecedent_product_id,
        consequent_product_id,
        pair_count,
        antecedent_count,
        consequent_count,
        basket_count,
        cast(pair_count as {{ type_double() }}) / basket_count
            as support,  -- noqa: RF04
        cast(antecedent_count as {{ type_double() }}) / basket_count
            as antecedent_support,
        cast(consequent_count as {{ type_double() }}) / basket_count
            as consequent_support,
        cast(pair_count as {{ type_double() }}) / antecedent_count as confidence,
        -- confidence / consequent support, in counts to avoid rounding twice
        cast(pair_count as {{ type_double() }}) * basket_count
        / (cast(antecedent_count as {{ type_double() }}) * consequent_count) as lift
    from directed
),

final as (
    select
        cast(measured.antecedent_product_id as {{ type_text() }})
            as antecedent_product_id,
        cast(measured.consequent_product_id as {{ type_text() }})
            as consequent_product_id,
        cast((
            row_number() over (
                order by
                    measured.lift desc,
                    measured.pair_count desc,
                    measured.antecedent_product_id asc,
                    measured.consequent_product_id asc
            )
        ) as bigint) as rule_rank,
        cast(antecedent.product_name as {{ type_text() }}) as antecedent_product_name,
        cast(consequent.product_name as {{ type_text() }}) as consequent_product_name,
        cast(antecedent.category as {{ type_text() }}) as antecedent_category,
        cast(consequent.category as {{ type_text() }}) as consequent_category,
        cast(measured.pair_count as bigint) as pair_count,
        cast(measured.antecedent_count as bigint) as antecedent_count,
        cast(measured.consequent_count as bigint) as consequent_count,
        cast(measured.basket_count as bigint) as basket_count,
        cast(measured.support as {{ type_double() }}) as support,  -- noqa: RF04
        cast(measured.antecedent_support as {{ type_double() }}) as antecedent_support,
        cast(measured.consequent_support as {{ type_double() }}) as consequent_support,
        cast(measured.confidence as {{ type_double() }}) as confidence,
        cast(measured.lift as {{ type_double() }}) as lift
    from measured
    inner join products as antecedent
        on measured.antecedent_product_id = antecedent.product_id
    inner join products as consequent
        on measured.consequent_product_id = consequent.product_id
    -- only pairs bought together more often than by chance (lift > 1), compared
    -- in exact counts: pair * baskets > antecedent * consequent
    where
        cast(measured.pair_count as {{ type_decimal() }})
        * measured.basket_count
        > cast(measured.antecedent_count as {{ type_decimal() }})
        * measured.consequent_count
)

select * from final
