with source as (
    select * from {{ source('shop', 'channels') }}
),

renamed as (
    select
        -- ids
        channel_id,
        -- strings
        trim(channel_name) as channel_name,
        lower(trim(channel_type)) as channel_type,
        -- timestamps
        updated_at
    from source
)

select * from renamed
