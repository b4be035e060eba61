{{
    config(
        indexes=[
            {'columns': ['date_day'], 'unique': true},
        ]
    )
}}

with orders as (
    select * from {{ ref('fct_orders') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

first_sale_dates as (
    select
        customer_id,
        min(order_date) as first_sale_date
    from orders
    where is_sale
    group by customer_id
),

new_customers as (
    select
        first_sale_date as date_day,
        count(*) as new_customers
    from first_sale_dates
    group by first_sale_date
),

daily_sales as (
    select
        order_date as date_day,
        sum(net_revenue) as revenue,
        sum(cost_amount) as cogs,
        sum(gross_margin) as gross_profit,
        sum(units) as units,
        count(*) as orders,
        count(distinct customer_id) as customers
    from orders
    where is_sale
    group by order_date
),

daily_all_orders as (
    select
        order_date as date_day,
        count(*) as orders_placed,
        count(*) filter (where not is_sale) as non_sale_orders
    from orders
    group by order_date
),

date_range as (
    select
        min(order_date) as first_date,
        max(order_date) as last_date
    from orders
),

-- every day from the first to the latest order, days without orders included
day_spine as (
    select calendar.date_day
    from calendar
    inner join date_range
        on calendar.date_day between date_range.first_date and date_range.last_date
),

filled as (
    select
        day_spine.date_day,
        coalesce(daily_sales.revenue, 0) as revenue,
        coalesce(daily_sales.cogs, 0) as cogs,
        coalesce(daily_sales.gross_profit, 0) as gross_profit,
        coalesce(daily_sales.units, 0) as units,
        coalesce(daily_sales.orders, 0) as orders,
        coalesce(daily_sales.customers, 0) as customers,
        coalesce(new_customers.new_customers, 0) as new_customers,
        coalesce(daily_all_orders.orders_placed, 0) as orders_placed,
        coalesce(daily_all_orders.non_sale_orders, 0) as non_sale_orders
    from day_spine
    left join daily_sales
        on day_spine.date_day = daily_sales.date_day
    left join new_customers
        on day_spine.date_day = new_customers.date_day
    left join daily_all_orders
        on day_spine.date_day = daily_all_orders.date_day
),

final as (
    select
        revenue::numeric(18, 2) as revenue,
        cogs::numeric(18, 2) as cogs,
        gross_profit::numeric(18, 2) as gross_profit,
        units::bigint as units,
        orders::bigint as orders,
        customers::bigint as customers,
        new_customers::bigint as new_customers,
        orders_placed::bigint as orders_placed,
        non_sale_orders::bigint as non_sale_orders,
        (revenue / nullif(orders, 0))::numeric(18, 2) as aov,
        (100.0 * gross_profit / nullif(revenue, 0))::numeric(9, 2)
            as gross_margin_pct,
        (
            sum(revenue) over (
                order by date_day
                rows between unbounded preceding and current row
            )
        )::numeric(18, 2) as cumulative_revenue,
        date_day::date as date_day
    from filled
)

select * from final
