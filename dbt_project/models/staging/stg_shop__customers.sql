with source as (
    select * from {{ source('shop', 'customers') }}
),

renamed as (
    select
        -- ids
        customer_id,
        region_id,
        acquisition_channel_id,
        -- strings
        trim(first_name) as first_name,
        trim(last_name) as last_name,
        -- either part may be missing in an export (null when both are)
        nullif(concat_ws(' ', trim(first_name), trim(last_name)), '') as full_name,
        lower(trim(email)) as email,
        nullif(trim(phone), '') as phone,
        nullif(trim(city), '') as city,
        upper(trim(country_code)) as country_code,
        lower(trim(segment)) as segment,
        -- booleans
        is_active,
        -- dates
        birth_date,
        -- timestamps
        signup_at,
        updated_at
    from source
)

select * from renamed
