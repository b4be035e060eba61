-- live (not soft-deleted) orders with their order date and the sale flag
with orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_statuses as (
    select * from {{ ref('order_statuses') }}
),

payment_statuses as (
    select * from {{ ref('payment_statuses') }}
),

classified as (
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
        -- amounts
        orders.shipping_amount,
        orders.tax_amount,
        -- booleans
        coalesce(
            order_statuses.counts_as_sale and payment_statuses.counts_as_sale,
            false
        ) as is_sale,
        -- dates
        -- the calendar day in the reporting time zone (dbt_project.yml)
        cast({{ in_reporting_timezone('orders.ordered_at') }} as date) as order_date,
        -- timestamps
        orders.ordered_at,
        orders.updated_at
    from orders
    left join order_statuses
        on orders.status = order_statuses.status
    left join payment_statuses
        on orders.payment_status = payment_statuses.payment_status
    where not orders.is_deleted
)

select * from classified
