{{
    config(
        indexes=[
            {'columns': ['product_id', 'valid_from']},
        ]
    )
}}

with snapshot as (
    select * from {{ ref('int_product_versions') }}
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
        cast(product_id as {{ type_text() }}) as product_id,
        cast(valid_from as {{ type_timestamptz() }}) as valid_from,
        cast(sku as {{ type_text() }}) as sku,
        cast(product_name as {{ type_text() }}) as product_name,
        cast(category as {{ type_text() }}) as category,
        cast(stock_quantity as integer) as stock_quantity,
        cast(stock_quantity - previous_stock_quantity as integer) as stock_change,
        cast(reorder_point as integer) as reorder_point,
        cast(unit_cost as {{ type_decimal() }}) as unit_cost,
        cast(list_price as {{ type_decimal() }}) as list_price,
        cast(stock_quantity * unit_cost as {{ type_decimal() }}) as stock_value,
        cast(stock_quantity < reorder_point as boolean) as is_below_reorder,
        cast(valid_to is null as boolean) as is_current,
        cast(valid_to as {{ type_timestamptz() }}) as valid_to
    from versions
)

select * from final
