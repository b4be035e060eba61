{#- The contract check of a model (dbt's default, without its warning about a
    bare `numeric`): money is `numeric` without precision or scale on purpose. In
    PostgreSQL that type keeps every digit it is given and never rounds; the
    warning is meant for warehouses where a bare numeric means a scale of 0. -#}
{% macro postgres__get_empty_schema_sql(columns) %}
    {%- set missing_type = [] -%}
    select
    {% for i in columns %}
        {%- set col = columns[i] -%}
        {%- if col['data_type'] is not defined -%}
            {%- do missing_type.append(col['name']) -%}
        {%- endif -%}
        {%- set col_name = adapter.quote(col['name']) if col.get('quote') else col['name'] %}
        {{ cast('null', col['data_type']) }} as {{ col_name }}{{ ", " if not loop.last }}
    {%- endfor -%}
    {%- if (missing_type | length) > 0 -%}
        {{ exceptions.column_type_missing(column_names=missing_type) }}
    {%- endif -%}
{% endmacro %}
