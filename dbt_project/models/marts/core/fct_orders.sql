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
            {'columns': ['refreshed_at']},
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

-- one row per live order; see the doc block def_incremental_facts
with orders as (
    select * from {{ ref('int_orders_with_customer_history') }}
),

-- the order totals add up the fact's own lines (already priced and up to date:
-- fct_order_items runs first); "not materialized": read through its indexes
order_items as not materialized (
    select * from {{ ref('fct_order_items') }}
),

{% if is_incremental() %}

-- change detection reads staging: it must also see soft-deleted orders ("not
-- materialized" lets postgres inline these and read only the columns it needs)
raw_orders as not materialized (
    select * from {{ ref('stg_shop__orders') }}
),

loaded as not materialized (
    select
        order_id,
        customer_id,
        item_count,
        customer_order_number,
        days_since_previous_order,
        is_first_order,
        order_updated_at
    from {{ this }}
),

changed_orders as (
    -- one pass over raw and the loaded orders, joined on the key: live orders not
    -- loaded yet or whose order row changed since it was loaded, whatever their
    -- timestamps (rows stamped by another clock, e.g. an appended day older than an
    -- edit made in the app; orders without lines included), soft-deleted or
    -- vanished orders still loaded, and the look-back window (orders changed or
    -- soft-deleted within it)
    select coalesce(raw_orders.order_id, loaded.order_id) as order_id
    from raw_orders
    full outer join loaded
        on raw_orders.order_id = loaded.order_id
    where
        raw_orders.order_id is null
        or (raw_orders.is_deleted and loaded.order_id is not null)
        or (
            not raw_orders.is_deleted
            and raw_orders.updated_at is distinct from loaded.order_updated_at
        )
        or raw_orders.updated_at >= {{ lookback_cutoff() }}
        or raw_orders.deleted_at >= {{ lookback_cutoff() }}

    union

    -- lines (re)written by fct_order_items since this fact last ran: a line added,
    -- changed, moved or removed, or its order changed (read through the index on
    -- refreshed_at)
    select order_items.order_id
    from order_items
    where order_items.refreshed_at > {{ last_refreshed_at() }}

    union

    -- orders that lost all their lines (no line left to be re-stamped)
    select loaded.order_id
    from loaded
    where
        loaded.item_count > 0
        and not exists (
            select order_items.order_id
            from order_items
            where order_items.order_id = loaded.order_id
        )
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
        ) as updated_at,
        orders_to_refresh.updated_at as order_updated_at,
        {{ run_stamp() }} as refreshed_at
    from orders_to_refresh
    left join order_totals
        on orders_to_refresh.order_id = order_totals.order_id
)

select * from final
