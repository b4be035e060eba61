{{
    config(
        indexes=[
            {'columns': ['order_date']},
            {'columns': ['category', 'order_date']},
        ]
    )
}}

with order_items as (
    select * from {{ ref('fct_order_items') }}
),

channels as (
    select * from {{ ref('dim_channels') }}
),

regions as (
    select * from {{ ref('dim_regions') }}
),

aggregated as (
    select
        channel_id,
        ship_region_id as region_id,
        category,
        order_date,
        sum(net_revenue) as revenue,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(cost_amount) as cogs,
        sum(gross_margin) as gross_profit,
        sum(quantity) as units,
        count(distinct order_id) as orders,
        count(distinct customer_id) as customers
    from order_items
    where is_sale
    group by channel_id, ship_region_id, category, order_date
),

final as (
    select
        aggregated.channel_id::integer as channel_id,
        aggregated.region_id::integer as region_id,
        channels.channel_name::text as channel_name,
        channels.channel_type::text as channel_type,
        regions.region_name::text as region_name,
        aggregated.category::text as category,
        aggregated.revenue::numeric(18, 2) as revenue,
        aggregated.gross_amount::numeric(18, 2) as gross_amount,
        aggregated.discount_amount::numeric(18, 2) as discount_amount,
        aggregated.cogs::numeric(18, 2) as cogs,
        aggregated.gross_profit::numeric(18, 2) as gross_profit,
        aggregated.units::bigint as units,
        aggregated.orders::bigint as orders,
        aggregated.customers::bigint as customers,
        aggregated.order_date::date as order_date
    from aggregated
    inner join channels
        on aggregated.channel_id = channels.channel_id
    inner join regions
        on aggregated.region_id = regions.region_id
)

select * from final
