{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='order_id',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['customer_id']},
            {'columns': ['channel_id']},
            {'columns': ['ship_region_id']},
            {'columns': ['promotion_id']},
            {'columns': ['order_date']},
            {'columns': ['updated_at']},
        ],
        pre_hook=["{{ tune_fact_transaction() }}"],
        post_hook=[
            "{{ delete_soft_deleted_orders() }}",
            "{{ delete_rows_missing_from(ref('stg_shop__orders'), 'order_id') }}",
        ],
    )
}}

-- change detection (incremental runs only) and the post-hook read staging:
-- depends_on: {{ ref('stg_shop__orders') }}
-- depends_on: {{ ref('stg_shop__order_items') }}

-- one row per live order; see the doc block def_incremental_facts
with orders as (
    select * from {{ ref('int_orders_with_customer_history') }}
),

order_items as (
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
        order_id,
        customer_id,
        item_count,
        units,
        net_revenue,
        customer_order_number,
        days_since_previous_order,
        is_first_order,
        updated_at
    from {{ this }}
),

raw_line_totals as (
    select
        order_id,
        count(*) as item_count,
        sum(quantity) as units,
        sum(quantity * unit_price - discount_amount) as net_revenue,
        max(updated_at) as updated_at
    from raw_order_items
    group by order_id
),

changed_orders as (
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

    -- reconciliation: live orders not loaded yet, or changed since they were
    -- loaded (order row, or lines changed, added or removed), whatever their
    -- timestamps (rows stamped by another clock, e.g. an appended day older than
    -- an edit made in the app)
    select raw_orders.order_id
    from raw_orders
    left join raw_line_totals
        on raw_orders.order_id = raw_line_totals.order_id
    left join loaded
        on raw_orders.order_id = loaded.order_id
    where
        not raw_orders.is_deleted
        and (
            loaded.updated_at is distinct from greatest(
                raw_orders.updated_at, raw_line_totals.updated_at
            )
            or loaded.item_count != coalesce(raw_line_totals.item_count, 0)
            or loaded.units != coalesce(raw_line_totals.units, 0)
            or loaded.net_revenue != coalesce(raw_line_totals.net_revenue, 0)
        )

    union

    -- soft-deleted orders still in the fact, however long ago they were deleted
    select loaded.order_id
    from loaded
    inner join raw_orders
        on loaded.order_id = raw_orders.order_id
    where raw_orders.is_deleted
),

customers_to_refresh as (
    -- a new, changed or deleted order can renumber the other orders of its
    -- customer (customer_order_number, is_first_order, days since previous):
    -- recompute the customer, before (loaded) and after (raw) a change of customer
    select raw_orders.customer_id
    from raw_orders
    inner join changed_orders
        on raw_orders.order_id = changed_orders.order_id

    union

    select loaded.customer_id
    from loaded
    inner join changed_orders
        on loaded.order_id = changed_orders.order_id
),

orders_to_refresh as (
    -- of those customers' orders, rewrite the changed ones and those whose
    -- history moved; the others are already right
    select orders.*
    from orders
    left join loaded
        on orders.order_id = loaded.order_id
    where
        -- "= any(array(...))" rather than "in (...)": a plain filter that postgres
        -- pushes down into the views (index scans instead of whole-table joins)
        orders.customer_id = any(array(
            select customers_to_refresh.customer_id from customers_to_refresh
        ))
        and (
            orders.order_id in (select changed_orders.order_id from changed_orders)
            or loaded.order_id is null
            or orders.customer_order_number
            is distinct from loaded.customer_order_number
            or orders.days_since_previous_order
            is distinct from loaded.days_since_previous_order
            or orders.is_first_order is distinct from loaded.is_first_order
        )
),

{% else %}

orders_to_refresh as (
    select * from orders
),

{% endif %}

order_totals as (
    select
        order_id,
        count(*) as item_count,
        sum(quantity) as units,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_revenue) as net_revenue,
        sum(cost_amount) as cost_amount,
        sum(gross_margin) as gross_margin,
        max(updated_at) as updated_at
    from order_items
    {% if is_incremental() %}
    where
        order_id = any(array(
            select orders_to_refresh.order_id from orders_to_refresh
        ))
    {% endif %}
    group by order_id
),

final as (
    select
        -- ids
        orders_to_refresh.order_id,
        orders_to_refresh.customer_id,
        orders_to_refresh.channel_id,
        orders_to_refresh.ship_region_id,
        orders_to_refresh.promotion_id,
        -- strings
        orders_to_refresh.status,
        orders_to_refresh.payment_status,
        orders_to_refresh.payment_method,
        -- numerics
        coalesce(order_totals.item_count, 0) as item_count,
        coalesce(order_totals.units, 0) as units,
        coalesce(order_totals.gross_amount, 0) as gross_amount,
        coalesce(order_totals.discount_amount, 0) as discount_amount,
        coalesce(order_totals.net_revenue, 0) as net_revenue,
        coalesce(order_totals.cost_amount, 0) as cost_amount,
        coalesce(order_totals.gross_margin, 0) as gross_margin,
        orders_to_refresh.shipping_amount,
        orders_to_refresh.tax_amount,
        orders_to_refresh.customer_order_number,
        orders_to_refresh.days_since_previous_order,
        -- booleans
        orders_to_refresh.is_sale,
        orders_to_refresh.is_first_order,
        -- dates
        orders_to_refresh.order_date,
        -- timestamps
        orders_to_refresh.ordered_at,
        greatest(
            orders_to_refresh.updated_at, order_totals.updated_at
        ) as updated_at
    from orders_to_refresh
    left join order_totals
        on orders_to_refresh.order_id = order_totals.order_id
)

select * from final
