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
            "{{ delete_orders_missing_from_raw() }}",
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
        is_first_order
    from {{ this }}
),

-- orders written in raw since this fact's latest build (new, changed or
-- soft-deleted, whichever clock stamped their updated_at; orders without lines
-- included) or changed or soft-deleted within the look-back window: one pass over
-- raw, no comparison with the loaded rows
written_orders as (
    select order_id
    from raw_orders
    where
        {{ written_since_last_build() }}
        or updated_at >= {{ lookback_cutoff() }}
        or deleted_at >= {{ lookback_cutoff() }}
),

deleted_orders as (
    select order_id
    from raw_orders
    where is_deleted
),

-- the orders of raw the fact may not hold: the written and the soft-deleted ones
-- (the fact holds every other order of raw) ...
candidate_orders as (
    select written_orders.order_id
    from written_orders

    union

    select deleted_orders.order_id
    from deleted_orders
),

-- ... and how many of them it does not hold ("= any(array(...))" here and below:
-- index lookups, not joins)
unloaded_orders as (
    select
        (select count(*) as candidate_count from candidate_orders)
        - (
            select count(*) as loaded_count
            from loaded
            where
                loaded.order_id = any(array(
                    select candidate_orders.order_id from candidate_orders
                ))
        ) as order_count
),

-- the lines fct_order_items (re)wrote since this fact last ran: a line added,
-- changed, moved or removed, or its order changed (read through the index on
-- refreshed_at)
rewritten_lines as (
    select order_items.order_id
    from order_items
    where order_items.refreshed_at > {{ last_refreshed_at() }}
),

changed_orders as (
    select written_orders.order_id
    from written_orders

    union

    -- soft-deleted orders still loaded, however long ago they were deleted
    select loaded.order_id
    from loaded
    where
        loaded.order_id = any(array(
            select deleted_orders.order_id from deleted_orders
        ))

    union

    -- orders gone from raw but still loaded. The loaded orders still in raw are
    -- the orders of raw minus those not loaded: only when the fact holds more
    -- orders than that are the loaded orders compared with raw
    select loaded.order_id
    from loaded
    where
        (
            select count(all_loaded.order_id) as loaded_count
            from loaded as all_loaded
        )
        > (select count(*) as raw_count from raw_orders)
        - (select unloaded_orders.order_count from unloaded_orders)
        and not exists (
            select raw_orders.order_id
            from raw_orders
            where raw_orders.order_id = loaded.order_id
        )

    union

    select rewritten_lines.order_id
    from rewritten_lines

    union

    -- orders that lost all their lines (no line left to be re-stamped). The lines
    -- should add up to the item counts of the loaded orders whose lines were
    -- neither rewritten nor dropped with a soft-deleted order, plus the rewritten
    -- lines: only when they do not are the loaded orders compared with the lines
    select loaded.order_id
    from loaded
    where
        (select count(*) as line_count from order_items)
        != (
            select coalesce(sum(all_loaded.item_count), 0) as item_count
            from loaded as all_loaded
        )
        - (
            select coalesce(sum(touched.item_count), 0) as item_count
            from loaded as touched
            where
                touched.order_id = any(array(
                    select rewritten_lines.order_id from rewritten_lines
                    union
                    select deleted_orders.order_id from deleted_orders
                ))
        )
        + (select count(*) as line_count from rewritten_lines)
        and loaded.item_count > 0
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
    where
        raw_orders.order_id = any(array(
            select changed_orders.order_id from changed_orders
        ))

    union

    select loaded.customer_id
    from loaded
    where
        loaded.order_id = any(array(
            select changed_orders.order_id from changed_orders
        ))
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

    union all

    -- anonymous orders (no customer) have no history: rewrite the changed ones
    -- ("customer_id is null" is pushed down into the view like the filter above)
    select orders.*
    from orders
    where
        orders.customer_id is null
        and orders.order_id = any(array(
            select changed_orders.order_id from changed_orders
        ))
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
        {{ source_snapshot_xmin() }} as source_xmin
    from orders_to_refresh
    left join order_totals
        on orders_to_refresh.order_id = order_totals.order_id
)

select * from final
