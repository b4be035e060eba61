with source as (
    select * from {{ source('shop', 'order_deletions') }}
),

renamed as (
    select
        -- ids
        deletion_id,
        order_id,
        -- change tracking
        synced_at
    from source
)

select * from renamed
