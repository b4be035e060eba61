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
        {{ dbt.datediff('orders.order_date', 'as_of.as_of_date', 'day') }}
            as days_outstanding
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
        cast(aggregated.customer_id as {{ type_text() }}) as customer_id,
        cast(aggregated.payment_status as {{ type_text() }}) as payment_status,
        cast((
            case aggregated.ageing_bucket_order
                when 1 then '0-7'
                when 2 then '8-30'
                when 3 then '31-90'
                else '90+'
            end
        ) as {{ type_text() }}) as ageing_bucket,
        -- an anonymous order (no customer) is still owed: kept, labelled
        cast(coalesce(customers.full_name, 'Unknown') as {{ type_text() }})
            as customer_name,
        cast(customers.email as {{ type_text() }}) as email,
        cast(aggregated.ageing_bucket_order as integer) as ageing_bucket_order,
        cast(aggregated.orders as bigint) as orders,
        cast(aggregated.amount_due as {{ type_decimal() }}) as amount_due,
        cast(aggregated.max_days_outstanding as integer) as max_days_outstanding,
        cast(aggregated.oldest_order_date as date) as oldest_order_date,
        cast(aggregated.latest_order_date as date) as latest_order_date,
        cast(aggregated.as_of_date as date) as as_of_date
    from aggregated
    left join customers
        on aggregated.customer_id = customers.customer_id
)

select * from final
