-- live orders with the customer's purchase history (numbered over sales only)
with orders as (
    select * from {{ ref('int_orders_classified') }}
),

sales_numbered as (
    select
        order_id,
        customer_id,
        row_number() over customer_sales as customer_order_number,
        lag(order_date) over customer_sales as previous_order_date
    from orders
    where is_sale
    window customer_sales as (
        partition by customer_id
        order by ordered_at, order_id
    )
),

customer_first_sales as (
    select
        customer_id,
        min(ordered_at) as first_order_at
    from orders
    where is_sale
    group by customer_id
),

final as (
    select
        -- ids
        orders.order_id,
        orders.customer_id,
        orders.channel_id,
        orders.ship_region_id,
        orders.promotion_id,
        -- strings
        orders.status,
        orders.payment_status,
        orders.payment_method,
        -- numerics
        orders.shipping_amount,
        orders.tax_amount,
        sales_numbered.customer_order_number,
        orders.order_date
        - sales_numbered.previous_order_date as days_since_previous_order,
        -- booleans
        orders.is_sale,
        coalesce(sales_numbered.customer_order_number = 1, false) as is_first_order,
        -- dates
        orders.order_date,
        -- timestamps
        orders.ordered_at,
        customer_first_sales.first_order_at,
        orders.updated_at
    from orders
    left join sales_numbered
        on orders.order_id = sales_numbered.order_id
    left join customer_first_sales
        on orders.customer_id = customer_first_sales.customer_id
)

select * from final
