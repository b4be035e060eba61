{#-
    Fails for every row where the SQL boolean `expression` is not true.
    With a column, the expression is appended to it: `column_name: units`,
    `expression: "> 0"`. Null results count as failures.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

    select *
    from {{ model }}
    {% if column_name is none %}
    where not coalesce(({{ expression }}), false)
    {%- else %}
    where not coalesce(({{ column_name }} {{ expression }}), false)
    {%- endif %}

{% endtest %}
