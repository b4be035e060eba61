-- no fact row without its dimension row: every foreign key of both facts finds
-- its dimension (the nullable customer, channel, region and promotion ids only
-- when set: unknown ones stay null). Reads the fact rows of
-- their latest build (see def_test_scope).
with orders as (
    select * from {{ latest_build_rows(ref('fct_orders')) }} as written_orders
),

order_items as (
    select * from {{ latest_build_rows(ref('fct_order_items')) }} as written_lines
),

customers as (
    select * from {{ ref('dim_customers') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

channels as (
    select * from {{ ref('dim_channels') }}
),

regions as (
    select * from {{ ref('dim_regions') }}
),

promotions as (
    select * from {{ ref('dim_promotions') }}
),

dates as (
    select * from {{ ref('dim_date') }}
),

order_orphans as (
    select
        'fct_orders' as fact,
        orders.order_id as fact_key,
        concat_ws(
            ', ',
            case
                when
                    orders.customer_id is not null
                    and customers.customer_id is null
                    then 'customer'
            end,
            case
                when
                    orders.channel_id is not null
                    and channels.channel_id is null
                    then 'channel'
            end,
            case
                when
                    orders.ship_region_id is not null
                    and regions.region_id is null
                    then 'ship_region'
            end,
            case
                when
                    orders.promotion_id is not null
                    and promotions.promotion_id is null
                    then 'promotion'
            end,
            case when dates.date_day is null then 'order_date' end
        ) as missing_dimensions
    from orders
    left join customers
        on orders.customer_id = customers.customer_id
    left join channels
        on orders.channel_id = channels.channel_id
    left join regions
        on orders.ship_region_id = regions.region_id
    left join promotions
        on orders.promotion_id = promotions.promotion_id
    left join dates
        on orders.order_date = dates.date_day
),

line_orphans as (
    select
        'fct_order_items' as fact,
        order_items.order_item_id as fact_key,
        concat_ws(
            ', ',
            case
                when
                    order_items.customer_id is not null
                    and customers.customer_id is null
                    then 'customer'
            end,
            case when products.product_id is null then 'product' end,
            case
                when
                    order_items.channel_id is not null
                    and channels.channel_id is null
                    then 'channel'
            end,
            case
                when
                    order_items.ship_region_id is not null
                    and regions.region_id is null
                    then 'ship_region'
            end,
            case
                when
                    order_items.promotion_id is not null
                    and promotions.promotion_id is null
                    then 'promotion'
            end,
            case when dates.date_day is null then 'order_date' end
        ) as missing_dimensions
    from order_items
    left join customers
        on order_items.customer_id = customers.customer_id
    left join products
        on order_items.product_id = products.product_id
    left join channels
        on order_items.channel_id = channels.channel_id
    left join regions
        on order_items.ship_region_id = regions.region_id
    left join promotions
        on order_items.promotion_id = promotions.promotion_id
    left join dates
        on order_items.order_date = dates.date_day
)

select * from order_orphans
where missing_dimensions != ''

union all

select * from line_orphans
where missing_dimensions != ''
