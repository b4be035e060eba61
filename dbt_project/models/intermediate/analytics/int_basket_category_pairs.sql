-- categories bought together: one row per unordered pair of categories
-- (category_a < category_b) in the same sale order, with the same minimum pair
-- count and support as the product pairs. The category baskets are read from the
-- sale lines in one pass (same baskets as int_basket_items, one aggregation less).
with order_items as (
    select * from {{ ref('fct_order_items') }}
),

basket_categories as (
    select
        order_id,
        category
    from order_items
    where is_sale
    group by order_id, category
),

baskets as (
    select
        order_id,
        count(*) as basket_size
    from basket_categories
    group by order_id
),

basket_totals as (
    select count(*) as basket_count
    from baskets
),

-- only baskets spanning two categories or more can hold a pair
multi_category_baskets as (
    select
        basket_categories.order_id,
        basket_categories.category
    from basket_categories
    inner join baskets
        on basket_categories.order_id = baskets.order_id
    where baskets.basket_size >= 2
),

thresholds as (
    select
        basket_count,
        greatest(
            {{ var('basket_min_pair_count') }},
            ceil({{ var('basket_min_support') }} * basket_count)
        )::bigint as min_pair_count
    from basket_totals
),

category_counts as (
    select
        category,
        count(*) as basket_category_count
    from basket_categories
    group by category
),

pairs as (
    select
        category_a.category as category_a,
        category_b.category as category_b,
        count(*) as pair_count
    from multi_category_baskets as category_a
    inner join multi_category_baskets as category_b
        on
            category_a.order_id = category_b.order_id
            and category_a.category < category_b.category
    group by category_a.category, category_b.category
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
