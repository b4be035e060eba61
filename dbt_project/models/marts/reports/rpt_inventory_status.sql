{{
    config(
        indexes=[
            {'columns': ['product_id'], 'unique': true},
            {'columns': ['category']},
        ]
    )
}}

with products as (
    select * from {{ ref('dim_products') }}
),

order_items as (
    select * from {{ ref('fct_order_items') }}
),

-- the latest order date in the data, not the wall clock: generated history stays
-- meaningful whenever it is built
as_of as (
    select max(order_date) as as_of_date
    from {{ ref('fct_orders') }}
),

recent_sales as (
    select
        order_items.product_id,
        sum(order_items.units) as units_sold_30d
    from order_items
    cross join as_of
    where
        order_items.is_sale
        and order_items.order_date > as_of.as_of_date - 30
        and order_items.order_date <= as_of.as_of_date
    group by order_items.product_id
),

joined as (
    select
        products.product_id,
        products.sku,
        products.product_name,
        products.category,
        products.subcategory,
        products.stock_quantity,
        products.reorder_point,
        products.unit_cost,
        products.list_price,
        products.stock_value,
        products.is_below_reorder,
        products.is_active,
        as_of.as_of_date,
        coalesce(recent_sales.units_sold_30d, 0) as units_sold_30d,
        coalesce(recent_sales.units_sold_30d, 0) / 30.0 as avg_daily_units
    from products
    cross join as_of
    left join recent_sales
        on products.product_id = recent_sales.product_id
),

final as (
    select
        product_id::text as product_id,
        sku::text as sku,
        product_name::text as product_name,
        category::text as category,
        subcategory::text as subcategory,
        (
            -- an unknown stock is not tracked, never out of stock
            case
                when stock_quantity is null then 'not_tracked'
                when stock_quantity = 0 then 'out_of_stock'
                when is_below_reorder then 'below_reorder'
                else 'in_stock'
            end
        )::text as stock_status,
        stock_quantity::integer as stock_quantity,
        reorder_point::integer as reorder_point,
        greatest(reorder_point - stock_quantity, 0)::integer as reorder_gap,
        unit_cost::numeric as unit_cost,
        list_price::numeric as list_price,
        stock_value::numeric as stock_value,
        units_sold_30d::bigint as units_sold_30d,
        avg_daily_units::numeric(12, 4) as avg_daily_units,
        (stock_quantity / nullif(avg_daily_units, 0))::numeric(12, 1)
            as days_of_cover,
        is_below_reorder::boolean as is_below_reorder,
        is_active::boolean as is_active,
        as_of_date::date as as_of_date
    from joined
)

select * from final
