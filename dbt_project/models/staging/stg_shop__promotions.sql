with source as (
    select * from {{ source('shop', 'promotions') }}
),

renamed as (
    select
        -- ids
        promotion_id,
        -- strings
        trim(promo_code) as promo_code,
        nullif(trim(description), '') as description,
        -- numerics
        discount_pct,
        -- timestamps
        starts_at,
        ends_at,
        updated_at
    from source
)

select * from renamed
