{#- None of the columns is NULL in the rows of the run's days (day_column in the load window; every
    row when dbt runs without one). One query per table rather than one per column: a check costs
    about as much to run and record as the scan it makes. -#}
{% test not_null_in_run(model, columns, day_column='load_date') %}
select *
from {{ model }}
where {{ audio_dwh.load_window(day_column) }}
  and ({% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %})
{% endtest %}
