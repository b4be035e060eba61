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
        pair_count::double precision / basket_count as support,  -- noqa: RF04
        antecedent_count::double precision / basket_count as antecedent_support,
        consequent_count::double precision / basket_count as consequent_support,
        pair_count::double precision / antecedent_count as confidence,
        -- confidence / consequent support, in counts to avoid rounding twice
        pair_count::double precision * basket_count
        / (antecedent_count::double precision * consequent_count) as lift
    from directed
),

final as (
    select
        measured.antecedent_product_id::text as antecedent_product_id,
        measured.consequent_product_id::text as consequent_product_id,
        (
            row_number() over (
                order by
                    measured.lift desc,
                    measured.pair_count desc,
                    measured.antecedent_product_id asc,
                    measured.consequent_product_id asc
            )
        )::bigint as rule_rank,
        antecedent.product_name::text as antecedent_product_name,
        consequent.product_name::text as consequent_product_name,
        antecedent.category::text as antecedent_category,
        consequent.category::text as consequent_category,
        measured.pair_count::bigint as pair_count,
        measured.antecedent_count::bigint as antecedent_count,
        measured.consequent_count::bigint as consequent_count,
        measured.basket_count::bigint as basket_count,
        measured.support::double precision as support,  -- noqa: RF04
        measured.antecedent_support::double precision as antecedent_support,
        measured.consequent_support::double precision as consequent_support,
        measured.confidence::double precision as confidence,
        measured.lift::double precision as lift
    from measured
    inner join products as antecedent
        on measured.antecedent_product_id = antecedent.product_id
    inner join products as consequent
        on measured.consequent_product_id = consequent.product_id
    -- only pairs bought together more often than by chance (lift > 1), compared
    -- in exact counts: pair * baskets > antecedent * consequent
    where
        measured.pair_count::numeric * measured.basket_count
        > measured.antecedent_count::numeric * measured.consequent_count
)

select * from final
