-- one row per customer (current state) with their lifetime sales
with customers as (
    select * from {{ ref('stg_shop__customers') }}
),

regions as (
    select * from {{ ref('stg_shop__regions') }}
),

channels as (
    select * from {{ ref('stg_shop__channels') }}
),

countries as (
    select * from {{ ref('countries') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

-- lifetime sales per customer with at least one sale
customer_sales_summarised as (
    select * from {{ ref('int_customer_sales_summarised') }}
),

customer_sales as (
    select
        customer_id,
        orders as lifetime_orders,
        net_revenue as lifetime_net_revenue,
        gross_margin as lifetime_gross_margin,
        first_order_at,
        last_order_at
    from customer_sales_summarised
),

-- the first order of any status: the sign-up time when the source has none
first_orders as (
    select
        customer_id,
        min(ordered_at) as first_ordered_at
    from orders
    where customer_id is not null
    group by customer_id
),

final as (
    select
        -- ids
        customers.customer_id,
        customers.region_id,
        customers.acquisition_channel_id,
        -- strings
        customers.full_name,
        customers.first_name,
        customers.last_name,
        customers.email,
        customers.phone,
        customers.segment,
        customers.city,
        customers.country_code,
        countries.country_name,
        regions.region_name,
        channels.channel_name as acquisition_channel_name,
        -- numerics
        coalesce(customer_sales.lifetime_orders, 0) as lifetime_orders,
        coalesce(customer_sales.lifetime_net_revenue, 0) as lifetime_net_revenue,
        -- null when a cost is unknown (0 for a customer without a sale)
        case
            when customer_sales.customer_id is null then 0
            else customer_sales.lifetime_gross_margin
        end as lifetime_gross_margin,
        -- booleans
        customers.is_active,
        customer_sales.customer_id is not null as has_purchased,
        -- dates
        customers.birth_date,
        -- timestamps
        coalesce(customers.signup_at, first_orders.first_ordered_at) as signup_at,
        customer_sales.first_order_at,
        customer_sales.last_order_at,
        customers.updated_at
    from customers
    left join regions
        on customers.region_id = regions.region_id
    left join channels
        on customers.acquisition_channel_id = channels.channel_id
    left join countries
        on customers.country_code = countries.country_code
    left join customer_sales
        on customers.customer_id = customer_sales.customer_id
    left join first_orders
        on customers.customer_id = first_orders.customer_id
)

select * from final
