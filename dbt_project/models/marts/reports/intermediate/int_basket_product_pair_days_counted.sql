{{
    config(
        materialized=incremental_on_postgres(),
        incremental_strategy='delete+insert',
        unique_key=['order_date', 'product_a_id', 'product_b_id'],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['order_date', 'product_a_id', 'product_b_id'], 'unique': true},
            {'columns': ['product_a_id', 'product_b_id']},
            {'columns': ['refreshed_at']},
        ],
        pre_hook=on_postgres(["{{ tune_mart_transaction() }}"]),
    )
}}

-- the days changed since the last run (incremental runs and the post-hook):
-- depends_on: {{ ref('int_order_dates_changed') }}

-- products bought together, per day: one row per order date and unordered pair of
-- products (product_a_id < product_b_id) with the number of that day's baskets
-- holding both. Incremental: the days whose orders changed since the last run
-- are counted again, and only the pairs whose count changed are written (most of
-- a day's pairs keep their count when a few of its orders change status); a pair
-- that no longer occurs on such a day keeps its row with a count of 0, so that
-- int_basket_product_pairs_counted sees its total change (see
-- def_incremental_marts)
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

pairs as (
    select
        item_a.order_date,
        item_a.product_id as product_a_id,
        item_b.product_id as product_b_id,
        count(*) as pair_count
    from items as item_a
    inner join items as item_b
        on
            item_a.order_id = item_b.order_id
            and item_a.product_id < item_b.product_id
    group by item_a.order_date, item_a.product_id, item_b.product_id
),

{% if is_incremental() %}

previous as (
    select
        order_date,
        product_a_id,
        product_b_id,
        pair_count
    from {{ this }}
    where
        {{ is_in(
            'order_date',
            'select days_to_refresh.order_date from days_to_refresh'
        ) }}
),

counted as (
    select
        coalesce(pairs.order_date, previous.order_date) as order_date,
        coalesce(pairs.product_a_id, previous.product_a_id) as product_a_id,
        coalesce(pairs.product_b_id, previous.product_b_id) as product_b_id,
        coalesce(pairs.pair_count, 0) as pair_count
    from pairs
    full outer join previous
        on
            pairs.order_date = previous.order_date
            and pairs.product_a_id = previous.product_a_id
            and pairs.product_b_id = previous.product_b_id
    where coalesce(pairs.pair_count, 0) != coalesce(previous.pair_count, 0)
),

{% else %}

counted as (
    select * from pairs
),

{% endif %}

final as (
    select
        -- grain
        order_date,
        product_a_id,
        product_b_id,
        -- numerics
        pair_count,
        -- timestamps
        {{ run_stamp() }} as refreshed_at
    from counted
)

select * from final
