{{
    config(
        indexes=[
            {'columns': ['customer_rank'], 'unique': true},
        ]
    )
}}

with customer_sales as (
    select * from {{ ref('int_customer_sales_summarised') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

regions as (
    select * from {{ ref('dim_regions') }}
),

ranked as (
    select
        customer_id,
        sale_orders,
        units,
        revenue,
        gross_profit,
        first_order_date,
        last_order_date,
        row_number() over (order by revenue desc, customer_id asc) as customer_rank,
        sum(revenue) over () as total_revenue,
        sum(revenue) over (
            order by revenue desc, customer_id asc
            rows between unbounded preceding and current row
        ) as cumulative_revenue
    from customer_sales
),

final as (
    select
        ranked.customer_id::bigint as customer_id,
        customers.region_id::integer as region_id,
        ranked.customer_rank::bigint as customer_rank,
        customers.full_name::text as customer_name,
        customers.email::text as email,
        customers.segment::text as segment,
        regions.region_name::text as region_name,
        ranked.revenue::numeric(18, 2) as revenue,
        ranked.gross_profit::numeric(18, 2) as gross_profit,
        ranked.sale_orders::bigint as orders,
        ranked.units::bigint as units,
        (ranked.revenue / ranked.sale_orders)::numeric(18, 2) as aov,
        (100.0 * ranked.revenue / nullif(ranked.total_revenue, 0))::numeric(9, 4)
            as revenue_share_pct,
        (100.0 * ranked.cumulative_revenue / nullif(ranked.total_revenue, 0))::numeric(
            9, 4
        ) as cumulative_revenue_share_pct,
        ranked.first_order_date::date as first_order_date,
        ranked.last_order_date::date as last_order_date
    from ranked
    inner join customers
        on ranked.customer_id = customers.customer_id
    left join regions
        on customers.region_id = regions.region_id
)

select * from final
