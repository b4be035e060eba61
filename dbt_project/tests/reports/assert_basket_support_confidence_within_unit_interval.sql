-- Support and confidence are probabilities: within [0, 1], and support never exceeds
-- confidence (a rule's baskets are a subset of its antecedent's baskets).
with rules as (
    select
        'product' as rule_level,
        cast(antecedent_product_id as {{ type_text() }}) as antecedent,
        cast(consequent_product_id as {{ type_text() }}) as consequent,
        support,
        confidence,
        antecedent_support,
        consequent_support
    from {{ ref('rpt_basket_rules') }}
    union all
    select
        'category' as rule_level,
        antecedent_category as antecedent,
        consequent_category as consequent,
        support,
        confidence,
        antecedent_support,
        consequent_support
    from {{ ref('rpt_basket_rules_category') }}
)

select *
from rules
where
    support not between 0 and 1
    or confidence not between 0 and 1
    or antecedent_support not between 0 and 1
    or consequent_support not between 0 and 1
    or support > confidence
    or support > least(antecedent_support, consequent_support)
