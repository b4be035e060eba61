-- categories bought together: one row per unordered pair of categories
-- (category_a < category_b) in the same sale order, with the same minimum pair
-- count and support as the product pairs. Added up from the daily counts.
with pairs_daily as (
    select * from {{ ref('int_basket_category_pair_days_counted') }}
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

totals as (
    select
        category_a,
        category_b,
        sum(basket_count) as basket_count
    from pairs_daily
    group by category_a, category_b
),

category_counts as (
    select
        category_a as category,
        basket_count as basket_category_count
    from totals
    where category_a = category_b
),

pairs as (
    select
        category_a,
        category_b,
        basket_count as pair_count
    from totals
    where category_a < category_b
),

final as (
    select
        pairs.category_a,
        pairs.category_b,
        pairs.pair_count,
        count_a.basket_category_count as category_a_count,
        count_b.basket_category_count as category_b_count,
        thresholds.basket_count
    from pairs
    cross join thresholds
    inner join category_counts as count_a
        on pairs.category_a = count_a.category
    inner join category_counts as count_b
        on pairs.category_b = count_b.category
    where pairs.pair_count >= thresholds.min_pair_count
)

select * from final
