with source as (
    select * from {{ source('shop', 'products') }}
),

renamed as (
    select
        -- ids
        product_id,
        -- strings
        trim(sku) as sku,
        trim(product_name) as product_name,
        trim(category) as category,
        trim(subcategory) as subcategory,
        trim(brand) as brand,
        -- numerics
        unit_cost,
        list_price,
        stock_quantity,
        reorder_point,
        -- booleans
        is_active,
        -- timestamps
        created_at,
        updated_at
    from source
)

select * from renamed
