-- Orders, units and buyers agree between the report marts and the facts: every
-- buyer is in exactly one cohort, one RFM row and one LTV row. The daily KPIs
-- count every sale; the customer marts only the sales of known customers
-- (anonymous orders belong to no customer).
with sale_orders as (
    select * from {{ ref('fct_orders') }}
    where is_sale
),

fact_counts as (
    select
        count(*) as orders,
        count(customer_id) as customer_orders,
        count(distinct customer_id) as buyers,
        coalesce(sum(units), 0) as units,
        coalesce(sum(case when customer_id is not null then units end), 0)
            as customer_units
    from sale_orders
),

report_counts as (
    select
        'rpt_kpi_daily' as source_name,
        false as customers_only,
        sum(orders) as orders,
        sum(new_customers) as buyers,
        sum(units) as units
    from {{ ref('rpt_kpi_daily') }}
    union all
    select
        'rpt_customer_ltv' as source_name,
        true as customers_only,
        sum(lifetime_orders) as orders,
        count(*) as buyers,
        sum(lifetime_units) as units
    from {{ ref('rpt_customer_ltv') }}
    union all
    select
        'rpt_customer_rfm' as source_name,
        true as customers_only,
        sum(lifetime_orders) as orders,
        count(*) as buyers,
        (select fact_counts.customer_units from fact_counts) as units
    from {{ ref('rpt_customer_rfm') }}
    union all
    select
        'rpt_cohort_retention' as source_name,
        true as customers_only,
        sum(orders) as orders,
        sum(case when months_since_first_order = 0 then cohort_size end) as buyers,
        (select fact_counts.customer_units from fact_counts) as units
    from {{ ref('rpt_cohort_retention') }}
),

compared as (
    select
        report_counts.source_name,
        report_counts.orders,
        case
            when report_counts.customers_only then fact_counts.customer_orders
            else fact_counts.orders
        end as fact_orders,
        report_counts.buyers,
        fact_counts.buyers as fact_buyers,
        report_counts.units,
        case
            when report_counts.customers_only then fact_counts.customer_units
            else fact_counts.units
        end as fact_units
    from report_counts
    cross join fact_counts
)

select *
from compared
where
    coalesce(orders, 0) != fact_orders
    or coalesce(buyers, 0) != fact_buyers
    or coalesce(units, 0) != fact_units
