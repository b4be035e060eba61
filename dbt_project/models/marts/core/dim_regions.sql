with regions as (
    select * from {{ ref('stg_shop__regions') }}
),

final as (
    select
        -- ids
        region_id,
        -- strings
        region_name
    from regions
)

select * from final
