-- products bought together: one row per unordered pair (product_a_id < product_b_id)
-- whose pair count reaches both basket_min_pair_count and basket_min_support.
-- Fast on large data: a pair can never be more frequent than either of its
-- products, so rare products and single-product baskets are dropped before the
-- self-join.
with basket_items as (
    select * from {{ ref('int_basket_items') }}
),

baskets as (
    select
        order_id,
        count(*) as basket_size
    from basket_items
    group by order_id
),

basket_totals as (
    select count(*) as basket_count
    from baskets
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

product_counts as (
    select
        product_id,
        count(*) as basket_item_count
    from basket_items
    group by product_id
),

frequent_products as (
    select product_counts.product_id
    from product_counts
    cross join thresholds
    where product_counts.basket_item_count >= thresholds.min_pair_count
),

-- frequent products of baskets holding two products or more
multi_product_baskets as (
    select
        basket_items.order_id,
        basket_items.product_id
    from basket_items
    inner join frequent_products
        on basket_items.product_id = frequent_products.product_id
    inner join baskets
        on basket_items.order_id = baskets.order_id
    where baskets.basket_size >= 2
),

pairs as (
    select
        item_a.product_id as product_a_id,
        item_b.product_id as product_b_id,
        count(*) as pair_count
    from multi_product_baskets as item_a
    inner join multi_product_baskets as item_b
        on
            item_a.order_id = item_b.order_id
            and item_a.product_id < item_b.product_id
    group by item_a.product_id, item_b.product_id
),

final as (
    select
        pairs.product_a_id,
        pairs.product_b_id,
        pairs.pair_count,
        count_a.basket_item_count as product_a_count,
        count_b.basket_item_count as product_b_count,
        thresholds.basket_count
    from pairs
    cross join thresholds
    inner join product_counts as count_a
        on pairs.product_a_id = count_a.product_id
    inner join product_counts as count_b
        on pairs.product_b_id = count_b.product_id
    where pairs.pair_count >= thresholds.min_pair_count
)

select * from final
