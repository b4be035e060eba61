{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month_start_date',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['month_start_date']},
            {'columns': ['category', 'month_start_date']},
            {'columns': ['refreshed_at']},
        ],
        pre_hook=["{{ tune_mart_transaction() }}"],
        post_hook=["{{ delete_stale_months() }}"],
    )
}}

-- the days changed since the last run (incremental runs and the post-hook):
-- depends_on: {{ ref('int_order_dates_changed') }}

-- incremental: every row of a month with a day whose orders changed since the
-- last run (or whose channel or region was renamed) is rebuilt from the fact;
-- distinct customers and orders are counted over the whole month. See
-- def_incremental_marts.
with order_items as not materialized (
    select * from {{ ref('fct_order_items') }}
),

channels as (
    select * from {{ ref('dim_channels') }}
),

regions as (
    select * from {{ ref('dim_regions') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

{% if is_incremental() %}

months_to_refresh as (
    {{ months_changed_since(last_refreshed_at()) }}

    union

    -- months whose rows show an outdated channel or region name
    select loaded.month_start_date
    from {{ this }} as loaded
    inner join channels
        on loaded.channel_id = channels.channel_id
    inner join regions
        on loaded.region_id = regions.region_id
    where
        loaded.channel_name is distinct from channels.channel_name
        or loaded.channel_type is distinct from channels.channel_type
        or loaded.region_name is distinct from regions.region_name
),

lines_to_aggregate as (
    select * from order_items
    where
        {{ date_in_months('months_to_refresh') }}
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
        date_trunc('month', order_date)::date as month_start_date,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_revenue) as net_revenue,
        sum(cost_amount) as cost_amount,
        sum(gross_margin) as gross_margin,
        sum(units) as units,
        count(distinct order_id) as orders,
        count(distinct customer_id) as customers
    from lines_to_aggregate
    where is_sale
    group by
        channel_id,
        ship_region_id,
        category,
        date_trunc('month', order_date)::date
),

final as (
    select
        aggregated.month_start_date::date as month_start_date,
        aggregated.channel_id::integer as channel_id,
        aggregated.region_id::integer as region_id,
        aggregated.category::text as category,
        to_char(aggregated.month_start_date, 'YYYY-MM')::text as year_month,
        channels.channel_name::text as channel_name,
        channels.channel_type::text as channel_type,
        regions.region_name::text as region_name,
        aggregated.gross_amount::numeric(18, 2) as gross_amount,
        aggregated.discount_amount::numeric(18, 2) as discount_amount,
        aggregated.net_revenue::numeric(18, 2) as net_revenue,
        aggregated.cost_amount::numeric(18, 2) as cost_amount,
        aggregated.gross_margin::numeric(18, 2) as gross_margin,
        aggregated.units::bigint as units,
        aggregated.orders::bigint as orders,
        aggregated.customers::bigint as customers,
        {{ run_stamp() }} as refreshed_at
    from aggregated
    inner join channels
        on aggregated.channel_id = channels.channel_id
    inner join regions
        on aggregated.region_id = regions.region_id
)

select * from final
