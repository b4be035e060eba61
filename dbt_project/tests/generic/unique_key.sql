{#-
    The key of a model: fails for every value of `column_name` (or combination of
    `columns`) that is null or held by more than one row, i.e. the unique and
    not_null tests of a key in one query. The `nullable` columns of the key may be
    null (an unknown, one row per combination all the same). On an incremental
    model only the keys its latest build wrote are checked, against the whole table
    (see def_test_scope).
-#}
{% test unique_key(model, column_name=none, columns=none, nullable=[]) %}
    {{ duplicate_keys(model, columns or [column_name], nulls_fail=true, nullable=nullable) }}
{% endtest %}
