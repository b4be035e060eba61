{#- After every run: the app's least-privilege role (ecom_app) may read the marts.
    The grant function comes with the raw schema (loader/sql/002_app_schema.sql);
    without it (or without the role) nothing happens. Spark has no such role:
    nothing to do there. -#}
{% macro grant_app_access() %}
    {{ return(adapter.dispatch('grant_app_access')()) }}
{% endmacro %}

{% macro default__grant_app_access() %}
{% endmacro %}

{% macro postgres__grant_app_access() %}
    {%- set marts_schema = generate_schema_name('marts', none) -%}
    do $$
    begin
        if to_regprocedure('app.grant_read_to_app(text)') is not null
            and to_regnamespace('{{ marts_schema }}') is not null then
            perform app.grant_read_to_app('{{ marts_schema }}');
        end if;
    end;
    $$
{% endmacro %}
