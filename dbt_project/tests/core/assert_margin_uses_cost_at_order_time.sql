-- every line is costed with the product version valid when the order was placed
-- (or the earliest version for orders placed before it was first recorded), read
-- independently here from the snapshot. One pass over the fact: each line looks
-- up its expected version and fails when there is none or its cost differs.
-- Reads the lines of the fact's latest build (see def_test_scope): a line's
-- version does not change once written, since the snapshot only closes versions.
with order_items as (
    select * from {{ latest_build_rows(ref('fct_order_items')) }} as written_lines
),

product_versions as (
    select * from {{ ref('int_product_versions') }}
),

first_versions as (
    select
        product_id,
        min(dbt_valid_from) as first_valid_from
    from product_versions
    group by product_id
),

costed as (
    select
        order_items.order_item_id,
        order_items.unit_cost,
        product_versions.unit_cost as expected_unit_cost
    from order_items
    left join first_versions
        on order_items.product_id = first_versions.product_id
    left join product_versions
        on
            order_items.product_id = product_versions.product_id
            and greatest(order_items.ordered_at, first_versions.first_valid_from)
            >= product_versions.dbt_valid_from
            and (
                product_versions.dbt_valid_to is null
                or greatest(order_items.ordered_at, first_versions.first_valid_from)
                < product_versions.dbt_valid_to
            )
)

select
    order_item_id,
    unit_cost,
    expected_unit_cost
from costed
where unit_cost is distinct from expected_unit_cost
