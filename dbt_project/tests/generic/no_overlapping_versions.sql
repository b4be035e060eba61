{#-
    SCD2 sanity: for each key, the validity intervals [valid_from, valid_to) of its
    versions never overlap, and at most one version is current (valid_to null).
-#}
{% test no_overlapping_versions(
    model,
    column_name,
    valid_from='dbt_valid_from',
    valid_to='dbt_valid_to'
) %}

    with versions as (
        select
            {{ column_name }} as version_key,
            {{ valid_from }} as valid_from,
            coalesce({{ valid_to }}, {{ timestamp_infinity() }}) as valid_to
        from {{ model }}
    )

    select
        earlier.version_key,
        earlier.valid_from,
        earlier.valid_to,
        later.valid_from as next_valid_from
    from versions as earlier
    inner join versions as later
        on
            earlier.version_key = later.version_key
            and earlier.valid_from < later.valid_from
            and earlier.valid_to > later.valid_from

{% endtest %}
