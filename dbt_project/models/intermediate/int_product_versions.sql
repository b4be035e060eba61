-- the versions of every product (see the doc block def_product_versions): the
-- snap_products snapshot on PostgreSQL; on an engine without snapshots (Spark
-- without Delta or Iceberg) the current row of each product, as one version open
-- since its last change, which is what a snapshot of a fresh load holds
{% if target.type == 'postgres' %}

select * from {{ ref('snap_products') }}

{% else %}

with products as (
    select * from {{ ref('stg_shop__products') }}
),

versions as (
    select
        *,
        {{ dbt.hash(dbt.concat([
            'product_id', "'|'", 'cast(updated_at as ' ~ type_text() ~ ')'
        ])) }} as dbt_scd_id,
        updated_at as dbt_updated_at,
        updated_at as dbt_valid_from,
        cast(null as {{ type_timestamptz() }}) as dbt_valid_to
    from products
)

select * from versions

{% endif %}
