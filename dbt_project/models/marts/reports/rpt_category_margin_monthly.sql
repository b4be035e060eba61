{{
    config(
        indexes=[
            {'columns': ['month_start_date']},
        ]
    )
}}

with order_items as (
    select * from {{ ref('fct_order_items') }}
),

aggregated as (
    select
        category,
        date_trunc('month', order_date)::date as month_start_date,
        sum(net_revenue) as revenue,
        sum(cost_amount) as cogs,
        sum(gross_margin) as gross_profit,
        sum(quantity) as units,
        count(distinct order_id) as orders
    from order_items
    where is_sale
    group by category, date_trunc('month', order_date)::date
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
