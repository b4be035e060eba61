-- fct_orders totals equal the sum of its lines in fct_order_items, each line
-- carries the same order attributes as its order, and no line lacks its order.
-- One pass over each fact: the line totals are full-outer-joined to the orders.
-- Reads the orders either fact wrote in its latest build (see def_test_scope):
-- an order and its lines can only disagree where one of them was rewritten.
with scope as (
    select written_orders.order_id
    from {{ latest_build_rows(ref('fct_orders')) }} as written_orders
    union
    select written_lines.order_id
    from {{ latest_build_rows(ref('fct_order_items')) }} as written_lines
),

orders as (
    select * from {{ ref('fct_orders') }}
    where order_id in (select scope.order_id from scope)
),

order_items as (
    select * from {{ ref('fct_order_items') }}
    where order_id in (select scope.order_id from scope)
),

line_totals as (
    select
        order_id,
        count(*) as item_count,
        sum(units) as units,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_revenue) as net_revenue,
        sum(cost_amount) as cost_amount,
        sum(gross_margin) as gross_margin,
        bool_and(is_sale) as all_sale,
        bool_or(is_sale) as any_sale,
        min(customer_id) as min_customer_id,
        max(customer_id) as max_customer_id,
        min(order_date) as min_order_date,
        max(order_date) as max_order_date
    from order_items
    group by order_id
)

select
    coalesce(orders.order_id, line_totals.order_id) as order_id,
    orders.net_revenue,
    line_totals.net_revenue as lines_net_revenue
from orders
full outer join line_totals
    on orders.order_id = line_totals.order_id
where
    -- lines whose order is missing from fct_orders
    orders.order_id is null
    or orders.item_count != coalesce(line_totals.item_count, 0)
    or orders.units != coalesce(line_totals.units, 0)
    or orders.gross_amount != coalesce(line_totals.gross_amount, 0)
    or orders.discount_amount != coalesce(line_totals.discount_amount, 0)
    or orders.net_revenue != coalesce(line_totals.net_revenue, 0)
    or orders.cost_amount != coalesce(line_totals.cost_amount, 0)
    or orders.gross_margin != coalesce(line_totals.gross_margin, 0)
    or orders.is_sale != coalesce(line_totals.all_sale, orders.is_sale)
    or orders.is_sale != coalesce(line_totals.any_sale, orders.is_sale)
    or orders.customer_id != coalesce(line_totals.min_customer_id, orders.customer_id)
    or orders.customer_id != coalesce(line_totals.max_customer_id, orders.customer_id)
    or orders.order_date != coalesce(line_totals.min_order_date, orders.order_date)
    or orders.order_date != coalesce(line_totals.max_order_date, orders.order_date)
