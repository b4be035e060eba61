{{
    config(
        pre_hook=["{{ tune_mart_transaction() }}"],
        indexes=[
            {'columns': ['product_rank'], 'unique': true},
            {'columns': ['category']},
        ]
    )
}}

-- the sale lines, one row per order and product (a product's lines on one order
-- added up): counting rows counts distinct orders
with basket_items as (
    select * from {{ ref('int_basket_items') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

as_of as (
    select max(order_date) as as_of_date
    from {{ ref('fct_orders') }}
),

-- one pass sorted on (product_id, customer_id): postgres feeds the distinct count
-- of customers from the same sort (cheaper than hashing a million product and
-- customer pairs)
product_sales as (
    select
        product_id,
        sum(net_revenue) as revenue,
        sum(cost_amount) as cogs,
        sum(gross_margin) as gross_profit,
        sum(quantity) as units,
        count(*) as orders,
        count(distinct customer_id) as customers,
        min(order_date) as first_sold_date,
        max(order_date) as last_sold_date
    from basket_items
    group by product_id
),

-- every product, unsold ones included (they are the slowest movers)
joined as (
    select
        products.product_id,
        products.sku,
        products.product_name,
        products.category,
        products.subcategory,
        products.brand,
        coalesce(product_sales.revenue, 0) as revenue,
        coalesce(product_sales.cogs, 0) as cogs,
        coalesce(product_sales.gross_profit, 0) as gross_profit,
        coalesce(product_sales.units, 0) as units,
        coalesce(product_sales.orders, 0) as orders,
        coalesce(product_sales.customers, 0) as customers,
        product_sales.first_sold_date,
        product_sales.last_sold_date
    from products
    left join product_sales
        on products.product_id = product_sales.product_id
),

ranked as (
    select
        *,
        row_number() over (order by revenue desc, product_id asc) as product_rank,
        sum(revenue) over () as total_revenue,
        sum(revenue) over (
            order by revenue desc, product_id asc
            rows between unbounded preceding and current row
        ) as cumulative_revenue
    from joined
),

final as (
    select
        ranked.product_id::bigint as product_id,
        ranked.product_rank::bigint as product_rank,
        ranked.sku::text as sku,
        ranked.product_name::text as product_name,
        ranked.category::text as category,
        ranked.subcategory::text as subcategory,
        ranked.brand::text as brand,
        ranked.revenue::numeric(18, 2) as revenue,
        ranked.cogs::numeric(18, 2) as cogs,
        ranked.gross_profit::numeric(18, 2) as gross_profit,
        (100.0 * ranked.gross_profit / nullif(ranked.revenue, 0))::numeric(9, 2)
            as margin_pct,
        ranked.units::bigint as units,
        ranked.orders::bigint as orders,
        ranked.customers::bigint as customers,
        (100.0 * ranked.revenue / nullif(ranked.total_revenue, 0))::numeric(9, 4)
            as revenue_share_pct,
        (100.0 * ranked.cumulative_revenue / nullif(ranked.total_revenue, 0))::numeric(
            9, 4
        ) as cumulative_revenue_share_pct,
        (as_of.as_of_date - ranked.last_sold_date)::integer as days_since_last_sale,
        ranked.first_sold_date::date as first_sold_date,
        ranked.last_sold_date::date as last_sold_date
    from ranked
    cross join as_of
)

select * from final
