-- soft-deleted orders (and their lines) are gone from both facts
with raw_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

order_items as (
    select * from {{ ref('fct_order_items') }}
),

deleted as (
    select order_id from raw_orders
    where is_deleted
)

select
    'fct_orders' as fact,
    orders.order_id
from orders
inner join deleted
    on orders.order_id = deleted.order_id

union all

select
    'fct_order_items' as fact,
    order_items.order_id
from order_items
inner join deleted
    on order_items.order_id = deleted.order_id
