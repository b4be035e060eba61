{{
    config(
        indexes=[
            {'columns': ['customer_id']},
        ]
    )
}}

with orders as (
    select * from {{ ref('fct_orders') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

order_statuses as (
    select * from {{ ref('order_statuses') }}
),

as_of as (
    select max(order_date) as as_of_date
    from orders
),

-- orders still waiting for their money: payment pending or failed, on an order
-- whose status still counts as a sale (placed, shipped, delivered); a cancelled or
-- returned order is owed nothing
open_orders as (
    select
        orders.order_id,
        orders.customer_id,
        orders.payment_status,
        orders.order_date,
        as_of.as_of_date,
        orders.net_revenue + orders.shipping_amount + orders.tax_amount
            as amount_due,
        as_of.as_of_date - orders.order_date as days_outstanding
    from orders
    inner join order_statuses
        on orders.status = order_statuses.status
    cross join as_of
    where
        orders.payment_status in ('pending', 'failed')
        and order_statuses.counts_as_sale
),

bucketed as (
    select
        *,
        case
            when days_outstanding <= 7 then 1
            when days_outstanding <= 30 then 2
            when days_outstanding <= 90 then 3
            else 4
        end as ageing_bucket_order
    from open_orders
),

aggregated as (
    select
        customer_id,
        payment_status,
        ageing_bucket_order,
        as_of_date,
        count(*) as orders,
        sum(amount_due) as amount_due,
        max(days_outstanding) as max_days_outstanding,
        min(order_date) as oldest_order_date,
        max(order_date) as latest_order_date
    from bucketed
    group by customer_id, payment_status, ageing_bucket_order, as_of_date
),

final as (
    select
        aggregated.customer_id::text as customer_id,
        aggregated.payment_status::text as payment_status,
        (
            case aggregated.ageing_bucket_order
                when 1 then '0-7'
                when 2 then '8-30'
                when 3 then '31-90'
                else '90+'
            end
        )::text as ageing_bucket,
        -- an anonymous order (no customer) is still owed: kept, labelled
        coalesce(customers.full_name, 'Unknown')::text as customer_name,
        customers.email::text as email,
        aggregated.ageing_bucket_order::integer as ageing_bucket_order,
        aggregated.orders::bigint as orders,
        aggregated.amount_due::numeric as amount_due,
        aggregated.max_days_outstanding::integer as max_days_outstanding,
        aggregated.oldest_order_date::date as oldest_order_date,
        aggregated.latest_order_date::date as latest_order_date,
        aggregated.as_of_date::date as as_of_date
    from aggregated
    left join customers
        on aggregated.customer_id = customers.customer_id
)

select * from final
