{#-
    Helpers of the incremental models (see the doc blocks def_incremental_facts and
    def_incremental_marts).
-#}

{#- The time of this dbt invocation, as timestamptz: every row an incremental model
    (re)writes is stamped with it in `refreshed_at`. Later invocations start later,
    so a row written after a consumer's last run always carries a larger stamp than
    every row that consumer has already read. -#}
{% macro run_stamp() -%}
    cast('{{ run_started_at.isoformat() }}' as {{ type_timestamptz() }})
{%- endmacro %}


{#- The latest stamp already written to this model's table (-infinity when the
    table is empty): rows of the upstream models stamped later are new to it. -#}
{% macro last_refreshed_at(relation=this) -%}
    (
        select coalesce(max(refreshed_at), {{ timestamp_infinity('-') }})
        from {{ relation }}
    )
{%- endmacro %}


{#- In a post-hook: the latest stamp written before this run, i.e. the watermark
    the run started from (only the days changed after it can hold stale rows). -#}
{% macro previous_refreshed_at() -%}
    (
        select coalesce(max(refreshed_at), {{ timestamp_infinity('-') }})
        from {{ this }}
        where refreshed_at < {{ run_stamp() }}
    )
{%- endmacro %}


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


{#- The order dates whose orders changed after `since` (a timestamptz expression):
    see int_order_dates_changed. -#}
{% macro order_dates_changed_since(since) -%}
    select changes.order_date
    from {{ ref('int_order_dates_changed') }} as changes
    where changes.changed_at > {{ since }}
{%- endmacro %}


{#- The months (first days, as month_start_date) with a day whose orders changed
    after `since`. -#}
{% macro months_changed_since(since) -%}
    select cast(date_trunc('month', changes.order_date) as date) as month_start_date
    from {{ ref('int_order_dates_changed') }} as changes
    where changes.changed_at > {{ since }}
    group by cast(date_trunc('month', changes.order_date) as date)
{%- endmacro %}


{#- A filter: `date_column` falls in one of the months of the CTE `months` (column
    month_start_date). Written as "= any(array(...))" over the model's `calendar`
    CTE (dim_date), so that postgres reads those days through the index on the
    date instead of joining the whole table (see is_in). -#}
{% macro date_in_months(months, date_column='order_date') -%}
    {{ is_in(date_column,
        'select calendar.date_day from calendar inner join ' ~ months
        ~ ' on calendar.month_start_date = ' ~ months ~ '.month_start_date') }}
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


{#- Post-hook of int_basket_items_grouped: delete the rows, on the days whose orders
    changed since the previous run, that this run did not rewrite and whose line
    is no longer a sale line of the fact (an order cancelled, soft-deleted or
    gone, a line removed or given another product). -#}
{% macro delete_basket_items_no_longer_sold() %}
    with changed_days as (
        {{ order_dates_changed_since(previous_refreshed_at()) }}
    )

    delete from {{ this }} as target
    where
        -- "= any(array(...))": both sides read through their order_date indexes
        target.order_date = any(array(
            select changed_days.order_date from changed_days
        ))
        and target.refreshed_at < {{ run_stamp() }}
        -- nothing to do when every row is of this run (the first build)
        and exists (
            select 1
            from {{ this }} as earlier
            where earlier.refreshed_at < {{ run_stamp() }}
        )
        and not exists (
            select 1
            from {{ ref('fct_order_items') }} as lines
            where
                lines.order_date = any(array(
                    select changed_days.order_date from changed_days
                ))
                and lines.order_id = target.order_id
                and lines.product_id = target.product_id
                and lines.is_sale
        )
{% endmacro %}


{#- Post-hook of a month-keyed incremental model: as delete_stale_days, per
    month. -#}
{% macro delete_stale_months(month_column='month_start_date') %}
    delete from {{ this }} as target
    using {{ ref('int_order_dates_changed') }} as changes
    where
        target.{{ month_column }} = cast(date_trunc('month', changes.order_date) as date)
        and changes.changed_at > target.refreshed_at
        and changes.changed_at > {{ previous_refreshed_at() }}
{% endmacro %}


{#- Post-hook of a model that rewrites all its rows on every run (small marts with
    running totals): delete the rows this run did not write. -#}
{% macro delete_rows_not_refreshed() %}
    delete from {{ this }}
    where refreshed_at < {{ run_stamp() }}
{% endmacro %}
