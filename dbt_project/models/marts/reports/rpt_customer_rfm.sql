{{
    config(
        indexes=[
            {'columns': ['customer_id'], 'unique': true},
            {'columns': ['segment_name']},
        ]
    )
}}

with customer_sales as (
    select * from {{ ref('int_customer_sales_summarised') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

segments as (
    select * from {{ ref('rfm_segments') }}
),

measured as (
    select
        customer_id,
        as_of_date - last_order_date as recency_days,
        orders as lifetime_orders,
        net_revenue as lifetime_net_revenue,
        last_order_date,
        as_of_date
    from customer_sales
),

-- quintiles with ntile(5): 5 is best. R ranks by recency, F (frequency) by
-- lifetime orders, M (monetary) by lifetime net revenue. Ties are broken
-- deterministically by the other two measures and then customer_id, so a rebuild
-- gives the same scores.
scored as (
    select
        *,
        ntile(5) over (
            order by
                recency_days desc,
                lifetime_orders asc,
                lifetime_net_revenue asc,
                customer_id asc
        ) as r_score,
        ntile(5) over (
            order by lifetime_orders asc, lifetime_net_revenue asc, customer_id asc
        ) as f_score,
        ntile(5) over (
            order by lifetime_net_revenue asc, lifetime_orders asc, customer_id asc
        ) as m_score
    from measured
),

combined as (
    select
        *,
        -- average of f and m, rounded half up
        (f_score + m_score + 1) / 2 as fm_score
    from scored
),

final as (
    select
        combined.customer_id::text as customer_id,
        customers.full_name::text as customer_name,
        -- one order says nothing about frequency: such a customer is 'One-time'
        -- whatever the grid says (the scores are still given)
        (
            case
                when combined.lifetime_orders = 1 then 'One-time'
                else segments.segment_name
            end
        )::text as segment_name,
        (
            combined.r_score::text
            || combined.f_score::text
            || combined.m_score::text
        )::text as rfm_code,
        combined.recency_days::integer as recency_days,
        combined.lifetime_orders::bigint as lifetime_orders,
        combined.lifetime_net_revenue::numeric as lifetime_net_revenue,
        combined.r_score::integer as r_score,
        combined.f_score::integer as f_score,
        combined.m_score::integer as m_score,
        combined.fm_score::integer as fm_score,
        combined.last_order_date::date as last_order_date,
        combined.as_of_date::date as as_of_date
    from combined
    inner join customers
        on combined.customer_id = customers.customer_id
    inner join segments
        on
            combined.r_score = segments.r_score
            and combined.fm_score = segments.fm_score
)

select * from final
