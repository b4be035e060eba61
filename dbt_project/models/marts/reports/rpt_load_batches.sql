with batches as (
    select * from {{ ref('stg_shop__load_batches') }}
),

final as (
    select
        batch_id::bigint as batch_id,
        table_name::text as table_name,
        file_name::text as file_name,
        load_method::text as load_method,
        file_bytes::bigint as file_bytes,
        rows_read::bigint as rows_read,
        rows_loaded::bigint as rows_loaded,
        rows_rejected::bigint as rows_rejected,
        (100.0 * rows_rejected / nullif(rows_read, 0))::numeric(9, 4)
            as reject_rate_pct,
        load_seconds::numeric(12, 3) as load_seconds,
        has_rejects::boolean as has_rejects,
        started_at::timestamptz as started_at,
        finished_at::timestamptz as finished_at
    from batches
)

select * from final
