{#-
    Helpers of the incremental facts (see the doc block def_incremental_facts).
-#}

{#- The earliest updated_at a run re-reads: the latest updated_at already in the
    target minus var('incremental_lookback_days') days. An empty target gives
    -infinity, i.e. everything. -#}
{% macro lookback_cutoff(column_name='updated_at') %}
    (
        select
            coalesce(max({{ column_name }}), '-infinity'::timestamptz)
            - interval '{{ var("incremental_lookback_days") }} days'
        from {{ this }}
    )
{% endmacro %}


{#- Post-hook of a fact: delete the rows whose order was soft-deleted (or whose
    line no longer exists) in raw, whatever the look-back window. `live_sql` selects
    the keys that must stay. -#}
{% macro delete_rows_not_in(key_column, live_sql) %}
    delete from {{ this }} as target
    where not exists (
        select 1
        from ({{ live_sql }}) as live
        where live.{{ key_column }} = target.{{ key_column }}
    )
{% endmacro %}


{#- Keys that must stay in fct_orders: the live (not soft-deleted) orders. -#}
{% macro live_orders_sql() %}
    select order_id
    from {{ ref('stg_shop__orders') }}
    where not is_deleted
{% endmacro %}


{#- Keys that must stay in fct_order_items: the lines of live orders. -#}
{% macro live_order_items_sql() %}
    select order_items.order_item_id
    from {{ ref('stg_shop__order_items') }} as order_items
    inner join {{ ref('stg_shop__orders') }} as orders
        on order_items.order_id = orders.order_id
    where not orders.is_deleted
{% endmacro %}
