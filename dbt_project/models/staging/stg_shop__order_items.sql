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
        -- an export gives the unit price, the line amount (units x unit price,
        -- before discount) or both: each is derived from the other when missing
        quantity as units,
        coalesce(unit_price, line_amount / quantity) as unit_price,
        coalesce(line_amount, quantity * unit_price) as line_amount,
        discount_amount,
        -- change tracking
        synced_at,
        -- timestamps
        updated_at
    from source
)

select * from renamed
