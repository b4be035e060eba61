{#-
    dbt-postgres stamps snapshots with `now()::timestamp without time zone`, while
    every timestamp of this project (and the snapshots' updated_at) is timestamptz
    in UTC; dbt then warns that the types differ. Keep snapshot times timestamptz.
-#}
{% macro postgres__snapshot_get_time() -%}
    {{ current_timestamp() }}
{%- endmacro %}
