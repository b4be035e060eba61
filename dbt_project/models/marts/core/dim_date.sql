-- one row per calendar day, from January 1st of the first order's year to December
-- 31st of the year after the latest order (or today, whichever is later)
with orders as (
    select * from {{ ref('stg_shop__orders') }}
),

bounds as (
    select
        {{ dbt.date_trunc(
            'year',
            'coalesce(min(' ~ in_reporting_timezone('ordered_at') ~ '), current_date)'
        ) }} as start_date,
        {{ dbt.dateadd(
            'year',
            2,
            dbt.date_trunc(
                'year',
                'greatest(coalesce(max(' ~ in_reporting_timezone('ordered_at')
                ~ '), current_date), current_date)'
            )
        ) }} as end_date
    from orders
),

days as (
    {{ date_spine(
        start_date='select bounds.start_date from bounds',
        end_date='select bounds.end_date from bounds',
    ) }}
),

final as (
    select
        -- grain
        date_day,
        -- strings
        {{ month_name('date_day') }} as month_name,
        {{ year_month('date_day') }} as year_month,
        concat(
            cast({{ calendar_part('year', 'date_day') }} as {{ type_text() }}),
            '-Q',
            cast({{ calendar_part('quarter', 'date_day') }} as {{ type_text() }})
        ) as year_quarter,
        {{ day_name('date_day') }} as day_name,
        -- numerics
        {{ calendar_part('year', 'date_day') }} as year,
        {{ calendar_part('quarter', 'date_day') }} as quarter,
        {{ calendar_part('month', 'date_day') }} as month,
        {{ calendar_part('day', 'date_day') }} as day_of_month,
        {{ calendar_part('doy', 'date_day') }} as day_of_year,
        {{ calendar_part('isoyear', 'date_day') }} as iso_year,
        {{ calendar_part('week', 'date_day') }} as iso_week,
        {{ calendar_part('isodow', 'date_day') }} as day_of_week,
        -- booleans
        {{ calendar_part('isodow', 'date_day') }} in (6, 7) as is_weekend,
        -- dates
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        {{ dbt.last_day('date_day', 'month') }} as month_end_date,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start_date
    from days
)

select * from final
