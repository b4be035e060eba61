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
        {{ replace_all(
            replace_all(
                replace_all(
                    replace_all(
                        replace_all('reason', '"[^"]*"', '"..."'),
                        '(no \\w+ row with [^=;]+) = [^;]*', '\\1'
                    ),
                    ' \\(first on line \\d+\\)', ''
                ),
                ': expected \\d+, found \\d+', ''
            ),
            ' \\(byte 0x[0-9a-fA-F]+ at position \\d+\\)', ''
        ) }} as reason
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
        {{ first_by('raw_reason', 'line_number') }} as example_reason
    from normalised
    group by batch_id, table_name, reason
),

final as (
    select
        cast(aggregated.batch_id as bigint) as batch_id,
        cast(aggregated.table_name as {{ type_text() }}) as table_name,
        cast(aggregated.reason as {{ type_text() }}) as reason,
        cast(aggregated.example_reason as {{ type_text() }}) as example_reason,
        cast(batches.file_name as {{ type_text() }}) as file_name,
        cast(aggregated.reject_count as bigint) as reject_count,
        cast(aggregated.first_line_number as bigint) as first_line_number,
        cast(aggregated.last_line_number as bigint) as last_line_number,
        cast(batches.rows_read as bigint) as batch_rows_read,
        cast(batches.rows_loaded as bigint) as batch_rows_loaded,
        cast(batches.rows_rejected as bigint) as batch_rows_rejected,
        cast(batches.started_at as {{ type_timestamptz() }}) as batch_started_at
    from aggregated
    inner join batches
        on aggregated.batch_id = batches.batch_id
)

select * from final
