-- Orders, units and buyers agree between the report marts and the facts: every
-- buyer is in exactly one cohort, one RFM row and one LTV row.
with sale_orders as (
    select * from {{ ref('fct_orders') }}
    where is_sale
),

fact_counts as (
    select
        count(*) as orders,
        count(distinct customer_id) as buyers,
        coalesce(sum(units), 0) as units
    from sale_orders
),

report_counts as (
    select
        'rpt_kpi_daily' as source_name,
        sum(orders) as orders,
        sum(new_customers) as buyers,
        sum(units) as units
    from {{ ref('rpt_kpi_daily') }}
    union all
    select
        'rpt_customer_ltv' as source_name,
        sum(lifetime_orders) as orders,
        count(*) as buyers,
        sum(lifetime_units) as units
    from {{ ref('rpt_customer_ltv') }}
    union all
    select
        'rpt_customer_rfm' as source_name,
        sum(lifetime_orders) as orders,
        count(*) as buyers,
        (select fact_counts.units from fact_counts) as units
    from {{ ref('rpt_customer_rfm') }}
    union all
    select
        'rpt_cohort_retention' as source_name,
        sum(orders) as orders,
        sum(cohort_size) filter (where months_since_first_order = 0) as buyers,
        (select fact_counts.units from fact_counts) as units
    from {{ ref('rpt_cohort_retention') }}
)

select
    report_counts.source_name,
    report_counts.orders,
    fact_counts.orders as fact_orders,
    report_counts.buyers,
    fact_counts.buyers as fact_buyers,
    report_counts.units,
    fact_counts.units as fact_units
from report_counts
cross join fact_counts
where
    coalesce(report_counts.orders, 0) != fact_counts.orders
    or coalesce(report_counts.buyers, 0) != fact_counts.buyers
    or coalesce(report_counts.units, 0) != fact_counts.units
