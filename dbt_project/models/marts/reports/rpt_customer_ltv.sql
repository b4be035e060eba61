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
        cast(tiered.customer_id as {{ type_text() }}) as customer_id,
        cast(customers.full_name as {{ type_text() }}) as customer_name,
        cast(customers.segment as {{ type_text() }}) as segment,
        cast((
            case tiered.ltv_tier_order
                when 4 then 'Platinum'
                when 3 then 'Gold'
                when 2 then 'Silver'
                else 'Bronze'
            end
        ) as {{ type_text() }}) as ltv_tier,
        cast(tiered.ltv_tier_order as integer) as ltv_tier_order,
        cast(tiered.net_revenue as {{ type_decimal() }}) as lifetime_net_revenue,
        cast(tiered.gross_margin as {{ type_decimal() }}) as lifetime_gross_margin,
        cast(tiered.orders as bigint) as lifetime_orders,
        cast(tiered.units as bigint) as lifetime_units,
        cast(tiered.net_revenue / tiered.orders as {{ type_decimal() }})
            as avg_order_value,
        cast(tiered.ltv_percentile as numeric(7, 6)) as ltv_percentile,
        cast(
            {{ dbt.datediff(
                'tiered.first_order_date', 'tiered.last_order_date', 'day'
            ) }}
            as integer
        ) as active_span_days,
        cast(
            {{ dbt.datediff('tiered.first_order_date', 'tiered.as_of_date', 'day') }}
            as integer
        ) as tenure_days,
        cast(tiered.first_order_date as date) as first_order_date,
        cast(tiered.last_order_date as date) as last_order_date
    from tiered
    inner join customers
        on tiered.customer_id = customers.customer_id
)

select * from final
