{{
    config(
        pre_hook=["{{ tune_mart_transaction() }}"],
    )
}}

with orders as (
    select * from {{ ref('fct_orders') }}
),

dims as (
    select * from {{ ref('dim_regions') }}
),

-- two steps, so that the distinct customers come from hash aggregates on integer
-- keys instead of a sort: per region and customer first
region_customers as (
    select
        ship_region_id as region_id,
        customer_id,
        sum(net_revenue) as revenue,
        sum(cost_amount) as cogs,
        sum(gross_margin) as gross_profit,
        sum(units) as units,
        count(*) as orders
    from orders
    where is_sale
    group by ship_region_id, customer_id
),

aggregated as (
    select
        region_id,
        sum(revenue) as revenue,
        sum(cogs) as cogs,
        sum(gross_profit) as gross_profit,
        sum(units) as units,
        sum(orders) as orders,
        count(*) as customers
    from region_customers
    group by region_id
),

-- every region, also those without a sale
joined as (
    select
        dims.region_id,
        dims.region_name::text as region_name,
        coalesce(aggregated.revenue, 0) as revenue,
        coalesce(aggregated.cogs, 0) as cogs,
        coalesce(aggregated.gross_profit, 0) as gross_profit,
        coalesce(aggregated.units, 0) as units,
        coalesce(aggregated.orders, 0) as orders,
        coalesce(aggregated.customers, 0) as customers
    from dims
    left join aggregated
        on dims.region_id = aggregated.region_id
),

final as (
    select
        region_id::integer as region_id,
        (row_number() over (order by revenue desc, region_id asc))::bigint
            as region_rank,
        region_name,
        revenue::numeric(18, 2) as revenue,
        cogs::numeric(18, 2) as cogs,
        gross_profit::numeric(18, 2) as gross_profit,
        units::bigint as units,
        orders::bigint as orders,
        customers::bigint as customers,
        (revenue / nullif(orders, 0))::numeric(18, 2) as aov,
        (100.0 * gross_profit / nullif(revenue, 0))::numeric(9, 2)
            as gross_margin_pct,
        (100.0 * revenue / nullif(sum(revenue) over (), 0))::numeric(9, 4)
            as revenue_share_pct
    from joined
)

select * from final
