-- one row per calendar day, from January 1st of the first order's year to December
-- 31st of the year after the latest order (or today, whichever is later)
with orders as (
    select * from {{ ref('stg_shop__orders') }}
),

bounds as (
    select
        date_trunc(
            'year',
            coalesce(min({{ in_reporting_timezone('ordered_at') }}), current_date)
        ) as start_date,
        date_trunc(
            'year',
            greatest(
                coalesce(max({{ in_reporting_timezone('ordered_at') }}), current_date),
                current_date
            )
        ) + interval '2 years' as end_date
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
        to_char(date_day, 'FMMonth') as month_name,
        to_char(date_day, 'YYYY-MM') as year_month,
        to_char(date_day, 'YYYY-"Q"Q') as year_quarter,
        to_char(date_day, 'FMDay') as day_name,
        -- numerics
        cast(extract(year from date_day) as integer) as year,
        cast(extract(quarter from date_day) as integer) as quarter,
        cast(extract(month from date_day) as integer) as month,
        cast(extract(day from date_day) as integer) as day_of_month,
        cast(extract(doy from date_day) as integer) as day_of_year,
        cast(extract(isoyear from date_day) as integer) as iso_year,
        cast(extract(week from date_day) as integer) as iso_week,
        cast(extract(isodow from date_day) as integer) as day_of_week,
        -- booleans
        extract(isodow from date_day) in (6, 7) as is_weekend,
        -- dates
        cast(date_trunc('week', date_day) as date) as week_start_date,
        cast(date_trunc('month', date_day) as date) as month_start_date,
        cast(
            date_trunc('month', date_day) + interval '1 month - 1 day' as date
        ) as month_end_date,
        cast(date_trunc('quarter', date_day) as date) as quarter_start_date
    from days
)

select * from final
