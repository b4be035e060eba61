{{
    config(
        materialized=incremental_on_postgres(),
        incremental_strategy='delete+insert',
        unique_key='order_date',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['order_date'], 'unique': true},
            {'columns': ['changed_at']},
        ],
        pre_hook=on_postgres(["{{ tune_mart_transaction() }}"]),
    )
}}

-- the change log of the date-keyed incremental marts: one row per order date that
-- has (or had) orders, with a fingerprint of fct_orders on that day and the run
-- that last saw the fingerprint change. A day changed when an order was added,
-- rewritten (its refreshed_at moves the maximum), removed or moved to another day
-- (its count drops); see the doc block def_incremental_marts. It also keeps the
-- day's number of market baskets, which the basket models add up
with orders as (
    select * from {{ ref('fct_orders') }}
),

fingerprints as (
    select
        order_date,
        count(*) as orders_placed,
        count(case when is_sale and item_count > 0 then 1 end) as basket_count,
        max(refreshed_at) as last_refreshed_at
    from orders
    group by order_date
),

{% if is_incremental() %}

previous as (
    select
        order_date,
        orders_placed,
        last_refreshed_at
    from {{ this }}
),

changed as (
    select
        coalesce(fingerprints.order_date, previous.order_date) as order_date,
        coalesce(fingerprints.orders_placed, 0) as orders_placed,
        coalesce(fingerprints.basket_count, 0) as basket_count,
        fingerprints.last_refreshed_at
    from fingerprints
    full outer join previous
        on fingerprints.order_date = previous.order_date
    where
        coalesce(fingerprints.orders_placed, 0)
        is distinct from previous.orders_placed
        or fingerprints.last_refreshed_at
        is distinct from previous.last_refreshed_at
),

{% else %}

changed as (
    select * from fingerprints
),

{% endif %}

final as (
    select
        -- grain
        order_date,
        -- numerics
        orders_placed,
        basket_count,
        -- timestamps
        last_refreshed_at,
        {{ run_stamp() }} as changed_at
    from changed
)

select * from final
