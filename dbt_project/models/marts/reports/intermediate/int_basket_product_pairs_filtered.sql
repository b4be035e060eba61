{{
    config(
        pre_hook=on_postgres(["{{ tune_mart_transaction() }}"]),
    )
}}

-- products bought together: one row per unordered pair (product_a_id < product_b_id)
-- whose pair count reaches both basket_min_pair_count and basket_min_support,
-- with each product's basket count and the number of baskets. Reads the pair
-- totals kept up to date by int_basket_product_pairs_counted, so only the few
-- qualifying pairs and their products are looked at.
with pair_totals as (
    select * from {{ ref('int_basket_product_pairs_counted') }}
),

basket_items as {{ inlined() }} (
    select * from {{ ref('int_basket_items_grouped') }}
),

order_dates as (
    select * from {{ ref('int_order_dates_changed') }}
),

-- a basket is a sale order with at least one line; counted per day once per run
basket_totals as (
    select coalesce(sum(basket_count), 0) as basket_count
    from order_dates
),

thresholds as {{ computed_once() }} (
    select
        basket_count,
        cast(greatest(
            {{ var('basket_min_pair_count') }},
            ceil({{ var('basket_min_support') }} * basket_count)
        ) as bigint) as min_pair_count
    from basket_totals
),

frequent_pairs as (
    select
        pair_totals.product_a_id,
        pair_totals.product_b_id,
        pair_totals.pair_count,
        thresholds.basket_count
    from pair_totals
    cross join thresholds
    where pair_totals.pair_count >= thresholds.min_pair_count
),

product_counts as (
    select
        product_id,
        count(*) as basket_item_count
    from basket_items
    where
        {{ is_in(
            'product_id',
            'select frequent_pairs.product_a_id from frequent_pairs'
            ~ ' union select frequent_pairs.product_b_id from frequent_pairs'
        ) }}
    group by product_id
),

final as (
    select
        frequent_pairs.product_a_id,
        frequent_pairs.product_b_id,
        frequent_pairs.pair_count,
        count_a.basket_item_count as product_a_count,
        count_b.basket_item_count as product_b_count,
        frequent_pairs.basket_count
    from frequent_pairs
    inner join product_counts as count_a
        on frequent_pairs.product_a_id = count_a.product_id
    inner join product_counts as count_b
        on frequent_pairs.product_b_id = count_b.product_id
)

select * from final
