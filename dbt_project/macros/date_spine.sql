{#-
    One row per `datepart` from start_date (included) to end_date (excluded), in a
    column named `date_<datepart>` of type date. start_date and end_date are SQL
    expressions (quote literals: "'2024-01-01'"), so they may be sub-queries.
    Like dbt_utils.date_spine, written here because `dbt deps` has no network.
    The spine never leaves 1970-01-01 .. 2100-01-01 (the range raw accepts for a
    moment), so one absurd value can never make it run away.
-#}
{% macro date_spine(start_date, end_date, datepart='day') %}
    {%- if datepart not in ['day', 'week', 'month', 'quarter', 'year'] -%}
        {{ exceptions.raise_compiler_error(
            "date_spine: datepart must be day, week, month, quarter or year, not "
            ~ datepart) }}
    {%- endif %}
    select cast(spine.period_start as date) as date_{{ datepart }}
    from generate_series(
        greatest(cast(({{ start_date }}) as timestamp), timestamp '1970-01-01'),
        least(cast(({{ end_date }}) as timestamp), timestamp '2100-01-01')
        - interval '1 {{ datepart }}',
        interval '1 {{ datepart }}'
    ) as spine (period_start)
{% endmacro %}
