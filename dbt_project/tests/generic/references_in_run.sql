{#- dbt's relationships test for all of a table's foreign keys at once, on the rows of the run's days
    (day_column in the load window; every row when dbt runs without one): each non-NULL key in a
    column of `parents` names a row of that parent (same column name there), except the ghost key in
    the columns of `ghost_allowed` (a transaction that names no such entity). One query per table:
    a check costs about as much to run and record as the scans it makes. Fails with the column and
    the orphan key. -#}
{% test references_in_run(model, parents, ghost_allowed=[], day_column='load_date') %}
with run_rows as (
    select {{ parents.keys() | list | join(', ') }}
    from {{ model }}
    where {{ audio_dwh.load_window(day_column) }}
)
{%- for column, parent in parents.items() %}

select '{{ column }}' as foreign_key, child.{{ column }} as orphan_key
from (select distinct {{ column }} from run_rows where {{ column }} is not null) as child
left join {{ parent }} as parent on parent.{{ column }} = child.{{ column }}
where parent.{{ column }} is null
  {%- if column in ghost_allowed %}
  and child.{{ column }} <> {{ audio_dwh.ghost_key() }}
  {%- endif %}
{%- if not loop.last %}

union all
{%- endif %}
{%- endfor %}
{% endtest %}
