-- live orders with the customer's purchase history (numbered over sales only);
-- one pass of window functions partitioned by customer, so that a filter on
-- customer_id (the incremental fct_orders) is pushed down into this view
with orders as (
    select * from {{ ref('int_orders_classified') }}
),

-- anonymous orders (no customer) all fall into one partition: they get no
-- purchase history (no order number, never a first order)
windowed as (
    select
        *,
        customer_id is not null as is_known_customer,
        is_sale and customer_id is not null as is_customer_sale,
        row_number() over customer_sales as sale_number,
        lag(order_date) over customer_sales as previous_sale_date,
        min(case when is_sale then ordered_at end) over (
            partition by customer_id
        ) as first_sale_at
    from orders
    window customer_sales as (
        partition by customer_id, is_sale
        order by ordered_at, order_id
    )
),

final as (
    select
        -- ids
        order_id,
        customer_id,
        channel_id,
        ship_region_id,
        promotion_id,
        -- strings
        status,
        payment_status,
        payment_method,
        -- numerics
        shipping_amount,
        tax_amount,
        case when is_customer_sale then sale_number end as customer_order_number,
        case
            when is_customer_sale
                then {{ dbt.datediff('previous_sale_date', 'order_date', 'day') }}
        end as days_since_previous_order,
        -- booleans
        is_sale,
        is_customer_sale and sale_number = 1 as is_first_order,
        -- dates
        order_date,
        -- timestamps
        ordered_at,
        case when is_known_customer then first_sale_at end as first_order_at,
        updated_at
    from windowed
)

select * from final
