{{
    config(
        indexes=[
            {'columns': ['cohort_month']},
        ]
    )
}}

-- one row per customer and month with a sale (incremental: only the changed
-- months are aggregated again from the fact)
with customer_months as (
    select * from {{ ref('int_customer_months_summarised') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

cohorts as (
    select
        customer_id,
        min(activity_month) as cohort_month
    from customer_months
    group by customer_id
),

cohort_sizes as (
    select
        cohort_month,
        count(*) as cohort_size
    from cohorts
    group by cohort_month
),

-- whole calendar months between the cohort month and the activity month
customer_activity as (
    select
        cohorts.cohort_month,
        customer_months.orders,
        customer_months.net_revenue,
        cast((
            (
                extract(year from customer_months.activity_month)
                - extract(year from cohorts.cohort_month)
            ) * 12
            + extract(month from customer_months.activity_month)
            - extract(month from cohorts.cohort_month)
        ) as integer) as months_since_first_order
    from customer_months
    inner join cohorts
        on customer_months.customer_id = cohorts.customer_id
),

-- a row of customer_months is one customer active in one month: counting rows
-- counts distinct customers
activity as (
    select
        cohort_month,
        months_since_first_order,
        count(*) as active_customers,
        sum(orders) as orders,
        sum(net_revenue) as net_revenue
    from customer_activity
    group by cohort_month, months_since_first_order
),

-- the latest month with orders closes every cohort's row of the matrix
last_month as (
    select cast(date_trunc('month', max(order_date)) as date) as last_month
    from orders
),

-- the full matrix: every cohort gets a cell for every month up to the last one,
-- months without a returning customer included (retention 0)
cohort_spans as (
    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_size,
        cast((
            (
                extract(year from last_month.last_month)
                - extract(year from cohort_sizes.cohort_month)
            ) * 12
            + extract(month from last_month.last_month)
            - extract(month from cohort_sizes.cohort_month)
        ) as integer) as months_to_last
    from cohort_sizes
    cross join last_month
),

matrix as (
    select
        cohort_month,
        cohort_size,
        {{ integer_series('0', 'months_to_last') }} as months_since_first_order
    from cohort_spans
),

filled as (
    select
        matrix.cohort_month,
        matrix.months_since_first_order,
        matrix.cohort_size,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.orders, 0) as orders,
        coalesce(activity.net_revenue, 0) as net_revenue
    from matrix
    left join activity
        on
            matrix.cohort_month = activity.cohort_month
            and matrix.months_since_first_order = activity.months_since_first_order
),

final as (
    select
        cast(cohort_month as date) as cohort_month,
        cast(months_since_first_order as integer) as months_since_first_order,
        cast({{ year_month('cohort_month') }} as {{ type_text() }})
            as cohort_year_month,
        cast(cohort_size as bigint) as cohort_size,
        cast(active_customers as bigint) as active_customers,
        cast(100.0 * active_customers / cohort_size as numeric(5, 2)) as retention_pct,
        cast(orders as bigint) as orders,
        cast(net_revenue as {{ type_decimal() }}) as net_revenue,
        cast((
            sum(net_revenue) over (
                partition by cohort_month
                order by months_since_first_order
                rows between unbounded preceding and current row
            )
        ) as {{ type_decimal() }}) as cumulative_net_revenue,
        cast((
            sum(net_revenue) over (
                partition by cohort_month
                order by months_since_first_order
                rows between unbounded preceding and current row
            ) / cohort_size
        ) as {{ type_decimal() }}) as cumulative_net_revenue_per_customer,
        cast(
            {{ dbt.dateadd('month', 'months_since_first_order', 'cohort_month') }}
            as date
        ) as activity_month
    from filled
)

select * from final
