{#- The column is the table's primary key, judged on the rows of the run's days (day_column in the
    load window; every row when dbt runs without one): none is NULL, and none has a key that occurs
    more than once in the whole table. One query instead of unique + not_null, and its cost follows
    the day's rows, not the history's. -#}
{% test primary_key(model, column_name, day_column='load_date') %}
{{ audio_dwh.duplicates_in_run(model, [column_name], day_column) }}

union all

select null as {{ column_name }}, count(*) as occurrences
from {{ model }}
where {{ audio_dwh.load_window(day_column) }}
  and {{ column_name }} is null
having count(*) > 0
{% endtest %}
