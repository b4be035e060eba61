{#- An instant as the local time of the reporting time zone (var
    reporting_timezone, UTC by default): the calendar of every order date. -#}
{% macro in_reporting_timezone(column) -%}
    {{ local_time(column, var("reporting_timezone", "UTC")) }}
{%- endmacro %}
