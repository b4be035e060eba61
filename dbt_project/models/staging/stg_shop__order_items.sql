with source as (
    -- xmin: the transaction that wrote this version of the row (see row_xmin)
    select
        *,
        xmin as row_xmin
    from {{ source('shop', 'order_items') }}
),

renamed as (
    select
        -- ids
        order_item_id,
        order_id,
        product_id,
        -- amounts
        quantity as units,
        unit_price,
        discount_amount,
        -- change tracking
        row_xmin,
        -- timestamps
        updated_at
    from source
)

select * from renamed
