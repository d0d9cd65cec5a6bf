{#- The combination of columns is unique (a satellite's parent key and effective_from_ts), judged on
    the combinations of the run's days (day_column in the load window; every row when dbt runs
    without one) against the whole table. -#}
{% test unique_combination(model, columns, day_column='load_date') %}
{{ audio_dwh.duplicates_in_run(model, columns, day_column) }}
{% endtest %}
