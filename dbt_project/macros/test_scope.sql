{#-
    Which rows the data tests read (see the doc block def_test_scope).

    An incremental model only rewrites the rows its build changed; the rows it
    kept were tested by the build that wrote them. So on an incremental model the
    row-by-row tests (not_null, accepted_values, relationships, expression_is_true,
    accepted_range) read only the rows of its latest build: those stamped with the
    latest `refreshed_at`. After a full build or `--full-refresh` that is every row.
    The key tests (unique_key, unique_combination_of_columns) check only the keys
    the latest build wrote, each against the whole table: a duplicate always
    involves a row of the build that created it (when that build wrote a tenth of
    the table or more, the whole table is grouped instead, in one pass).
    `--vars '{test_all_rows: true}'` makes every test read every row.
-#}

{#- `relation`, or only the rows written by its latest build. -#}
{% macro latest_build_rows(relation) -%}
    {%- if var('test_all_rows', false) -%}
        {{ relation }}
    {%- else -%}
        (
            select * from {{ relation }}
            where refreshed_at >= (select max(refreshed_at) from {{ relation }})
        )
    {%- endif -%}
{%- endmacro %}


{#- dbt wraps the model of every generic test in this macro (the `where` config
    keeps working as in dbt's own version). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set source = relation -%}
    {%- if execute and _checks_keys_of_latest_build() -%}
        {#- duplicate_keys applies `where` itself -#}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- if execute and _reads_latest_build_only() -%}
        {%- set source = latest_build_rows(relation) ~ ' as latest_build' -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ source ~ ' where ' ~ where ~ ') as dbt_subquery') -%}
    {%- endif -%}
    {%- do return(source) -%}
{%- endmacro %}


{#- The key values of `relation` (a column list) that are held by more than one
    row, or (nulls_fail) null. The `nullable` columns may be null (an unknown
    value, compared as equal to another unknown). On an incremental model whose
    latest build wrote few rows: only the keys of that build, each looked up in the
    whole table (or in what the test's `where` keeps). -#}
{% macro duplicate_keys(relation, columns, nulls_fail, nullable=[]) -%}
    {%- set key = columns | join(', ') -%}
    {%- set required = columns | reject('in', nullable) | list -%}
    {%- set any_null = required | join(' is null or ') ~ ' is null' -%}
    {%- set of_latest_build = execute and _checks_keys_of_latest_build() -%}
    {#- get_where_subquery left `where` to this macro -#}
    {%- set where = config.get('where') if of_latest_build else none -%}
    {%- if of_latest_build and _latest_build_is_small(relation) %}
    with latest_keys as (
        select ctid as row_ref, {{ key }}
        from {{ relation }}
        where
            refreshed_at >= (select max(refreshed_at) from {{ relation }})
            and ({{ where or 'true' }})
    )

    select {{ key }}
    from latest_keys
    where
        {% if nulls_fail and required %}{{ any_null }} or {% endif %}exists (
            select 1
            from {{ relation }} as other
            where
                {% for column in columns -%}
                other.{{ column }}
                {{- ' is not distinct from ' if column in nullable else ' = ' -}}
                latest_keys.{{ column }} and
                {% endfor -%}
                other.ctid <> latest_keys.row_ref
                and ({{ where or 'true' }})
        )
    {%- else %}
    select {{ key }}, count(*) as n_records
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
    group by {{ key }}
    having count(*) > 1{% if nulls_fail and required %} or {{ any_null }}{% endif %}
    {%- endif %}
{%- endmacro %}


{#- True when the latest build of `relation` wrote less than a tenth of the rows
    the table had when last analyzed: then its keys are looked up one by one.
    After a full build (every row is of the latest build, and a new table has no
    statistics yet) the whole table is grouped instead, in one pass. -#}
{% macro _latest_build_is_small(relation) -%}
    {{ return(adapter.dispatch('_latest_build_is_small')(relation)) }}
{%- endmacro %}

{#- Engines without table statistics (Spark): the whole table is grouped. -#}
{% macro default___latest_build_is_small(relation) -%}
    {{ return(false) }}
{%- endmacro %}

{% macro postgres___latest_build_is_small(relation) -%}
    {#- a table not built yet (e.g. `dbt docs generate` before the first build)
        has no latest build to look at -#}
    {%- if adapter.get_relation(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier,
    ) is none -%}
        {%- do return(false) -%}
    {%- endif -%}
    {#- a table never analyzed (reltuples -1) was just created: not counted -#}
    {%- set sizes = run_query(
        "select c.reltuples, case when c.reltuples >= 0 then (select count(*) from "
        ~ relation ~ " where refreshed_at >= (select max(refreshed_at) from "
        ~ relation ~ ")) end from pg_class as c inner join pg_namespace as n "
        ~ "on c.relnamespace = n.oid where n.nspname = '" ~ relation.schema
        ~ "' and c.relname = '" ~ relation.identifier ~ "'"
    ) -%}
    {%- set analyzed, latest = sizes.rows[0][0], sizes.rows[0][1] -%}
    {%- do return(latest is not none and latest * 10 < analyzed) -%}
{%- endmacro %}


{#- True when the test being compiled is a key test and its model is incremental
    with a `refreshed_at` stamp. -#}
{% macro _checks_keys_of_latest_build() -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- do return(
        test_name in ['unique_key', 'unique_combination_of_columns']
        and _tests_latest_build()
    ) -%}
{%- endmacro %}


{#- True when the test being compiled is row-by-row and its model is incremental
    with a `refreshed_at` stamp. -#}
{% macro _reads_latest_build_only() -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- do return(
        test_name in [
            'not_null', 'accepted_values', 'relationships', 'expression_is_true',
            'accepted_range',
        ]
        and _tests_latest_build()
    ) -%}
{%- endmacro %}


{#- True when the model under test is incremental with a `refreshed_at` stamp
    (and `test_all_rows` is off). -#}
{% macro _tests_latest_build() -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') -%}
    {%- do return(
        not var('test_all_rows', false)
        and tested is not none
        and tested.config.materialized == 'incremental'
        and 'refreshed_at' in tested.columns
    ) -%}
{%- endmacro %}
