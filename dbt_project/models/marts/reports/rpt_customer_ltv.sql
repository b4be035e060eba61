{{
    config(
        indexes=[
            {'columns': ['customer_id'], 'unique': true},
            {'columns': ['ltv_tier']},
        ]
    )
}}

with customer_sales as (
    select * from {{ ref('int_customer_sales_summarised') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

ranked as (
    select
        *,
        -- share of buyers whose lifetime net revenue is at or below this one's
        cume_dist() over (order by net_revenue) as ltv_percentile
    from customer_sales
),

-- tiers by percentile of historical lifetime net revenue among buyers (ties share a
-- tier): Platinum top 5 %, Gold next 15 %, Silver next 30 %, Bronze the rest
tiered as (
    select
        *,
        case
            when ltv_percentile > 0.95 then 4
            when ltv_percentile > 0.80 then 3
            when ltv_percentile > 0.50 then 2
            else 1
        end as ltv_tier_order
    from ranked
),

final as (
    select
        tiered.customer_id::text as customer_id,
        customers.full_name::text as customer_name,
        customers.segment::text as segment,
        (
            case tiered.ltv_tier_order
                when 4 then 'Platinum'
                when 3 then 'Gold'
                when 2 then 'Silver'
                else 'Bronze'
            end
        )::text as ltv_tier,
        tiered.ltv_tier_order::integer as ltv_tier_order,
        tiered.net_revenue::numeric as lifetime_net_revenue,
        tiered.gross_margin::numeric as lifetime_gross_margin,
        tiered.orders::bigint as lifetime_orders,
        tiered.units::bigint as lifetime_units,
        (tiered.net_revenue / tiered.orders)::numeric as avg_order_value,
        (tiered.ltv_percentile)::numeric(7, 6) as ltv_percentile,
        (tiered.last_order_date - tiered.first_order_date)::integer
            as active_span_days,
        (tiered.as_of_date - tiered.first_order_date)::integer as tenure_days,
        tiered.first_order_date::date as first_order_date,
        tiered.last_order_date::date as last_order_date
    from tiered
    inner join customers
        on tiered.customer_id = customers.customer_id
)

select * from final
