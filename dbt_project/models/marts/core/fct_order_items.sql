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
            "{{ delete_lines_missing_from_raw() }}",
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

-- lines written in raw since this fact's latest build (added, edited or moved to
-- another order, whichever clock stamped their updated_at) or changed within the
-- look-back window: one pass over raw, no comparison with the loaded rows
changed_lines as (
    select
        order_item_id,
        order_id
    from raw_order_items
    where
        {{ written_since_last_build() }}
        or updated_at >= {{ lookback_cutoff() }}
),

-- orders written since the latest build (a status change, a soft delete) or
-- changed or soft-deleted within the look-back window
changed_orders as (
    select order_id
    from raw_orders
    where
        {{ written_since_last_build() }}
        or updated_at >= {{ lookback_cutoff() }}
        or deleted_at >= {{ lookback_cutoff() }}
),

-- the lines of raw the fact may not hold: the changed lines and the lines of
-- changed or soft-deleted orders (the fact holds every other line of raw)
candidate_lines as (
    select raw_order_items.order_item_id
    from raw_order_items
    where
        raw_order_items.order_item_id = any(array(
            select changed_lines.order_item_id from changed_lines
        ))

    union

    select raw_order_items.order_item_id
    from raw_order_items
    where
        raw_order_items.order_id = any(array(
            select changed_orders.order_id from changed_orders
            union all
            select raw_orders.order_id from raw_orders
            where raw_orders.is_deleted
        ))
),

-- how many of them the fact does not hold ("= any(array(...))" here and below:
-- index lookups, not joins)
unloaded_lines as (
    select
        (select count(*) as candidate_count from candidate_lines)
        - (
            select count(*) as loaded_count
            from {{ this }} as loaded
            where
                loaded.order_item_id = any(array(
                    select candidate_lines.order_item_id from candidate_lines
                ))
        ) as line_count
),

-- orders with a line removed from raw (their other lines are rewritten). The
-- loaded lines still in raw are the lines of raw minus those not loaded: only
-- when the fact holds more lines than that are the loaded lines compared with raw
removed_line_orders as (
    select loaded.order_id
    from {{ this }} as loaded
    where
        (select count(*) as loaded_count from {{ this }})
        > (select count(*) as raw_count from raw_order_items)
        - (select unloaded_lines.line_count from unloaded_lines)
        and not exists (
            select raw_order_items.order_item_id
            from raw_order_items
            where raw_order_items.order_item_id = loaded.order_item_id
        )
),

orders_to_refresh as (
    select changed_lines.order_id
    from changed_lines

    union

    -- the order a changed line was loaded under (a line moved to another order)
    select loaded.order_id
    from {{ this }} as loaded
    where
        loaded.order_item_id = any(array(
            select changed_lines.order_item_id from changed_lines
        ))

    union

    select changed_orders.order_id
    from changed_orders

    union

    select removed_line_orders.order_id
    from removed_line_orders
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
        units,
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
        {{ run_stamp() }} as refreshed_at,
        -- change tracking
        {{ source_snapshot_xmin() }} as source_xmin
    from order_items
    {% if is_incremental() %}
    -- "= any(array(...))" rather than "in (...)": a plain filter that postgres
    -- pushes down into the views (index scans instead of whole-table joins), on
    -- both sides of the join of lines and orders
    where
        order_id = any(array(
            select orders_to_refresh.order_id from orders_to_refresh
        ))
        and order_id_from_orders = any(array(
            select orders_to_refresh.order_id from orders_to_refresh
        ))
    {% endif %}
)

select * from final
