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
        cast(product_id as {{ type_text() }}) as product_id,
        cast(sku as {{ type_text() }}) as sku,
        cast(product_name as {{ type_text() }}) as product_name,
        cast(category as {{ type_text() }}) as category,
        cast(subcategory as {{ type_text() }}) as subcategory,
        cast((
            -- an unknown stock is not tracked, never out of stock
            case
                when stock_quantity is null then 'not_tracked'
                when stock_quantity = 0 then 'out_of_stock'
                when is_below_reorder then 'below_reorder'
                else 'in_stock'
            end
        ) as {{ type_text() }}) as stock_status,
        cast(stock_quantity as integer) as stock_quantity,
        cast(reorder_point as integer) as reorder_point,
        cast(greatest(reorder_point - stock_quantity, 0) as integer) as reorder_gap,
        cast(unit_cost as {{ type_decimal() }}) as unit_cost,
        cast(list_price as {{ type_decimal() }}) as list_price,
        cast(stock_value as {{ type_decimal() }}) as stock_value,
        cast(units_sold_30d as bigint) as units_sold_30d,
        cast(avg_daily_units as numeric(12, 4)) as avg_daily_units,
        cast(stock_quantity / nullif(avg_daily_units, 0) as numeric(12, 1))
            as days_of_cover,
        cast(is_below_reorder as boolean) as is_below_reorder,
        cast(is_active as boolean) as is_active,
        cast(as_of_date as date) as as_of_date
    from joined
)

select * from final
