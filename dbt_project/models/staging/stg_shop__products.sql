with source as (
    select * from {{ source('shop', 'products') }}
),

renamed as (
    select
        -- ids
        product_id,
        -- strings
        trim(sku) as sku,
        -- optional in an export: a product without a name is shown by its id, one
        -- without a brand or category under 'Unknown'
        coalesce(nullif(trim(product_name), ''), product_id) as product_name,
        coalesce(nullif(trim(category), ''), 'Unknown') as category,
        coalesce(nullif(trim(subcategory), ''), 'Unknown') as subcategory,
        coalesce(nullif(trim(brand), ''), 'Unknown') as brand,
        -- numerics (null = unknown: no margin, inventory not tracked)
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
