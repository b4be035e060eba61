-- money in = money out: every line of a live (non-deleted) order in raw is in
-- fct_order_items, in the same order and with the net revenue computed straight
-- from raw (the line amount, else quantity * unit_price, less the discount: an
-- export's own line amount is what was charged), and the fact holds no other
-- line; so the net revenue agrees per line, hence per order and in total. Returns
-- the lines that differ (one pass over each table, joined on the line's key).
with raw_orders as (
    select * from {{ source('shop', 'orders') }}
),

raw_order_items as (
    select * from {{ source('shop', 'order_items') }}
),

fact_lines as (
    select * from {{ ref('fct_order_items') }}
),

raw_lines as (
    select
        raw_order_items.order_item_id,
        raw_order_items.order_id,
        coalesce(
            raw_order_items.line_amount,
            raw_order_items.quantity * raw_order_items.unit_price
        )
        - raw_order_items.discount_amount as net_revenue
    from raw_order_items
    inner join raw_orders
        on raw_order_items.order_id = raw_orders.order_id
    where raw_orders.deleted_at is null
)

select
    coalesce(raw_lines.order_item_id, fact_lines.order_item_id) as order_item_id,
    raw_lines.order_id as raw_order_id,
    fact_lines.order_id as fact_order_id,
    raw_lines.net_revenue as raw_net_revenue,
    fact_lines.net_revenue as fact_net_revenue
from raw_lines
full outer join fact_lines
    on raw_lines.order_item_id = fact_lines.order_item_id
where
    raw_lines.order_item_id is null
    or fact_lines.order_item_id is null
    or raw_lines.order_id != fact_lines.order_id
    or raw_lines.net_revenue != fact_lines.net_revenue
