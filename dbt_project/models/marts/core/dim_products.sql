-- one row per product (current state) with its stock position
with products as (
    select * from {{ ref('stg_shop__products') }}
),

final as (
    select
        -- ids
        product_id,
        -- strings
        sku,
        product_name,
        category,
        subcategory,
        brand,
        -- numerics
        unit_cost,
        list_price,
        stock_quantity,
        reorder_point,
        stock_quantity * unit_cost as stock_value,
        -- booleans
        stock_quantity < reorder_point as is_below_reorder,
        is_active,
        -- timestamps
        created_at,
        updated_at
    from products
)

select * from final
