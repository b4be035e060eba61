with pairs as (
    select * from {{ ref('int_basket_category_pairs_filtered') }}
),

-- each pair gives two rules: a -> b and b -> a
directed as (
    select
        category_a as antecedent_category,
        category_b as consequent_category,
        pair_count,
        category_a_count as antecedent_count,
        category_b_count as consequent_count,
        basket_count
    from pairs
    union all
    select
        category_b as antecedent_category,
        category_a as consequent_category,
        pair_count,
        category_b_count as antecedent_count,
        category_a_count as consequent_count,
        basket_count
    from pairs
),

measured as (
    select
        antecedent_category,
        consequent_category,
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
        cast(pair_count as {{ type_double() }}) * basket_count
        / (cast(antecedent_count as {{ type_double() }}) * consequent_count) as lift
    from directed
),

final as (
    select
        cast(antecedent_category as {{ type_text() }}) as antecedent_category,
        cast(consequent_category as {{ type_text() }}) as consequent_category,
        cast((
            row_number() over (
                order by
                    lift desc,
                    pair_count desc,
                    antecedent_category asc,
                    consequent_category asc
            )
        ) as bigint) as rule_rank,
        cast(pair_count as bigint) as pair_count,
        cast(antecedent_count as bigint) as antecedent_count,
        cast(consequent_count as bigint) as consequent_count,
        cast(basket_count as bigint) as basket_count,
        cast(support as {{ type_double() }}) as support,  -- noqa: RF04
        cast(antecedent_support as {{ type_double() }}) as antecedent_support,
        cast(consequent_support as {{ type_double() }}) as consequent_support,
        cast(confidence as {{ type_double() }}) as confidence,
        cast(lift as {{ type_double() }}) as lift
    from measured
    -- only pairs bought together more often than by chance (lift > 1), compared
    -- in exact counts: pair * baskets > antecedent * consequent
    where
        cast(pair_count as {{ type_decimal() }}) * basket_count
        > cast(antecedent_count as {{ type_decimal() }}) * consequent_count
)

select * from final
