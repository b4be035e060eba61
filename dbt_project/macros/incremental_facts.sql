{#-
    The change window of the incremental facts (see the doc block
    def_incremental_facts): every raw row carries `synced_at`, stamped by the
    warehouse whenever the row is written, and every fact row carries
    `source_synced_at`: raw rows stamped after it may not have been read by the
    run that wrote the fact row. The next run re-reads the orders written after
    the latest of them.
-#}

{#- What a run stores in `source_synced_at`: the latest raw stamp it can see, but
    no later than var('sync_lookback_seconds') before it reads raw, so that a
    writer still in flight then (stamped earlier, committed later) is read by the
    next run. One index lookup per table. -#}
{% macro raw_synced_until() -%}
    least(
        (
            select max(latest.synced_at)
            from (
                select max(synced_at) as synced_at
                from {{ ref('stg_shop__orders') }}
                union all
                select max(synced_at) as synced_at
                from {{ ref('stg_shop__order_items') }}
                union all
                select max(synced_at) as synced_at
                from {{ ref('stg_shop__order_deletions') }}
            ) as latest
        ),
        {{ dbt.dateadd(
            'second', -1 * var('sync_lookback_seconds'), dbt.current_timestamp()
        ) }}
    )
{%- endmacro %}


{#- Where the previous runs of this model stopped reading raw; in a post-hook,
    `before_this_run` leaves out the rows this run wrote. An empty model starts
    from the beginning. -#}
{% macro sync_watermark(before_this_run=false) -%}
    (
        select
            coalesce(
                max(source_synced_at),
                cast('1900-01-01' as {{ dbt.type_timestamp() }})
            )
        from {{ this }}
        {%- if before_this_run %}
        where refreshed_at < {{ run_stamp() }}
        {%- endif %}
    )
{%- endmacro %}


{#- The orders whose fact rows may be out of date: the order, one of its lines or
    a deleted row of it was written in raw after `watermark`. After a truncate of
    raw (a deletion with no order id), every order of raw. -#}
{% macro orders_written_since(watermark) -%}
    select order_id
    from {{ ref('stg_shop__orders') }}
    where synced_at > {{ watermark }}

    union

    select order_id
    from {{ ref('stg_shop__order_items') }}
    where synced_at > {{ watermark }}

    union

    select order_id
    from {{ ref('stg_shop__order_deletions') }}
    where synced_at > {{ watermark }} and order_id is not null

    union

    select order_id
    from {{ ref('stg_shop__orders') }}
    where {{ everything_deleted_since(watermark) }}
{%- endmacro %}


{#- True when raw was truncated after `watermark`. -#}
{% macro everything_deleted_since(watermark) -%}
    exists (
        select 1
        from {{ ref('stg_shop__order_deletions') }} as deletions
        where deletions.synced_at > {{ watermark }} and deletions.order_id is null
    )
{%- endmacro %}


{#- A filter: `column` is one of the values `query` returns. On PostgreSQL written
    as "= any(array(...))": a plain filter the planner pushes down into the views
    below (index lookups on the few changed keys instead of a join over all of
    history). Use it on the views over raw; on a built table, a plain "in (...)"
    (a hashed lookup) is the better plan, as the ids of raw and of the marts
    differ in collation and an index lookup needs the same one. -#}
{% macro is_in(column, query) -%}
    {{ return(adapter.dispatch('is_in')(column, query)) }}
{%- endmacro %}

{% macro default__is_in(column, query) -%}
    {{ column }} in ({{ query }})
{%- endmacro %}

{% macro postgres__is_in(column, query) -%}
    {{ column }} = any(array({{ query }}))
{%- endmacro %}


{#- Post-hook of a fact: the rows of the orders this run re-read but did not
    rewrite are gone from raw (an order soft-deleted or deleted, a line removed or
    moved to another order). `key_column` names the rows of a written line. -#}
{% macro delete_rows_not_rewritten(key_column='order_id') %}
    {%- set watermark = sync_watermark(before_this_run=true) -%}
    delete from {{ this }}
    where
        refreshed_at < {{ run_stamp() }}
        and (
            order_id in ({{ orders_written_since(watermark) }})
            {%- if key_column != 'order_id' %}
            or {{ key_column }} in (
                select {{ key_column }}
                from {{ ref('stg_shop__order_items') }}
                where synced_at > {{ watermark }}
            )
            {%- endif %}
            or {{ everything_deleted_since(watermark) }}
        )
{% endmacro %}
