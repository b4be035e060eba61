{#- A timestamptz as the local time of the reporting time zone (var
    reporting_timezone, UTC by default): the calendar of every order date. -#}
{% macro in_reporting_timezone(column) -%}
    ({{ column }} at time zone '{{ var("reporting_timezone", "UTC") }}')
{%- endmacro %}
