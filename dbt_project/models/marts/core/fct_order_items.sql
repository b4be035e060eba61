{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='order_item_id',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['order_id']},
            {'columns': ['customer_id']},
            {'columns': ['product_id']},
            {'columns': ['channel_id']},
            {'columns': ['ship_region_id']},
            {'columns': ['promotion_id']},
            {'columns': ['order_date']},
            {'columns': ['updated_at']},
        ],
        pre_hook=["{{ tune_fact_transaction() }}"],
        post_hook=[
            "{{ delete_soft_deleted_orders() }}",
            "{{ delete_rows_missing_from(ref('stg_shop__order_items'), 'order_item_id') }}",
        ],
    )
}}

-- change detection (incremental runs only) and the post-hook read staging:
-- depends_on: {{ ref('stg_shop__orders') }}
-- depends_on: {{ ref('stg_shop__order_items') }}

-- one row per line of a live order; see the doc block def_incremental_facts
with order_items as (
    select * from {{ ref('int_order_items_priced') }}
),

{% if is_incremental() %}

-- change detection reads staging: it must also see soft-deleted orders ("not
-- materialized" lets postgres inline these and use the indexes of raw)
raw_orders as not materialized (
    select * from {{ ref('stg_shop__orders') }}
),

raw_order_items as not materialized (
    select * from {{ ref('stg_shop__order_items') }}
),

loaded as not materialized (
    select
        order_item_id,
        updated_at
    from {{ this }}
),

orders_to_refresh as (
    -- the look-back window: orders changed (or soft-deleted) within it
    select order_id
    from raw_orders
    where
        updated_at >= {{ lookback_cutoff() }}
        or deleted_at >= {{ lookback_cutoff() }}

    union

    -- the look-back window: orders with a line changed within it
    select order_id
    from raw_order_items
    where updated_at >= {{ lookback_cutoff() }}

    union

    -- reconciliation: lines of live orders not loaded yet, or whose line or order
    -- changed since they were loaded, whatever their timestamps (rows stamped by
    -- another clock, e.g. an appended day older than an edit made in the app)
    select raw_order_items.order_id
    from raw_order_items
    inner join raw_orders
        on raw_order_items.order_id = raw_orders.order_id
    left join loaded
        on raw_order_items.order_item_id = loaded.order_item_id
    where
        not raw_orders.is_deleted
        and loaded.updated_at is distinct from greatest(
            raw_order_items.updated_at, raw_orders.updated_at
        )
),

{% endif %}

final as (
    select
        -- ids
        order_item_id,
        order_id,
        customer_id,
        product_id,
        channel_id,
        ship_region_id,
        promotion_id,
        -- strings
        status,
        payment_status,
        category,
        subcategory,
        -- amounts
        quantity,
        unit_price,
        gross_amount,
        discount_amount,
        net_revenue,
        unit_cost,
        cost_amount,
        gross_margin,
        -- booleans
        is_sale,
        -- dates
        order_date,
        -- timestamps
        ordered_at,
        updated_at
    from order_items
    {% if is_incremental() %}
    -- "= any(array(...))" rather than "in (...)": a plain filter that postgres
    -- pushes down into the views (index scans instead of whole-table joins)
    where
        order_id = any(array(
            select orders_to_refresh.order_id from orders_to_refresh
        ))
    {% endif %}
)

select * from final
