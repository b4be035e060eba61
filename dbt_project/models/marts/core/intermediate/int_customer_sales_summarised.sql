{{
    config(
        indexes=[
            {'columns': ['customer_id'], 'unique': true},
        ],
        pre_hook=on_postgres(["{{ tune_mart_transaction() }}"]),
    )
}}

-- one row per customer with at least one sale: a table, built once per run, that
-- the customer marts (dim_customers, RFM, LTV) read. Anonymous orders (no
-- customer) are left out
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
        count(*) as orders,
        sum(units) as units,
        sum(net_revenue) as net_revenue,
        -- unknown (null) as soon as one order lacks a cost: never a partial sum
        case when count(*) = count(cost_amount) then sum(cost_amount) end
            as cost_amount,
        case when count(*) = count(gross_margin) then sum(gross_margin) end
            as gross_margin,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at
    from orders
    where is_sale and customer_id is not null
    group by customer_id
),

final as (
    select
        summarised.customer_id,
        summarised.orders,
        summarised.units,
        summarised.net_revenue,
        summarised.cost_amount,
        summarised.gross_margin,
        summarised.first_order_date,
        summarised.last_order_date,
        as_of.as_of_date,
        summarised.first_order_at,
        summarised.last_order_at
    from summarised
    cross join as_of
)

select * from final
