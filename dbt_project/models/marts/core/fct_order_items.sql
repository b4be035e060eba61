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
            {'columns': ['refreshed_at']},
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
-- materialized" lets postgres inline these and read only the columns it needs)
raw_orders as not materialized (
    select * from {{ ref('stg_shop__orders') }}
),

raw_order_items as not materialized (
    select * from {{ ref('stg_shop__order_items') }}
),

loaded as not materialized (
    select
        order_item_id,
        order_id,
        line_updated_at,
        order_updated_at
    from {{ this }}
),

-- one pass over raw and the loaded lines, joined on the line's key: the lines
-- added, changed (their own updated_at moved, whichever clock stamped it), moved
-- to another order or removed since they were loaded, the lines whose order row
-- changed since, and the look-back window (lines or orders changed, or orders
-- soft-deleted, within it)
changes as (
    select
        raw_order_items.order_id as raw_order_id,
        loaded.order_id as loaded_order_id
    from raw_order_items
    full outer join loaded
        on raw_order_items.order_item_id = loaded.order_item_id
    left join raw_orders
        on loaded.order_id = raw_orders.order_id
    where
        raw_order_items.updated_at is distinct from loaded.line_updated_at
        or raw_order_items.order_id is distinct from loaded.order_id
        or raw_orders.updated_at != loaded.order_updated_at
        or raw_order_items.updated_at >= {{ lookback_cutoff() }}
        or raw_orders.updated_at >= {{ lookback_cutoff() }}
        or raw_orders.deleted_at >= {{ lookback_cutoff() }}
),

orders_to_refresh as (
    select raw_order_id as order_id
    from changes
    where raw_order_id is not null

    union

    select loaded_order_id as order_id
    from changes
    where loaded_order_id is not null
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
        updated_at,
        line_updated_at,
        order_updated_at,
        {{ run_stamp() }} as refreshed_at
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
