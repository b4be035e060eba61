{#-
    Model configs that differ between the engines (see the doc block def_engines).
    Spark without a table format such as Delta or Iceberg can neither delete nor
    merge rows: the incremental models are plain tables there, rebuilt by every
    run, and their hooks (memory settings of a PostgreSQL transaction, deletes of
    stale rows) run on PostgreSQL only.
-#}

{#- `materialized=incremental_on_postgres()`: incremental on PostgreSQL, a table
    elsewhere. -#}
{% macro incremental_on_postgres() -%}
    {{ return('incremental' if target.type == 'postgres' else 'table') }}
{%- endmacro %}


{#- `pre_hook=on_postgres([...])`: the hooks on PostgreSQL, none elsewhere. -#}
{% macro on_postgres(hooks) -%}
    {{ return(hooks if target.type == 'postgres' else []) }}
{%- endmacro %}
