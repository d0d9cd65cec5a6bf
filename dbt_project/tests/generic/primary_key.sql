{#- The column is the table's primary key, judged on the rows of the run's days (day_column in the
    load window; every row when dbt runs without one): none is NULL, and none has a key that occurs
    more than once in the whole table. One query instead of unique + not_null, and its cost follows
    the day's rows, not the history's. -#}
{% test primary_key(model, column_name, day_column='load_date') %}
with run_rows as (
    select {{ column_name }} as key
    from {{ model }}
    where {{ audio_dwh.load_window(day_column) }}
),

whole_table as (
    select {{ column_name }} as key
    from {{ model }}
)

select whole_table.key, count(*) as occurrences
from whole_table
inner join (select distinct key from run_rows where key is not null) as run_keys
    on whole_table.key = run_keys.key
group by whole_table.key
having count(*) > 1

union all

select null as key, count(*) as occurrences
from run_rows
where key is null
having count(*) > 0
{% endtest %}
