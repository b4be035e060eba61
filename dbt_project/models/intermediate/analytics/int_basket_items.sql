-- one row per product in a sale order: the market-basket transactions
with order_items as (
    select * from {{ ref('fct_order_items') }}
),

final as (
    select
        order_id,
        product_id,
        min(category) as category,
        sum(quantity) as quantity
    from order_items
    where is_sale
    group by order_id, product_id
)

select * from final
