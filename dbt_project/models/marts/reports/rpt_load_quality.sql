with batches as (
    select * from {{ ref('stg_shop__load_batches') }}
),

rejects as (
    select * from {{ ref('stg_shop__load_rejects') }}
),

-- the loader's reasons quote the offending values ("abc", line numbers, ids); drop
-- them so that rejects group by kind of problem
normalised as (
    select
        batch_id,
        table_name,
        line_number,
        reason as raw_reason,
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace(
                        regexp_replace(reason, '"[^"]*"', '"..."', 'g'),
                        '(no \w+ row with [^=;]+) = [^;]*', '\1', 'g'
                    ),
                    ' \(first on line \d+\)', '', 'g'
                ),
                ': expected \d+, found \d+', '', 'g'
            ),
            ' \(byte 0x[0-9a-fA-F]+ at position \d+\)', '', 'g'
        ) as reason
    from rejects
),

aggregated as (
    select
        batch_id,
        table_name,
        reason,
        count(*) as reject_count,
        min(line_number) as first_line_number,
        max(line_number) as last_line_number,
        (array_agg(raw_reason order by line_number))[1] as example_reason
    from normalised
    group by batch_id, table_name, reason
),

final as (
    select
        aggregated.batch_id::bigint as batch_id,
        aggregated.table_name::text as table_name,
        aggregated.reason::text as reason,
        aggregated.example_reason::text as example_reason,
        batches.file_name::text as file_name,
        aggregated.reject_count::bigint as reject_count,
        aggregated.first_line_number::bigint as first_line_number,
        aggregated.last_line_number::bigint as last_line_number,
        batches.rows_read::bigint as batch_rows_read,
        batches.rows_loaded::bigint as batch_rows_loaded,
        batches.rows_rejected::bigint as batch_rows_rejected,
        batches.started_at::timestamptz as batch_started_at
    from aggregated
    inner join batches
        on aggregated.batch_id = batches.batch_id
)

select * from final
