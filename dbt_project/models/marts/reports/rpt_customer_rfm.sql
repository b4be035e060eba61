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
        {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }}
            as recency_days,
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
        -- floor: the division of integers is exact on Spark
        cast(floor((f_score + m_score + 1) / 2) as integer) as fm_score
    from scored
),

final as (
    select
        cast(combined.customer_id as {{ type_text() }}) as customer_id,
        cast(customers.full_name as {{ type_text() }}) as customer_name,
        -- one order says nothing about frequency: such a customer is 'One-time'
        -- whatever the grid says (the scores are still given)
        cast((
            case
                when combined.lifetime_orders = 1 then 'One-time'
                else segments.segment_name
            end
        ) as {{ type_text() }}) as segment_name,
        cast((
            cast(combined.r_score as {{ type_text() }})
            || cast(combined.f_score as {{ type_text() }})
            || cast(combined.m_score as {{ type_text() }})
        ) as {{ type_text() }}) as rfm_code,
        cast(combined.recency_days as integer) as recency_days,
        cast(combined.lifetime_orders as bigint) as lifetime_orders,
        cast(combined.lifetime_net_revenue as {{ type_decimal() }})
            as lifetime_net_revenue,
        cast(combined.r_score as integer) as r_score,
        cast(combined.f_score as integer) as f_score,
        cast(combined.m_score as integer) as m_score,
        cast(combined.fm_score as integer) as fm_score,
        cast(combined.last_order_date as date) as last_order_date,
        cast(combined.as_of_date as date) as as_of_date
    from combined
    inner join customers
        on combined.customer_id = customers.customer_id
    inner join segments
        on
            combined.r_score = segments.r_score
            and combined.fm_score = segments.fm_score
)

select * from final
