{#-
    Which rows the data tests read (see the doc block def_test_scope).

    An incremental model only rewrites the rows its build changed; the rows it
    kept were tested by the build that wrote them. So on an incremental model the
    row-by-row tests (not_null, accepted_values, relationships, expression_is_true,
    accepted_range) read only the rows of its latest build: those stamped with the
    latest `refreshed_at`. After a full build or `--full-refresh` that is every row.
    Tests that compare rows with each other (unique, unique_combination_of_columns)
    always read the whole table. `--vars '{test_all_rows: true}'` makes every test
    read every row.
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
    {%- if execute and _reads_latest_build_only() -%}
        {%- set source = latest_build_rows(relation) ~ ' as latest_build' -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ source ~ ' where ' ~ where ~ ') as dbt_subquery') -%}
    {%- endif -%}
    {%- do return(source) -%}
{%- endmacro %}


{#- True when the test being compiled is row-by-row and its model is incremental
    with a `refreshed_at` stamp. -#}
{% macro _reads_latest_build_only() -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') -%}
    {%- do return(
        not var('test_all_rows', false)
        and test_name in [
            'not_null', 'accepted_values', 'relationships', 'expression_is_true',
            'accepted_range',
        ]
        and tested is not none
        and tested.config.materialized == 'incremental'
        and 'refreshed_at' in tested.columns
    ) -%}
{%- endmacro %}
