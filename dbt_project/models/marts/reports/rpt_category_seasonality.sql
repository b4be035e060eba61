-- rolled up from the monthly sales mart: net revenue is additive over channels
-- and regions
with sales_monthly as (
    select * from {{ ref('rpt_sales_monthly') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

monthly as (
    select
        category,
        month_start_date,
        sum(net_revenue) as net_revenue
    from sales_monthly
    group by category, month_start_date
),

first_sale_month as (
    select min(month_start_date) as first_date
    from monthly
),

last_order_date as (
    select max(order_date) as last_date
    from orders
),

date_range as (
    select
        first_sale_month.first_date,
        last_order_date.last_date
    from first_sale_month
    cross join last_order_date
),

-- every month from the first sale to the latest order, for every category, so a
-- month without sales counts as zero net revenue
month_spine as (
    select distinct calendar.month_start_date
    from calendar
    inner join date_range
        on calendar.date_day between date_range.first_date and date_range.last_date
),

categories as (
    select distinct category
    from monthly
),

filled as (
    select
        categories.category,
        month_spine.month_start_date,
        {{ calendar_part('year', 'month_spine.month_start_date') }} as year,
        {{ calendar_part('month', 'month_spine.month_start_date') }} as month_of_year,
        coalesce(monthly.net_revenue, 0) as net_revenue
    from categories
    cross join month_spine
    left join monthly
        on
            categories.category = monthly.category
            and month_spine.month_start_date = monthly.month_start_date
),

-- each month against the average month of the same category and year
indexed as (
    select
        *,
        net_revenue
        / nullif(avg(net_revenue) over (partition by category, year), 0)
            as month_index
    from filled
),

aggregated as (
    select
        category,
        month_of_year,
        sum(net_revenue) as net_revenue,
        avg(net_revenue) as avg_net_revenue,
        avg(month_index) as seasonality_index,
        count(*) as years_observed
    from indexed
    group by category, month_of_year
),

final as (
    select
        cast(category as {{ type_text() }}) as category,
        cast(month_of_year as integer) as month_of_year,
        cast(
            {{ month_name('make_date(2000, month_of_year, 1)', short=true) }}
            as {{ type_text() }}
        ) as month_name,
        cast(net_revenue as {{ type_decimal() }}) as net_revenue,
        cast(avg_net_revenue as {{ type_decimal() }}) as avg_net_revenue,
        cast(seasonality_index as numeric(10, 4)) as seasonality_index,
        cast(years_observed as integer) as years_observed
    from aggregated
)

select * from final
