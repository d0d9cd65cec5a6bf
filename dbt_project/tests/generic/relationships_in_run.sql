{#- dbt's relationships test on the rows of the run's days (day_column in the load window; every row
    when dbt runs without one): each non-NULL key names a row of the parent table. The history was
    judged by the runs that loaded it, so a day's check does not grow with it. -#}
{% test relationships_in_run(model, column_name, to, field, day_column='load_date') %}
with child as (
    select {{ column_name }} as key
    from {{ model }}
    where {{ audio_dwh.load_window(day_column) }}
      and {{ column_name }} is not null
),

parent as (
    select {{ field }} as key
    from {{ to }}
)

select child.key as orphan_key
from child
left join parent on parent.key = child.key
where parent.key is null
{% endtest %}
