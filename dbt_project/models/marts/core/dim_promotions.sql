with promotions as (
    select * from {{ ref('stg_shop__promotions') }}
),

final as (
    select
        -- ids
        promotion_id,
        -- strings
        promo_code,
        description,
        -- numerics
        discount_pct,
        -- timestamps
        starts_at,
        ends_at
    from promotions
)

select * from final
