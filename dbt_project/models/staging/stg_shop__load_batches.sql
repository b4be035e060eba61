with source as (
    select * from {{ source('shop', 'load_batches') }}
),

renamed as (
    select
        -- ids
        batch_id,
        -- strings
        table_name,
        file_name,
        file_checksum,
        load_method,
        -- numerics
        file_bytes,
        rows_read,
        rows_loaded,
        rows_rejected,
        {{ seconds_between('started_at', 'finished_at') }} as load_seconds,
        -- booleans
        rows_rejected > 0 as has_rejects,
        -- timestamps
        started_at,
        finished_at
    from source
)

select * from renamed
