{{
    config(
        materialized=incremental_on_postgres(),
        incremental_strategy='delete+insert',
        unique_key='order_id',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['order_id', 'product_id'], 'unique': true},
            {'columns': ['order_date']},
            {'columns': ['product_id']},
            {'columns': ['refreshed_at']},
        ],
        pre_hook=on_postgres(["{{ tune_mart_transaction() }}"]),
        post_hook=on_postgres(["{{ delete_basket_items_no_longer_sold() }}"]),
    )
}}

-- the days changed since the last run (the post-hook):
-- depends_on: {{ ref('int_order_dates_changed') }}

-- one row per product in a sale order: the market-basket transactions.
-- Incremental: the orders whose lines fct_order_items rewrote since the last run
-- are rebuilt (see def_incremental_marts)
with order_items as {{ inlined() }} (
    select * from {{ ref('fct_order_items') }}
),

{% if is_incremental() %}

-- is_in: read through the indexes on refreshed_at and order_id, not by a join
-- with the whole fact
lines as (
    select * from order_items
    where
        {{ is_in(
            'order_id',
            'select rewritten.order_id from order_items as rewritten'
            ~ ' where rewritten.refreshed_at > ' ~ last_refreshed_at()
        ) }}
),

{% else %}

lines as (
    select * from order_items
),

{% endif %}

final as (
    select
        -- ids
        order_id,
        product_id,
        customer_id,
        -- strings
        min(category) as category,
        -- numerics
        sum(units) as units,
        sum(net_revenue) as net_revenue,
        sum(cost_amount) as cost_amount,
        sum(gross_margin) as gross_margin,
        -- dates
        order_date,
        -- timestamps
        {{ run_stamp() }} as refreshed_at
    from lines
    where is_sale
    group by order_id, product_id, customer_id, order_date
)

select * from final
