with source as (
    select * from {{ source('shop', 'order_items') }}
),

renamed as (
    select
        -- ids
        order_item_id,
        order_id,
        product_id,
        -- amounts
        quantity,
        unit_price,
        discount_amount,
        -- timestamps
        updated_at
    from source
)

select * from renamed
