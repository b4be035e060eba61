-- money in = money out: the net revenue of fct_order_items equals the same sum
-- computed straight from the raw sources for the same live (non-deleted) orders,
-- in total and per order (returns the orders that differ, or the total if only
-- the total differs)
with raw_orders as (
    select * from {{ source('shop', 'orders') }}
),

raw_order_items as (
    select * from {{ source('shop', 'order_items') }}
),

fact_lines as (
    select * from {{ ref('fct_order_items') }}
),

raw_by_order as (
    select
        raw_order_items.order_id,
        count(*) as line_count,
        sum(
            raw_order_items.quantity * raw_order_items.unit_price
            - raw_order_items.discount_amount
        ) as net_revenue
    from raw_order_items
    inner join raw_orders
        on raw_order_items.order_id = raw_orders.order_id
    where raw_orders.deleted_at is null
    group by raw_order_items.order_id
),

fact_by_order as (
    select
        order_id,
        count(*) as line_count,
        sum(net_revenue) as net_revenue
    from fact_lines
    group by order_id
),

compared as (
    select
        coalesce(raw_by_order.order_id, fact_by_order.order_id) as order_id,
        raw_by_order.line_count as raw_line_count,
        fact_by_order.line_count as fact_line_count,
        raw_by_order.net_revenue as raw_net_revenue,
        fact_by_order.net_revenue as fact_net_revenue
    from raw_by_order
    full outer join fact_by_order
        on raw_by_order.order_id = fact_by_order.order_id
),

totals as (
    select
        cast(null as bigint) as order_id,
        sum(raw_line_count) as raw_line_count,
        sum(fact_line_count) as fact_line_count,
        sum(raw_net_revenue) as raw_net_revenue,
        sum(fact_net_revenue) as fact_net_revenue
    from compared
)

select * from compared
where
    raw_line_count is distinct from fact_line_count
    or raw_net_revenue is distinct from fact_net_revenue

union all

select * from totals
where
    raw_line_count is distinct from fact_line_count
    or raw_net_revenue is distinct from fact_net_revenue
