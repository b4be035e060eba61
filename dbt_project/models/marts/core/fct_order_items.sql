{{
    config(
        materialized=incremental_on_postgres(),
        incremental_strategy='delete+insert',
        unique_key='order_id',
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
        pre_hook=on_postgres(["{{ tune_fact_transaction() }}"]),
        post_hook=on_postgres(["{{ delete_rows_not_rewritten('order_item_id') }}"]),
    )
}}

-- one row per line of a live order. An incremental run rewrites the lines of
-- the orders written in raw since its previous run (see the doc block
-- def_incremental_facts); delete+insert on order_id replaces all their lines
with order_items as (
    select * from {{ ref('int_order_items_priced') }}
),

{% if is_incremental() %}

changed_orders as (
    {{ orders_written_since(sync_watermark()) }}

    union

    -- the order a written line was under before (a line moved to another order)
    select loaded.order_id
    from {{ this }} as loaded
    where loaded.order_item_id in (
        select written_lines.order_item_id
        from {{ ref('stg_shop__order_items') }} as written_lines
        where written_lines.synced_at > {{ sync_watermark() }}
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
        {{ raw_synced_until() }} as source_synced_at
    from order_items
    {% if is_incremental() %}
    -- on both sides of the join of lines and orders, so that PostgreSQL reads
    -- only those orders from each
    where
        {{ is_in('order_id', 'select order_id from changed_orders') }}
        and {{ is_in('order_id_from_orders', 'select order_id from changed_orders') }}
    {% endif %}
)

select * from final
