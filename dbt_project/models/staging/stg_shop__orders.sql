with source as (
    select * from {{ source('shop', 'orders') }}
),

renamed as (
    select
        -- ids
        order_id,
        customer_id,
        channel_id,
        ship_region_id,
        promotion_id,
        -- strings
        lower(trim(status)) as status,
        lower(trim(payment_status)) as payment_status,
        lower(trim(payment_method)) as payment_method,
        -- amounts
        shipping_amount,
        tax_amount,
        -- booleans
        deleted_at is not null as is_deleted,
        -- change tracking
        synced_at,
        -- timestamps
        ordered_at,
        updated_at,
        deleted_at
    from source
)

select * from renamed
