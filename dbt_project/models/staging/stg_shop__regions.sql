with source as (
    select * from {{ source('shop', 'regions') }}
),

renamed as (
    select
        -- ids
        region_id,
        -- strings
        trim(region_name) as region_name,
        -- timestamps
        updated_at
    from source
)

select * from renamed
