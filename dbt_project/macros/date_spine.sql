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
    {%- set first = "greatest(cast((" ~ start_date
        ~ ") as timestamp), timestamp '1970-01-01')" -%}
    {%- set last = "least(cast((" ~ end_date
        ~ ") as timestamp), timestamp '2100-01-01')" -%}
    {{ return(adapter.dispatch('date_spine')(first, last, datepart)) }}
{% endmacro %}

{% macro postgres__date_spine(first, last, datepart) %}
    select cast(spine.period_start as date) as date_{{ datepart }}
    from generate_series(
        {{ first }},
        {{ last }} - interval '1 {{ datepart }}',
        interval '1 {{ datepart }}'
    ) as spine (period_start)
{% endmacro %}

{#- Spark: sequence() of the periods, one row each through explode(); an empty
    range gives no row, as generate_series does. -#}
{% macro default__date_spine(first, last, datepart) %}
    {%- set step = "interval 3 month" if datepart == 'quarter'
        else "interval 1 " ~ datepart -%}
    select cast(spine.period_start as date) as date_{{ datepart }}
    from (
        select explode(
            case
                when {{ first }} <= {{ last }} - {{ step }}
                    then sequence({{ first }}, {{ last }} - {{ step }}, {{ step }})
            end
        ) as period_start
    ) as spine
{% endmacro %}
