{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month_start_date',
        on_schema_change='append_new_columns',
        pre_hook=["{{ tune_mart_transaction() }}"],
        post_hook=["{{ delete_rows_not_refreshed() }}"],
    )
}}

-- the days changed since the last run (incremental runs and the post-hook):
-- depends_on: {{ ref('int_order_dates_changed') }}

-- incremental: the months with a day whose orders changed since the last run are
-- aggregated again from the fact; the other months keep their measures; growth
-- and running totals are then recomputed over the whole (small) table. See
-- def_incremental_marts.
with orders as not materialized (
    select * from {{ ref('fct_orders') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

{% if is_incremental() %}

months_to_refresh as (
    {{ months_changed_since(last_refreshed_at()) }}
),

orders_to_aggregate as (
    select * from orders
    where
        {{ date_in_months('months_to_refresh') }}
),

{% else %}

orders_to_aggregate as (
    select * from orders
),

{% endif %}

-- new customers of a month: the customers whose first sale (is_first_order) falls
-- in it
monthly as (
    select
        date_trunc('month', order_date)::date as month_start_date,
        sum(net_revenue) as revenue,
        sum(cost_amount) as cogs,
        sum(gross_margin) as gross_profit,
        sum(units) as units,
        count(*) as orders,
        count(distinct customer_id) as customers,
        count(*) filter (where is_first_order) as new_customers
    from orders_to_aggregate
    where is_sale
    group by date_trunc('month', order_date)::date
),

{% if is_incremental() %}

monthly_all as (
    select * from monthly

    union all

    select
        month_start_date,
        revenue,
        cogs,
        gross_profit,
        units,
        orders,
        customers,
        new_customers
    from {{ this }}
    where
        month_start_date not in (
            select months_to_refresh.month_start_date from months_to_refresh
        )
),

{% else %}

monthly_all as (
    select * from monthly
),

{% endif %}

first_sale as (
    select min(order_date) as first_sale_date
    from orders
    where is_sale
),

last_order as (
    select max(order_date) as last_order_date
    from orders
),

date_range as (
    select
        date_trunc('month', first_sale.first_sale_date)::date as first_date,
        last_order.last_order_date as last_date
    from first_sale
    cross join last_order
),

-- every month from the first sale to the latest order, so that lag() is a calendar
-- offset even in a month without sales
month_spine as (
    select distinct calendar.month_start_date
    from calendar
    inner join date_range
        on calendar.date_day between date_range.first_date and date_range.last_date
),

filled as (
    select
        month_spine.month_start_date,
        coalesce(monthly_all.revenue, 0) as revenue,
        coalesce(monthly_all.cogs, 0) as cogs,
        coalesce(monthly_all.gross_profit, 0) as gross_profit,
        coalesce(monthly_all.units, 0) as units,
        coalesce(monthly_all.orders, 0) as orders,
        coalesce(monthly_all.customers, 0) as customers,
        coalesce(monthly_all.new_customers, 0) as new_customers
    from month_spine
    left join monthly_all
        on month_spine.month_start_date = monthly_all.month_start_date
),

with_history as (
    select
        *,
        lag(revenue, 1) over (order by month_start_date) as prev_month_revenue,
        lag(revenue, 12) over (order by month_start_date) as prev_year_revenue,
        sum(revenue) over (
            order by month_start_date
            rows between unbounded preceding and current row
        ) as cumulative_revenue
    from filled
),

final as (
    select
        to_char(month_start_date, 'YYYY-MM')::text as year_month,
        revenue::numeric(18, 2) as revenue,
        cogs::numeric(18, 2) as cogs,
        gross_profit::numeric(18, 2) as gross_profit,
        units::bigint as units,
        orders::bigint as orders,
        customers::bigint as customers,
        new_customers::bigint as new_customers,
        (revenue / nullif(orders, 0))::numeric(18, 2) as aov,
        (100.0 * gross_profit / nullif(revenue, 0))::numeric(9, 2)
            as gross_margin_pct,
        prev_month_revenue::numeric(18, 2) as prev_month_revenue,
        (
            100.0 * (revenue - prev_month_revenue) / nullif(prev_month_revenue, 0)
        )::numeric(12, 2) as mom_growth_pct,
        prev_year_revenue::numeric(18, 2) as prev_year_revenue,
        (
            100.0 * (revenue - prev_year_revenue) / nullif(prev_year_revenue, 0)
        )::numeric(12, 2) as yoy_growth_pct,
        cumulative_revenue::numeric(18, 2) as cumulative_revenue,
        month_start_date::date as month_start_date,
        {{ run_stamp() }} as refreshed_at
    from with_history
)

select * from final
