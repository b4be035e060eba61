{{
    config(
        pre_hook=["{{ tune_mart_transaction() }}"],
    )
}}

with orders as (
    select * from {{ ref('fct_orders') }}
),

dims as (
    select * from {{ ref('dim_channels') }}
),

-- two steps, so that the distinct customers come from hash aggregates on integer
-- keys instead of a sort: per channel and customer first
channel_customers as (
    select
        channel_id,
        customer_id,
        sum(net_revenue) as revenue,
        sum(cost_amount) as cogs,
        sum(gross_margin) as gross_profit,
        sum(units) as units,
        count(*) as orders
    from orders
    where is_sale
    group by channel_id, customer_id
),

aggregated as (
    select
        channel_id,
        sum(revenue) as revenue,
        sum(cogs) as cogs,
        sum(gross_profit) as gross_profit,
        sum(units) as units,
        sum(orders) as orders,
        count(*) as customers
    from channel_customers
    group by channel_id
),

-- every channel, also those without a sale
joined as (
    select
        dims.channel_id,
        dims.channel_name::text as channel_name,
        dims.channel_type::text as channel_type,
        coalesce(aggregated.revenue, 0) as revenue,
        coalesce(aggregated.cogs, 0) as cogs,
        coalesce(aggregated.gross_profit, 0) as gross_profit,
        coalesce(aggregated.units, 0) as units,
        coalesce(aggregated.orders, 0) as orders,
        coalesce(aggregated.customers, 0) as customers
    from dims
    left join aggregated
        on dims.channel_id = aggregated.channel_id
),

final as (
    select
        channel_id::integer as channel_id,
        (row_number() over (order by revenue desc, channel_id asc))::bigint
            as channel_rank,
        channel_name,
        channel_type,
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
