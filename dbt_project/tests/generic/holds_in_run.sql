{#- Every row of the run's days (day_column in the load window; every row when dbt runs without one)
    satisfies the condition, a SQL expression over the model's columns; the rows that do not fail it. -#}
{% test holds_in_run(model, condition, day_column='load_date') %}
select *
from {{ model }}
where {{ audio_dwh.load_window(day_column) }}
  and not coalesce({{ condition }}, false)
{% endtest %}
