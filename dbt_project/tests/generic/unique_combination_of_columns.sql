{#- Fails for every combination of `combination_of_columns` seen more than once
    (nulls allowed). On an incremental model only the combinations its latest
    build wrote are checked, against the whole table (see def_test_scope). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {{ duplicate_keys(model, combination_of_columns, nulls_fail=false) }}
{% endtest %}
