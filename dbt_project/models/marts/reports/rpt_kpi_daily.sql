{{
    config(
        materialized=incremental_on_postgres(),
        incremental_strategy='delete+insert',
        unique_key='date_day',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['date_day'], 'unique': true},
        ],
        pre_hook=on_postgres(["{{ tune_mart_transaction() }}"]),
        post_hook=on_postgres(["{{ delete_rows_not_refreshed() }}"]),
    )
}}

-- the days changed since the last run (incremental runs and the post-hook):
-- depends_on: {{ ref('int_order_dates_changed') }}

-- incremental: the days whose orders changed since the last run are aggregated
-- again from the fact; the other days keep their measures; the running total is
-- then recomputed over the whole (small) table. See def_incremental_marts.
with orders as {{ inlined() }} (
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
        {{ is_in(
            'order_date',
            'select days_to_refresh.order_date from days_to_refresh'
        ) }}
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
        sum(case when is_sale then net_revenue end) as net_revenue,
        -- unknown (null) as soon as one sale lacks a cost: never a partial sum
        case
            when
                count(case when is_sale then 1 end)
                = count(case when is_sale then cost_amount end)
                then coalesce(sum(case when is_sale then cost_amount end), 0)
        end as cost_amount,
        case
            when
                count(case when is_sale then 1 end)
                = count(case when is_sale then gross_margin end)
                then coalesce(sum(case when is_sale then gross_margin end), 0)
        end as gross_margin,
        sum(case when is_sale then units end) as units,
        count(case when is_sale then 1 end) as orders,
        count(distinct case when is_sale then customer_id end) as customers,
        count(case when is_first_order then 1 end) as new_customers,
        count(*) as orders_placed,
        count(case when not is_sale then 1 end) as non_sale_orders
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
        not {{ is_in(
            'date_day', 'select days_to_refresh.order_date from days_to_refresh'
        ) }}
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
        cast(date_day as date) as date_day,
        cast(net_revenue as {{ type_decimal() }}) as net_revenue,
        cast(cost_amount as {{ type_decimal() }}) as cost_amount,
        cast(gross_margin as {{ type_decimal() }}) as gross_margin,
        cast(units as bigint) as units,
        cast(orders as bigint) as orders,
        cast(customers as bigint) as customers,
        cast(new_customers as bigint) as new_customers,
        cast(orders_placed as bigint) as orders_placed,
        cast(non_sale_orders as bigint) as non_sale_orders,
        cast(net_revenue / nullif(orders, 0) as {{ type_decimal() }})
            as avg_order_value,
        cast(
            round(100.0 * gross_margin / nullif(net_revenue, 0), 2)
            as {{ type_decimal() }}
        ) as gross_margin_pct,
        cast((
            sum(net_revenue) over (
                order by date_day
                rows between unbounded preceding and current row
            )
        ) as {{ type_decimal() }}) as cumulative_net_revenue,
        {{ run_stamp() }} as refreshed_at
    from filled
)

select * from final
