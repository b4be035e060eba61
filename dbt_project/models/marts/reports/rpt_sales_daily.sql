{{
    config(
        materialized=incremental_on_postgres(),
        incremental_strategy='delete+insert',
        unique_key='order_date',
        on_schema_change='append_new_columns',
        indexes=[
            {
                'columns': ['order_date', 'channel_id', 'region_id', 'category'],
                'unique': true,
            },
            {'columns': ['category', 'order_date']},
            {'columns': ['refreshed_at']},
        ],
        pre_hook=on_postgres(["{{ tune_mart_transaction() }}"]),
        post_hook=on_postgres(["{{ delete_stale_days() }}"]),
    )
}}

-- the days changed since the last run (incremental runs and the post-hook):
-- depends_on: {{ ref('int_order_dates_changed') }}

-- incremental: every row of a day whose orders changed since the last run (or
-- whose channel or region was renamed) is rebuilt from the fact; see
-- def_incremental_marts
with order_items as {{ inlined() }} (
    select * from {{ ref('fct_order_items') }}
),

channels as (
    select * from {{ ref('dim_channels') }}
),

regions as (
    select * from {{ ref('dim_regions') }}
),

{% if is_incremental() %}

days_to_refresh as (
    {{ order_dates_changed_since(last_refreshed_at()) }}

    union

    -- days whose rows show an outdated channel or region name
    select loaded.order_date
    from {{ this }} as loaded
    left join channels
        on loaded.channel_id = channels.channel_id
    left join regions
        on loaded.region_id = regions.region_id
    where
        loaded.channel_name
        is distinct from coalesce(channels.channel_name, 'Unknown')
        or loaded.channel_type
        is distinct from coalesce(channels.channel_type, 'unknown')
        or loaded.region_name
        is distinct from coalesce(regions.region_name, 'Unknown')
),

lines_to_aggregate as (
    select * from order_items
    where
        {{ is_in(
            'order_date',
            'select days_to_refresh.order_date from days_to_refresh'
        ) }}
),

{% else %}

lines_to_aggregate as (
    select * from order_items
),

{% endif %}

aggregated as (
    select
        channel_id,
        ship_region_id as region_id,
        category,
        order_date,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_revenue) as net_revenue,
        -- unknown (null) as soon as one line lacks a cost: never a partial sum
        case when count(*) = count(cost_amount) then sum(cost_amount) end
            as cost_amount,
        case when count(*) = count(gross_margin) then sum(gross_margin) end
            as gross_margin,
        sum(units) as units,
        count(distinct order_id) as orders,
        count(distinct customer_id) as customers
    from lines_to_aggregate
    where is_sale
    group by channel_id, ship_region_id, category, order_date
),

final as (
    select
        cast(aggregated.order_date as date) as order_date,
        cast(aggregated.channel_id as {{ type_text() }}) as channel_id,
        cast(aggregated.region_id as {{ type_text() }}) as region_id,
        cast(aggregated.category as {{ type_text() }}) as category,
        -- an order without a channel or region is kept, labelled 'Unknown'
        cast(coalesce(channels.channel_name, 'Unknown') as {{ type_text() }})
            as channel_name,
        cast(coalesce(channels.channel_type, 'unknown') as {{ type_text() }})
            as channel_type,
        cast(coalesce(regions.region_name, 'Unknown') as {{ type_text() }})
            as region_name,
        cast(aggregated.gross_amount as {{ type_decimal() }}) as gross_amount,
        cast(aggregated.discount_amount as {{ type_decimal() }}) as discount_amount,
        cast(aggregated.net_revenue as {{ type_decimal() }}) as net_revenue,
        cast(aggregated.cost_amount as {{ type_decimal() }}) as cost_amount,
        cast(aggregated.gross_margin as {{ type_decimal() }}) as gross_margin,
        cast(aggregated.units as bigint) as units,
        cast(aggregated.orders as bigint) as orders,
        cast(aggregated.customers as bigint) as customers,
        {{ run_stamp() }} as refreshed_at
    from aggregated
    left join channels
        on aggregated.channel_id = channels.channel_id
    left join regions
        on aggregated.region_id = regions.region_id
)

select * from final
