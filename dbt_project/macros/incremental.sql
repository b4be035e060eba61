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


{#- Pre-hook of the facts, local to the model's transaction: enough memory for
    their hash joins over the whole of raw (the default 4MB spills to disk), and
    no nested loops, which the planner picks on its (unknowable) estimate of the
    incremental batch size and which are then orders of magnitude slower than
    the hash joins. -#}
{% macro tune_fact_transaction(work_mem=var('fact_work_mem', '64MB')) %}
    set local work_mem = '{{ work_mem }}';
    set local enable_nestloop = off
{% endmacro %}


{#- Post-hook of a fact: delete the rows of orders soft-deleted in raw, whatever
    the look-back window (an index lookup per deleted order). -#}
{% macro delete_soft_deleted_orders() %}
    delete from {{ this }} as target
    where target.order_id in (
        select orders.order_id
        from {{ ref('stg_shop__orders') }} as orders
        where orders.is_deleted
    )
{% endmacro %}


{#- Post-hook of a fact: delete the rows whose key no longer exists in raw (a
    line removed from an order), whatever their timestamps. -#}
{% macro delete_rows_missing_from(relation, key_column) %}
    delete from {{ this }} as target
    where not exists (
        select 1
        from {{ relation }} as live
        where live.{{ key_column }} = target.{{ key_column }}
    )
{% endmacro %}
