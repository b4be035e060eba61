{#-
    The SQL that PostgreSQL and Apache Spark spell differently (see the doc block
    def_engines). Models call these macros, or dbt's own cross-database macros,
    and never write an engine's own syntax.
-#}

{#- A point in time (an instant, shown in UTC): timestamptz on PostgreSQL, where
    a `timestamp` has no time zone; Spark's `timestamp` is already an instant. -#}
{% macro type_timestamptz() -%}
    {{ return(adapter.dispatch('type_timestamptz')()) }}
{%- endmacro %}

{% macro default__type_timestamptz() -%}
    timestamp
{%- endmacro %}

{% macro postgres__type_timestamptz() -%}
    timestamptz
{%- endmacro %}


{#- Text of any length. -#}
{% macro type_text() -%}
    {{ return(adapter.dispatch('type_text')()) }}
{%- endmacro %}

{% macro default__type_text() -%}
    string
{%- endmacro %}

{% macro postgres__type_text() -%}
    text
{%- endmacro %}


{#- An exact decimal, for money and its ratios: PostgreSQL's `numeric` keeps every
    digit; Spark needs a precision and scale (its bare `numeric` has no decimals). -#}
{% macro type_decimal() -%}
    {{ return(adapter.dispatch('type_decimal')()) }}
{%- endmacro %}

{% macro default__type_decimal() -%}
    decimal(38, 6)
{%- endmacro %}

{% macro postgres__type_decimal() -%}
    numeric
{%- endmacro %}


{#- A double precision float (Spark's `float` has single precision). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro postgres__type_double() -%}
    double precision
{%- endmacro %}


{#- The ends of time, as instants: the open ends of a validity interval. Spark
    has no infinite timestamps: the first and last second its calendar holds. -#}
{% macro timestamp_infinity(sign='') -%}
    {{ return(adapter.dispatch('timestamp_infinity')(sign)) }}
{%- endmacro %}

{% macro default__timestamp_infinity(sign) -%}
    {%- if sign == '-' -%}
        timestamp '0001-01-01 00:00:00'
    {%- else -%}
        timestamp '9999-12-31 23:59:59'
    {%- endif -%}
{%- endmacro %}

{% macro postgres__timestamp_infinity(sign) -%}
    cast('{{ sign }}infinity' as timestamptz)
{%- endmacro %}


{#- An instant as the wall-clock time of the IANA time zone `timezone` (a
    timestamp without time zone on PostgreSQL). -#}
{% macro local_time(column, timezone) -%}
    {{ return(adapter.dispatch('local_time')(column, timezone)) }}
{%- endmacro %}

{% macro default__local_time(column, timezone) -%}
    from_utc_timestamp({{ column }}, '{{ timezone }}')
{%- endmacro %}

{% macro postgres__local_time(column, timezone) -%}
    ({{ column }} at time zone '{{ timezone }}')
{%- endmacro %}


{#- Seconds (with their fraction) from the instant `start` to the instant `end`. -#}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between')(start, end)) }}
{%- endmacro %}

{% macro default__seconds_between(start, end) -%}
    ((unix_micros({{ end }}) - unix_micros({{ start }})) / 1000000.0)
{%- endmacro %}

{% macro postgres__seconds_between(start, end) -%}
    extract(epoch from {{ end }} - {{ start }})
{%- endmacro %}


{#- A number of a date's calendar: year, quarter, month, day, doy (day of the
    year), isoyear, week (ISO week), isodow (ISO day of the week, Monday 1). -#}
{% macro calendar_part(part, date) -%}
    {{ return(adapter.dispatch('calendar_part')(part, date)) }}
{%- endmacro %}

{% macro default__calendar_part(part, date) -%}
    {%- set spark_names = {'isoyear': 'yearofweek', 'isodow': 'dayofweek_iso'} -%}
    cast(extract({{ spark_names.get(part, part) }} from {{ date }}) as integer)
{%- endmacro %}

{% macro postgres__calendar_part(part, date) -%}
    cast(extract({{ part }} from {{ date }}) as integer)
{%- endmacro %}


{#- A date's name of the month ('January'; short: 'Jan') or of the day of the week
    ('Monday'), in English. -#}
{% macro month_name(date, short=false) -%}
    {{ return(adapter.dispatch('month_name')(date, short)) }}
{%- endmacro %}

{% macro default__month_name(date, short) -%}
    date_format({{ date }}, '{{ "MMM" if short else "MMMM" }}')
{%- endmacro %}

{% macro postgres__month_name(date, short) -%}
    to_char({{ date }}, '{{ "Mon" if short else "FMMonth" }}')
{%- endmacro %}

{% macro day_name(date) -%}
    {{ return(adapter.dispatch('day_name')(date)) }}
{%- endmacro %}

{% macro default__day_name(date) -%}
    date_format({{ date }}, 'EEEE')
{%- endmacro %}

{% macro postgres__day_name(date) -%}
    to_char({{ date }}, 'FMDay')
{%- endmacro %}


{#- A date as 'YYYY-MM'. -#}
{% macro year_month(date) -%}
    {{ return(adapter.dispatch('year_month')(date)) }}
{%- endmacro %}

{% macro default__year_month(date) -%}
    date_format({{ date }}, 'yyyy-MM')
{%- endmacro %}

{% macro postgres__year_month(date) -%}
    to_char({{ date }}, 'YYYY-MM')
{%- endmacro %}


{#- In a select list: one row per integer from `start` to `stop` (both included)
    for each row of the query. -#}
{% macro integer_series(start, stop) -%}
    {{ return(adapter.dispatch('integer_series')(start, stop)) }}
{%- endmacro %}

{% macro default__integer_series(start, stop) -%}
    explode(sequence({{ start }}, {{ stop }}))
{%- endmacro %}

{% macro postgres__integer_series(start, stop) -%}
    generate_series({{ start }}, {{ stop }})
{%- endmacro %}


{#- An aggregate: the `value` of the row with the smallest `order_by`. -#}
{% macro first_by(value, order_by) -%}
    {{ return(adapter.dispatch('first_by')(value, order_by)) }}
{%- endmacro %}

{% macro default__first_by(value, order_by) -%}
    min_by({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro postgres__first_by(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }}))[1]
{%- endmacro %}


{#- Between `as` and the body of a CTE read more than once: PostgreSQL then reads
    it in place (its filters reach the indexes of the table) instead of storing
    it first; the other engines have no such keyword. -#}
{% macro inlined() -%}
    {{ return(adapter.dispatch('inlined')()) }}
{%- endmacro %}

{% macro default__inlined() -%}
{%- endmacro %}

{% macro postgres__inlined() -%}
    not materialized
{%- endmacro %}


{#- Between `as` and the body of a small CTE read many times: PostgreSQL computes
    it once (instead of in every place that reads it). -#}
{% macro computed_once() -%}
    {{ return(adapter.dispatch('computed_once')()) }}
{%- endmacro %}

{% macro default__computed_once() -%}
{%- endmacro %}

{% macro postgres__computed_once() -%}
    materialized
{%- endmacro %}


{#- Every match of the regular expression `pattern` in `string` replaced by
    `replacement`, where `\1` stands for the first group. pattern and replacement
    are the bare texts (not SQL literals): this macro quotes them for the engine
    (Spark's literals take backslash escapes, its replacements write `$1`). -#}
{% macro replace_all(string, pattern, replacement) -%}
    {{ return(adapter.dispatch('replace_all')(string, pattern, replacement)) }}
{%- endmacro %}

{% macro default__replace_all(string, pattern, replacement) -%}
    {%- set quoted_pattern = pattern | replace("\\", "\\\\") | replace("'", "\\'") -%}
    {%- set quoted_replacement = replacement | replace("$", "\\\\$")
        | replace("\\1", "$1") | replace("'", "\\'") -%}
    regexp_replace({{ string }}, '{{ quoted_pattern }}', '{{ quoted_replacement }}')
{%- endmacro %}

{% macro postgres__replace_all(string, pattern, replacement) -%}
    {%- set quoted_pattern = pattern | replace("'", "''") -%}
    {%- set quoted_replacement = replacement | replace("'", "''") -%}
    regexp_replace({{ string }}, '{{ quoted_pattern }}', '{{ quoted_replacement }}', 'g')
{%- endmacro %}
