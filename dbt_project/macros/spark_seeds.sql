{#-
    Seeds on Spark, as dbt-spark loads them but for two things: a `text` column
    type of the seeds' column_types (PostgreSQL's name, unknown to Spark) is
    Spark's `string`, and the values are written as escaped literals (dbt-spark's
    session method puts them unescaped into the SQL, so "The shop's" breaks it).
-#}
{% macro _spark_seed_type(model, agate_table, index) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set inferred = adapter.convert_type(agate_table, index) -%}
    {%- set type = column_override.get(agate_table.column_names[index], inferred) -%}
    {{ return('string' if type | lower == 'text' else type) }}
{%- endmacro %}


{% macro _spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}


{% macro spark__create_csv_table(model, agate_table) %}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
    {% set sql %}
    create table {{ this.render() }} (
        {%- for col_name in agate_table.column_names -%}
            {{ adapter.quote_seed_column(col_name | string, quote_seed_column) }}
            {{ _spark_seed_type(model, agate_table, loop.index0) }}
            {%- if not loop.last -%}, {%- endif -%}
        {%- endfor -%}
    )
    {{ file_format_clause() }}
    {{ partition_cols(label="partitioned by") }}
    {{ clustered_cols(label="clustered by") }}
    {{ location_clause() }}
    {{ comment_clause() }}
    {% endset %}

    {% call statement('_') -%}
        {{ sql }}
    {%- endcall %}

    {{ return(sql) }}
{% endmacro %}


{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(_spark_seed_type(model, agate_table, loop.index0)) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {% set sql %}
        insert into {{ this.render() }} values
        {% for row in chunk -%}
            (
            {%- for value in row -%}
                cast({{ _spark_seed_literal(value) }} as {{ types[loop.index0] }})
                {%- if not loop.last %}, {% endif -%}
            {%- endfor -%}
            ){%- if not loop.last %},{% endif %}
        {% endfor %}
        {% endset %}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {#- the SQL of the first batch, for the compiled files -#}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}
