{#-
    Helpers of the incremental models (see the doc blocks def_incremental_facts and
    def_incremental_marts).
-#}

{#- The time of this dbt invocation, as timestamptz: every row an incremental model
    (re)writes is stamped with it in `refreshed_at`. Later invocations start later,
    so a row written after a consumer's last run always carries a larger stamp than
    every row that consumer has already read. -#}
{% macro run_stamp() -%}
    cast('{{ run_started_at.isoformat() }}' as timestamptz)
{%- endmacro %}


{#- The latest stamp already written to this model's table (-infinity when the
    table is empty): rows of the upstream models stamped later are new to it. -#}
{% macro last_refreshed_at(relation=this) -%}
    (
        select coalesce(max(refreshed_at), '-infinity'::timestamptz)
        from {{ relation }}
    )
{%- endmacro %}


{#- In a post-hook: the latest stamp written before this run, i.e. the watermark
    the run started from (only the days changed after it can hold stale rows). -#}
{% macro previous_refreshed_at() -%}
    (
        select coalesce(max(refreshed_at), '-infinity'::timestamptz)
        from {{ this }}
        where refreshed_at < {{ run_stamp() }}
    )
{%- endmacro %}


{#- The earliest updated_at a fact re-reads: the latest updated_at already in the
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


{#- Pre-hook of the heavy models, local to the model's transaction: enough memory
    for their hash joins and aggregates (the default 4MB spills to disk), no JIT
    compilation (it costs more than it saves on these short queries), and no
    nested loops, which the planner picks on its (unknowable) estimate of an
    incremental batch and which are then orders of magnitude slower than the hash
    joins. -#}
{% macro tune_fact_transaction(work_mem=var('fact_work_mem', '64MB')) %}
    set local work_mem = '{{ work_mem }}';
    set local jit = off;
    set local enable_nestloop = off
{% endmacro %}


{#- Pre-hook of the incremental marts: as above, but nested loops stay allowed
    (they read the few changed dates, orders or pairs through indexes). -#}
{% macro tune_mart_transaction(work_mem=var('fact_work_mem', '64MB')) %}
    set local work_mem = '{{ work_mem }}';
    set local jit = off
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


{#- The order dates whose orders changed after `since` (a timestamptz expression):
    see int_order_dates_changed. -#}
{% macro order_dates_changed_since(since) -%}
    select changes.order_date
    from {{ ref('int_order_dates_changed') }} as changes
    where changes.changed_at > {{ since }}
{%- endmacro %}


{#- Post-hook of a date-keyed incremental model: delete its rows for the days whose
    orders changed after the row was written and that the run did not rewrite (a
    day left without any row of this model, e.g. its last sale cancelled). Reads
    only the days changed since the previous run. -#}
{% macro delete_stale_days(date_column='order_date') %}
    delete from {{ this }} as target
    using {{ ref('int_order_dates_changed') }} as changes
    where
        target.{{ date_column }} = changes.order_date
        and changes.changed_at > target.refreshed_at
        and changes.changed_at > {{ previous_refreshed_at() }}
{% endmacro %}


{#- Post-hook of a month-keyed incremental model: as delete_stale_days, per
    month. -#}
{% macro delete_stale_months(month_column='month_start_date') %}
    delete from {{ this }} as target
    using {{ ref('int_order_dates_changed') }} as changes
    where
        target.{{ month_column }} = date_trunc('month', changes.order_date)::date
        and changes.changed_at > target.refreshed_at
        and changes.changed_at > {{ previous_refreshed_at() }}
{% endmacro %}


{#- Post-hook of a model that rewrites all its rows on every run (small marts with
    running totals): delete the rows this run did not write. -#}
{% macro delete_rows_not_refreshed() %}
    delete from {{ this }}
    where refreshed_at < {{ run_stamp() }}
{% endmacro %}
