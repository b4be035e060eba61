with batches as (
    select * from {{ ref('stg_shop__load_batches') }}
),

final as (
    select
        cast(batch_id as bigint) as batch_id,
        cast(table_name as {{ type_text() }}) as table_name,
        cast(file_name as {{ type_text() }}) as file_name,
        cast(load_method as {{ type_text() }}) as load_method,
        cast(file_bytes as bigint) as file_bytes,
        cast(rows_read as bigint) as rows_read,
        cast(rows_loaded as bigint) as rows_loaded,
        cast(rows_rejected as bigint) as rows_rejected,
        cast(100.0 * rows_rejected / nullif(rows_read, 0) as numeric(9, 4))
            as reject_rate_pct,
        cast(load_seconds as numeric(12, 3)) as load_seconds,
        cast(has_rejects as boolean) as has_rejects,
        cast(started_at as {{ type_timestamptz() }}) as started_at,
        cast(finished_at as {{ type_timestamptz() }}) as finished_at
    from batches
)

select * from final
