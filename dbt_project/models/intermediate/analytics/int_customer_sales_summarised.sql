with orders as (
    select * from {{ ref('fct_orders') }}
),

as_of as (
    select max(order_date) as as_of_date
    from orders
),

summarised as (
    select
        customer_id,
        count(*) as sale_orders,
        sum(units) as units,
        sum(net_revenue) as revenue,
        sum(cost_amount) as cogs,
        sum(gross_margin) as gross_profit,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from orders
    where is_sale
    group by customer_id
),

final as (
    select
        summarised.customer_id,
        summarised.sale_orders,
        summarised.units,
        summarised.revenue,
        summarised.cogs,
        summarised.gross_profit,
        summarised.first_order_date,
        summarised.last_order_date,
        as_of.as_of_date
    from summarised
    cross join as_of
)

select * from final
