{{
    config(
        materialized=incremental_on_postgres(),
        incremental_strategy='delete+insert',
        unique_key='order_date',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['order_date', 'category_a', 'category_b'], 'unique': true},
            {'columns': ['refreshed_at']},
        ],
        pre_hook=on_postgres(["{{ tune_mart_transaction() }}"]),
        post_hook=on_postgres(["{{ delete_stale_days() }}"]),
    )
}}

-- the days changed since the last run (incremental runs and the post-hook):
-- depends_on: {{ ref('int_order_dates_changed') }}

-- categories bought together, per day: one row per order date and pair of
-- categories (category_a <= category_b) with the number of that day's baskets
-- holding both; when category_a = category_b, the baskets holding that category.
-- Small (days x categories squared), so the totals are simply added up again on
-- every run. Incremental: the days whose orders changed since the last run are
-- counted again (see def_incremental_marts)
with basket_items as {{ inlined() }} (
    select * from {{ ref('int_basket_items_grouped') }}
),

{% if is_incremental() %}

days_to_refresh as (
    {{ order_dates_changed_since(last_refreshed_at()) }}
),

items as {{ inlined() }} (
    select * from basket_items
    where
        {{ is_in(
            'order_date',
            'select days_to_refresh.order_date from days_to_refresh'
        ) }}
),

{% else %}

items as {{ inlined() }} (
    select * from basket_items
),

{% endif %}

basket_categories as (
    select
        order_id,
        category,
        order_date
    from items
    group by order_id, category, order_date
),

final as (
    select
        -- grain
        category_a.order_date,
        category_a.category as category_a,
        category_b.category as category_b,
        -- numerics
        count(*) as basket_count,
        -- timestamps
        {{ run_stamp() }} as refreshed_at
    from basket_categories as category_a
    inner join basket_categories as category_b
        on
            category_a.order_id = category_b.order_id
            and category_a.category <= category_b.category
    group by category_a.order_date, category_a.category, category_b.category
)

select * from final
