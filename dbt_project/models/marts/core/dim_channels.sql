with channels as (
    select * from {{ ref('stg_shop__channels') }}
),

final as (
    select
        -- ids
        channel_id,
        -- strings
        channel_name,
        channel_type
    from channels
)

select * from final
