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
        pair_count::double precision / basket_count as support,  -- noqa: RF04
        antecedent_count::double precision / basket_count as antecedent_support,
        consequent_count::double precision / basket_count as consequent_support,
        pair_count::double precision / antecedent_count as confidence,
        pair_count::double precision * basket_count
        / (antecedent_count::double precision * consequent_count) as lift
    from directed
),

final as (
    select
        antecedent_category::text as antecedent_category,
        consequent_category::text as consequent_category,
        (
            row_number() over (
                order by
                    lift desc,
                    pair_count desc,
                    antecedent_category asc,
                    consequent_category asc
            )
        )::bigint as rule_rank,
        pair_count::bigint as pair_count,
        antecedent_count::bigint as antecedent_count,
        consequent_count::bigint as consequent_count,
        basket_count::bigint as basket_count,
        support::double precision as support,  -- noqa: RF04
        antecedent_support::double precision as antecedent_support,
        consequent_support::double precision as consequent_support,
        confidence::double precision as confidence,
        lift::double precision as lift
    from measured
    -- only pairs bought together more often than by chance (lift > 1), compared
    -- in exact counts: pair * baskets > antecedent * consequent
    where
        pair_count::numeric * basket_count
        > antecedent_count::numeric * consequent_count
)

select * from final
