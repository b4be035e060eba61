-- Money in = money out: every report mart that carries net revenue adds up to the
-- net revenue of the sale lines in fct_order_items (and to the sale orders in
-- fct_orders); the customer marts to the sale lines of known customers (anonymous
-- orders belong to no customer). One row per mart whose total differs.
with fact_total as (
    select
        coalesce(sum(net_revenue), 0) as net_revenue,
        coalesce(sum(case when customer_id is not null then net_revenue end), 0)
            as customer_net_revenue
    from {{ ref('fct_order_items') }}
    where is_sale
),

report_totals as (
    select
        'fct_orders' as source_name,
        false as customers_only,
        coalesce(sum(net_revenue), 0) as net_revenue
    from {{ ref('fct_orders') }}
    where is_sale
    union all
    select
        'rpt_sales_daily' as source_name,
        false as customers_only,
        coalesce(sum(net_revenue), 0) as net_revenue
    from {{ ref('rpt_sales_daily') }}
    union all
    select
        'rpt_sales_monthly' as source_name,
        false as customers_only,
        coalesce(sum(net_revenue), 0) as net_revenue
    from {{ ref('rpt_sales_monthly') }}
    union all
    select
        'rpt_kpi_daily' as source_name,
        false as customers_only,
        coalesce(sum(net_revenue), 0) as net_revenue
    from {{ ref('rpt_kpi_daily') }}
    union all
    select
        'rpt_kpi_daily.cumulative_net_revenue' as source_name,
        false as customers_only,
        coalesce(max(cumulative_net_revenue), 0) as net_revenue
    from {{ ref('rpt_kpi_daily') }}
    union all
    select
        'dim_customers' as source_name,
        true as customers_only,
        coalesce(sum(lifetime_net_revenue), 0) as net_revenue
    from {{ ref('dim_customers') }}
    union all
    select
        'rpt_customer_rfm' as source_name,
        true as customers_only,
        coalesce(sum(lifetime_net_revenue), 0) as net_revenue
    from {{ ref('rpt_customer_rfm') }}
    union all
    select
        'rpt_customer_ltv' as source_name,
        true as customers_only,
        coalesce(sum(lifetime_net_revenue), 0) as net_revenue
    from {{ ref('rpt_customer_ltv') }}
    union all
    select
        'rpt_cohort_retention' as source_name,
        true as customers_only,
        coalesce(sum(net_revenue), 0) as net_revenue
    from {{ ref('rpt_cohort_retention') }}
    union all
    select
        'rpt_category_seasonality' as source_name,
        false as customers_only,
        coalesce(sum(net_revenue), 0) as net_revenue
    from {{ ref('rpt_category_seasonality') }}
),

compared as (
    select
        report_totals.source_name,
        report_totals.net_revenue as report_net_revenue,
        case
            when report_totals.customers_only then fact_total.customer_net_revenue
            else fact_total.net_revenue
        end as fact_net_revenue
    from report_totals
    cross join fact_total
)

select *
from compared
where report_net_revenue != fact_net_revenue
