-- lines of live orders, priced: net revenue, cost at order time and gross margin
with order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

orders as (
    select * from {{ ref('int_orders_classified') }}
),

product_versions as (
    select * from {{ ref('int_product_versions') }}
),

product_costs as (
    -- validity of each product version; the earliest version also covers the time
    -- before it was first recorded, the current one everything after
    select
        product_id,
        category,
        subcategory,
        unit_cost,
        case
            when
                row_number() over (
                    partition by product_id
                    order by dbt_valid_from
                ) = 1
                then {{ timestamp_infinity('-') }}
            else dbt_valid_from
        end as valid_from,
        coalesce(dbt_valid_to, {{ timestamp_infinity() }}) as valid_to
    from product_versions
),

priced as (
    select
        -- ids
        order_items.order_item_id,
        order_items.order_id,
        order_items.product_id,
        orders.customer_id,
        orders.channel_id,
        orders.ship_region_id,
        orders.promotion_id,
        -- strings
        orders.status,
        orders.payment_status,
        coalesce(product_costs.category, 'Unknown') as category,
        coalesce(product_costs.subcategory, 'Unknown') as subcategory,
        -- amounts (exact: nothing is rounded). An unknown unit cost leaves the
        -- cost and the margin of the line unknown (null), never a 100 % margin
        order_items.units,
        order_items.unit_price,
        order_items.line_amount as gross_amount,
        order_items.discount_amount,
        order_items.line_amount - order_items.discount_amount as net_revenue,
        product_costs.unit_cost,
        order_items.units * product_costs.unit_cost as cost_amount,
        order_items.line_amount
        - order_items.discount_amount
        - order_items.units * product_costs.unit_cost as gross_margin,
        -- booleans
        orders.is_sale,
        -- dates
        orders.order_date,
        -- timestamps
        orders.ordered_at,
        greatest(order_items.updated_at, orders.updated_at) as updated_at,
        order_items.updated_at as line_updated_at,
        orders.updated_at as order_updated_at,
        -- the same order id, from the orders side of the join: postgres applies a
        -- filter "order_id = any(...)" to the lines only (it does not carry it
        -- across the join); a filter on this column reaches the orders, read
        -- through their primary key instead of whole
        orders.order_id as order_id_from_orders
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    left join product_costs
        on
            order_items.product_id = product_costs.product_id
            and orders.ordered_at >= product_costs.valid_from
            and orders.ordered_at < product_costs.valid_to
)

select * from priced
