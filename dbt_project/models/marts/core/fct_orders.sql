{{
    config(
        materialized=incremental_on_postgres(),
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
        pre_hook=on_postgres(["{{ tune_fact_transaction() }}"]),
        post_hook=on_postgres(["{{ delete_rows_not_rewritten() }}"]),
    )
}}

-- one row per live order. An incremental run rewrites the orders written in raw
-- since its previous run, and the other orders of their customers whose history
-- moved (a new, changed or deleted order can renumber them); see the doc block
-- def_incremental_facts
-- inlined on PostgreSQL: each use pushes its filter on customer_id into the
-- view's window over the customer's orders, instead of numbering all orders once
with orders as {{ inlined() }} (
    select * from {{ ref('int_orders_with_customer_history') }}
),

-- the order totals add up the fact's own lines (fct_order_items runs first)
order_items as (
    select * from {{ ref('fct_order_items') }}
),

{% if is_incremental() %}

changed_orders as (
    {{ orders_written_since(sync_watermark()) }}
),

-- their customers, after (raw) and before (loaded) a change of customer
changed_customers as (
    select customer_id
    from {{ ref('stg_shop__orders') }}
    where {{ is_in('order_id', 'select order_id from changed_orders') }}

    union

    select customer_id
    from {{ this }}
    where order_id in (select changed_orders.order_id from changed_orders)
),

-- of those customers' orders, the changed ones and those whose history moved;
-- the others are already right (rewriting them would mark their days changed
-- for every mart downstream)
orders_to_refresh as (
    select orders.*
    from orders
    left join {{ this }} as loaded
        on orders.order_id = loaded.order_id
    where
        {{ is_in('orders.customer_id', 'select customer_id from changed_customers') }}
        and (
            orders.order_id in (select changed_orders.order_id from changed_orders)
            or loaded.order_id is null
            or orders.customer_order_number
            is distinct from loaded.customer_order_number
            or orders.days_since_previous_order
            is distinct from loaded.days_since_previous_order
            or orders.is_first_order is distinct from loaded.is_first_order
        )

    union all

    -- anonymous orders (no customer) have no history
    select *
    from orders
    where
        customer_id is null
        and {{ is_in('order_id', 'select order_id from changed_orders') }}
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
        sum(units) as units,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_revenue) as net_revenue,
        -- unknown (null) as soon as one line lacks a cost: never a partial sum
        case when count(*) = count(cost_amount) then sum(cost_amount) end
            as cost_amount,
        case when count(*) = count(gross_margin) then sum(gross_margin) end
            as gross_margin,
        max(updated_at) as updated_at
    from order_items
    {% if is_incremental() %}
    where order_id in (select orders_to_refresh.order_id from orders_to_refresh)
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
        -- an order without lines costs 0; one with a line of unknown cost: null
        case
            when order_totals.order_id is null then 0
            else order_totals.cost_amount
        end as cost_amount,
        case
            when order_totals.order_id is null then 0
            else order_totals.gross_margin
        end as gross_margin,
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
        {{ run_stamp() }} as refreshed_at,
        -- change tracking
        {{ raw_synced_until() }} as source_synced_at
    from orders_to_refresh
    left join order_totals
        on orders_to_refresh.order_id = order_totals.order_id
)

select * from final
