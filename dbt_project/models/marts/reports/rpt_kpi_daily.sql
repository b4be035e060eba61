{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='date_day',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['date_day'], 'unique': true},
        ],
        pre_hook=["{{ tune_mart_transaction() }}"],
        post_hook=["{{ delete_rows_not_refreshed() }}"],
    )
}}

-- the days changed since the last run (incremental runs and the post-hook):
-- depends_on: {{ ref('int_order_dates_changed') }}

-- incremental: the days whose orders changed since the last run are aggregated
-- again from the fact; the other days keep their measures; the running total is
-- then recomputed over the whole (small) table. See def_incremental_marts.
with orders as not materialized (
    select * from {{ ref('fct_orders') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

{% if is_incremental() %}

days_to_refresh as (
    {{ order_dates_changed_since(last_refreshed_at()) }}
),

orders_to_aggregate as (
    select * from orders
    where
        order_date = any(array(
            select days_to_refresh.order_date from days_to_refresh
        ))
),

{% else %}

orders_to_aggregate as (
    select * from orders
),

{% endif %}

-- new customers of a day: the customers whose first sale (is_first_order) it is
daily as (
    select
        order_date as date_day,
        sum(net_revenue) filter (where is_sale) as net_revenue,
        -- unknown (null) as soon as one sale lacks a cost: never a partial sum
        case
            when
                count(*) filter (where is_sale)
                = count(cost_amount) filter (where is_sale)
                then coalesce(sum(cost_amount) filter (where is_sale), 0)
        end as cost_amount,
        case
            when
                count(*) filter (where is_sale)
                = count(gross_margin) filter (where is_sale)
                then coalesce(sum(gross_margin) filter (where is_sale), 0)
        end as gross_margin,
        sum(units) filter (where is_sale) as units,
        count(*) filter (where is_sale) as orders,
        count(distinct customer_id) filter (where is_sale) as customers,
        count(*) filter (where is_first_order) as new_customers,
        count(*) as orders_placed,
        count(*) filter (where not is_sale) as non_sale_orders
    from orders_to_aggregate
    group by order_date
),

{% if is_incremental() %}

daily_all as (
    select * from daily

    union all

    select
        date_day,
        net_revenue,
        cost_amount,
        gross_margin,
        units,
        orders,
        customers,
        new_customers,
        orders_placed,
        non_sale_orders
    from {{ this }}
    where
        date_day != all(array(
            select days_to_refresh.order_date from days_to_refresh
        ))
),

{% else %}

daily_all as (
    select * from daily
),

{% endif %}

date_range as (
    select
        min(order_date) as first_date,
        max(order_date) as last_date
    from orders
),

-- every day from the first to the latest order, days without orders included
day_spine as (
    select calendar.date_day
    from calendar
    inner join date_range
        on calendar.date_day between date_range.first_date and date_range.last_date
),

filled as (
    select
        day_spine.date_day,
        coalesce(daily_all.net_revenue, 0) as net_revenue,
        -- a day without orders costs 0; a day with a sale of unknown cost: null
        case
            when daily_all.date_day is null then 0 else daily_all.cost_amount
        end as cost_amount,
        case
            when daily_all.date_day is null then 0 else daily_all.gross_margin
        end as gross_margin,
        coalesce(daily_all.units, 0) as units,
        coalesce(daily_all.orders, 0) as orders,
        coalesce(daily_all.customers, 0) as customers,
        coalesce(daily_all.new_customers, 0) as new_customers,
        coalesce(daily_all.orders_placed, 0) as orders_placed,
        coalesce(daily_all.non_sale_orders, 0) as non_sale_orders
    from day_spine
    left join daily_all
        on day_spine.date_day = daily_all.date_day
),

final as (
    select
        date_day::date as date_day,
        net_revenue::numeric as net_revenue,
        cost_amount::numeric as cost_amount,
        gross_margin::numeric as gross_margin,
        units::bigint as units,
        orders::bigint as orders,
        customers::bigint as customers,
        new_customers::bigint as new_customers,
        orders_placed::bigint as orders_placed,
        non_sale_orders::bigint as non_sale_orders,
        (net_revenue / nullif(orders, 0))::numeric as avg_order_value,
        round(100.0 * gross_margin / nullif(net_revenue, 0), 2)::numeric
            as gross_margin_pct,
        (
            sum(net_revenue) over (
                order by date_day
                rows between unbounded preceding and current row
            )
        )::numeric as cumulative_net_revenue,
        {{ run_stamp() }} as refreshed_at
    from filled
)

select * from final
