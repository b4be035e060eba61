-- lift = confidence / support(consequent), confidence = support / support(antecedent),
-- and every rule has its reverse with the same support and lift (within float
-- rounding).
with rules as (
    select
        'product' as rule_level,
        cast(antecedent_product_id as {{ type_text() }}) as antecedent,
        cast(consequent_product_id as {{ type_text() }}) as consequent,
        support,
        confidence,
        antecedent_support,
        consequent_support,
        lift
    from {{ ref('rpt_basket_rules') }}
    union all
    select
        'category' as rule_level,
        antecedent_category as antecedent,
        consequent_category as consequent,
        support,
        confidence,
        antecedent_support,
        consequent_support,
        lift
    from {{ ref('rpt_basket_rules_category') }}
)

select
    rules.rule_level,
    rules.antecedent,
    rules.consequent,
    rules.lift,
    rules.confidence / rules.consequent_support as expected_lift,
    reverse_rules.lift as reverse_lift
from rules
left join rules as reverse_rules
    on
        rules.rule_level = reverse_rules.rule_level
        and rules.antecedent = reverse_rules.consequent
        and rules.consequent = reverse_rules.antecedent
where
    abs(rules.lift - rules.confidence / rules.consequent_support)
    > 1e-9 * rules.lift
    or abs(rules.confidence - rules.support / rules.antecedent_support)
    > 1e-9 * rules.confidence
    or reverse_rules.lift is null
    or abs(rules.lift - reverse_rules.lift) > 1e-9 * rules.lift
    or abs(rules.support - reverse_rules.support) > 1e-12
