with orders as (
    select * from {{ ref('fct_orders') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

sale_orders as (
    select
        order_id,
        customer_id,
        date_trunc('month', order_date)::date as month_start_date,
        units,
        net_revenue,
        cost_amount,
        gross_margin
    from orders
    where is_sale
),

first_sale_months as (
    select
        customer_id,
        min(month_start_date) as first_month_start_date
    from sale_orders
    group by customer_id
),

new_customers as (
    select
        first_month_start_date as month_start_date,
        count(*) as new_customers
    from first_sale_months
    group by first_month_start_date
),

monthly as (
    select
        month_start_date,
        sum(net_revenue) as revenue,
        sum(cost_amount) as cogs,
        sum(gross_margin) as gross_profit,
        sum(units) as units,
        count(*) as orders,
        count(distinct customer_id) as customers
    from sale_orders
    group by month_start_date
),

date_range as (
    select
        date_trunc('month', min(order_date) filter (where is_sale))::date
            as first_date,
        max(order_date) as last_date
    from orders
),

-- every month from the first sale to the latest order, so that lag() is a calendar
-- offset even in a month without sales
month_spine as (
    select distinct calendar.month_start_date
    from calendar
    inner join date_range
        on calendar.date_day between date_range.first_date and date_range.last_date
),

filled as (
    select
        month_spine.month_start_date,
        coalesce(monthly.revenue, 0) as revenue,
        coalesce(monthly.cogs, 0) as cogs,
        coalesce(monthly.gross_profit, 0) as gross_profit,
        coalesce(monthly.units, 0) as units,
        coalesce(monthly.orders, 0) as orders,
        coalesce(monthly.customers, 0) as customers,
        coalesce(new_customers.new_customers, 0) as new_customers
    from month_spine
    left join monthly
        on month_spine.month_start_date = monthly.month_start_date
    left join new_customers
        on month_spine.month_start_date = new_customers.month_start_date
),

with_history as (
    select
        *,
        lag(revenue, 1) over (order by month_start_date) as prev_month_revenue,
        lag(revenue, 12) over (order by month_start_date) as prev_year_revenue,
        sum(revenue) over (
            order by month_start_date
            rows between unbounded preceding and current row
        ) as cumulative_revenue
    from filled
),

final as (
    select
        to_char(month_start_date, 'YYYY-MM')::text as year_month,
        revenue::numeric(18, 2) as revenue,
        cogs::numeric(18, 2) as cogs,
        gross_profit::numeric(18, 2) as gross_profit,
        units::bigint as units,
        orders::bigint as orders,
        customers::bigint as customers,
        new_customers::bigint as new_customers,
        (revenue / nullif(orders, 0))::numeric(18, 2) as aov,
        (100.0 * gross_profit / nullif(revenue, 0))::numeric(9, 2)
            as gross_margin_pct,
        prev_month_revenue::numeric(18, 2) as prev_month_revenue,
        (
            100.0 * (revenue - prev_month_revenue) / nullif(prev_month_revenue, 0)
        )::numeric(12, 2) as mom_growth_pct,
        prev_year_revenue::numeric(18, 2) as prev_year_revenue,
        (
            100.0 * (revenue - prev_year_revenue) / nullif(prev_year_revenue, 0)
        )::numeric(12, 2) as yoy_growth_pct,
        cumulative_revenue::numeric(18, 2) as cumulative_revenue,
        month_start_date::date as month_start_date
    from with_history
)

select * from final
