{{
    config(
        materialized=incremental_on_postgres(),
        incremental_strategy='delete+insert',
        unique_key=['customer_id', 'activity_month'],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['customer_id', 'activity_month'], 'unique': true},
            {'columns': ['activity_month']},
            {'columns': ['refreshed_at']},
        ],
        pre_hook=on_postgres(["{{ tune_mart_transaction() }}"]),
        post_hook=on_postgres([
            "delete from {{ this }} where refreshed_at = {{ run_stamp() }}"
            ~ " and orders = 0",
        ]),
    )
}}

-- the days changed since the last run (incremental runs):
-- depends_on: {{ ref('int_order_dates_changed') }}
-- depends_on: {{ ref('dim_date') }}

-- each customer's sales per calendar month: one row per customer and month with at
-- least one sale, i.e. one active customer in the cohort matrix. Incremental: the
-- months with a day whose orders changed since the last run are aggregated again
-- from the fact, and only the rows whose figures changed are written; a customer
-- no longer active in such a month is written with zero sales, which the
-- post-hook deletes (see def_incremental_marts)
with orders as {{ inlined() }} (
    select * from {{ ref('fct_orders') }}
),

{% if is_incremental() %}

-- the days of the months to refresh (read by date_in_months)
calendar as (
    select * from {{ ref('dim_date') }}
),

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

monthly as (
    select
        customer_id,
        cast(date_trunc('month', order_date) as date) as activity_month,
        count(*) as orders,
        sum(net_revenue) as net_revenue
    from orders_to_aggregate
    -- anonymous orders (no customer) belong to no cohort
    where is_sale and customer_id is not null
    group by customer_id, cast(date_trunc('month', order_date) as date)
),

{% if is_incremental() %}

previous as (
    select
        customer_id,
        activity_month,
        orders,
        net_revenue
    from {{ this }}
    where
        {{ is_in(
            'activity_month',
            'select months_to_refresh.month_start_date from months_to_refresh'
        ) }}
),

changed as (
    select
        coalesce(monthly.customer_id, previous.customer_id) as customer_id,
        coalesce(monthly.activity_month, previous.activity_month) as activity_month,
        coalesce(monthly.orders, 0) as orders,
        coalesce(monthly.net_revenue, 0) as net_revenue
    from monthly
    full outer join previous
        on
            monthly.customer_id = previous.customer_id
            and monthly.activity_month = previous.activity_month
    where
        monthly.orders is distinct from previous.orders
        or monthly.net_revenue is distinct from previous.net_revenue
),

{% else %}

changed as (
    select * from monthly
),

{% endif %}

final as (
    select
        -- grain
        customer_id,
        activity_month,
        -- numerics
        cast(orders as bigint) as orders,
        cast(net_revenue as {{ type_decimal() }}) as net_revenue,
        -- timestamps
        {{ run_stamp() }} as refreshed_at
    from changed
)

select * from final
