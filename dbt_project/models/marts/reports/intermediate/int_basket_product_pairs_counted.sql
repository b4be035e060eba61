{{
    config(
        materialized=incremental_on_postgres(),
        incremental_strategy='delete+insert',
        unique_key=['product_a_id', 'product_b_id'],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['product_a_id', 'product_b_id'], 'unique': true},
            {'columns': ['pair_count']},
        ],
        pre_hook=on_postgres(["{{ tune_mart_transaction() }}"]),
        post_hook=on_postgres(["delete from {{ this }} where pair_count = 0"]),
    )
}}

-- products bought together, over all days: one row per unordered pair of products
-- with the number of baskets holding both, before any threshold. Incremental: the
-- pairs whose daily counts were rewritten since the last run are added up again
-- (through the index on the pair); pairs whose total fell to 0 are deleted
with pairs_daily as {{ inlined() }} (
    select * from {{ ref('int_basket_product_pair_days_counted') }}
),

{% if is_incremental() %}

touched_pairs as (
    select distinct
        product_a_id,
        product_b_id
    from pairs_daily
    where refreshed_at > {{ last_refreshed_at() }}
),

pairs_to_count as (
    select pairs_daily.*
    from pairs_daily
    inner join touched_pairs
        on
            pairs_daily.product_a_id = touched_pairs.product_a_id
            and pairs_daily.product_b_id = touched_pairs.product_b_id
),

{% else %}

pairs_to_count as (
    select * from pairs_daily
),

{% endif %}

final as (
    select
        -- ids
        product_a_id,
        product_b_id,
        -- numerics
        sum(pair_count) as pair_count,
        -- timestamps
        {{ run_stamp() }} as refreshed_at
    from pairs_to_count
    group by product_a_id, product_b_id
)

select * from final
