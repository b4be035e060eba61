with source as (
    select * from {{ source('shop', 'load_rejects') }}
),

renamed as (
    select
        -- ids
        reject_id,
        batch_id,
        -- strings
        table_name,
        file_name,
        record,
        reason,
        -- numerics
        line_number,
        -- timestamps
        rejected_at
    from source
)

select * from renamed
