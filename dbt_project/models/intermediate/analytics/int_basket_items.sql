{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='order_date',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['order_id', 'product_id'], 'unique': true},
            {'columns': ['order_date']},
            {'columns': ['product_id']},
            {'columns': ['refreshed_at']},
        ],
        pre_hook=["{{ tune_mart_transaction() }}"],
        post_hook=["{{ delete_stale_days() }}"],
    )
}}

-- the days changed since the last run (incremental runs and the post-hook):
-- depends_on: {{ ref('int_order_dates_changed') }}

-- one row per product in a sale order: the market-basket transactions.
-- Incremental: the days whose orders changed since the last run are rebuilt from
-- the fact (see def_incremental_marts)
with order_items as not materialized (
    select * from {{ ref('fct_order_items') }}
),

{% if is_incremental() %}

days_to_refresh as (
    {{ order_dates_changed_since(last_refreshed_at()) }}
),

lines as (
    select * from order_items
    where
        order_date = any(array(
            select days_to_refresh.order_date from days_to_refresh
        ))
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
        sum(quantity) as quantity,
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
