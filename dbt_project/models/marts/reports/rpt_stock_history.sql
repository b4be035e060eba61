{{
    config(
        indexes=[
            {'columns': ['product_id', 'valid_from']},
        ]
    )
}}

with snapshot as (
    select * from {{ ref('snap_products') }}
),

versions as (
    select
        product_id,
        sku,
        product_name,
        category,
        stock_quantity,
        reorder_point,
        unit_cost,
        list_price,
        dbt_valid_from as valid_from,
        dbt_valid_to as valid_to,
        lag(stock_quantity) over (
            partition by product_id order by dbt_valid_from
        ) as previous_stock_quantity
    from snapshot
),

final as (
    select
        product_id::text as product_id,
        valid_from::timestamptz as valid_from,
        sku::text as sku,
        product_name::text as product_name,
        category::text as category,
        stock_quantity::integer as stock_quantity,
        (stock_quantity - previous_stock_quantity)::integer as stock_change,
        reorder_point::integer as reorder_point,
        unit_cost::numeric as unit_cost,
        list_price::numeric as list_price,
        (stock_quantity * unit_cost)::numeric as stock_value,
        (stock_quantity < reorder_point)::boolean as is_below_reorder,
        (valid_to is null)::boolean as is_current,
        valid_to::timestamptz as valid_to
    from versions
)

select * from final
