{{
    config(
        indexes=[
            {'columns': ['month_start_date']},
        ]
    )
}}

-- rolled up from the monthly mart: every measure here is additive over channels
-- and regions (an order has one channel and one region)
with sales_monthly as (
    select * from {{ ref('rpt_sales_monthly') }}
),

aggregated as (
    select
        category,
        month_start_date,
        sum(revenue) as revenue,
        sum(cogs) as cogs,
        sum(gross_profit) as gross_profit,
        sum(units) as units,
        sum(orders) as orders
    from sales_monthly
    group by category, month_start_date
),

final as (
    select
        category::text as category,
        to_char(month_start_date, 'YYYY-MM')::text as year_month,
        revenue::numeric(18, 2) as revenue,
        cogs::numeric(18, 2) as cogs,
        gross_profit::numeric(18, 2) as gross_profit,
        (100.0 * gross_profit / nullif(revenue, 0))::numeric(9, 2) as margin_pct,
        units::bigint as units,
        orders::bigint as orders,
        month_start_date::date as month_start_date
    from aggregated
)

select * from final
