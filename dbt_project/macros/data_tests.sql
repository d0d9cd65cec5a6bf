{#- The SQL the generic data tests (tests/generic) share: combinations of columns that rows of the
    run's days (day_column in the load window; every row when dbt runs without one) have and that
    occur more than once in the whole table, with their count. -#}
{% macro duplicates_in_run(model, columns, day_column) -%}
with whole_table as (
    select {{ columns | join(', ') }}
    from {{ model }}
),

run_combinations as (
    select distinct {{ columns | join(', ') }}
    from {{ model }}
    where {{ audio_dwh.load_window(day_column) }}
)

select {% for column in columns %}whole_table.{{ column }}, {% endfor %}count(*) as occurrences
from whole_table
inner join run_combinations
    on {% for column in columns %}whole_table.{{ column }} = run_combinations.{{ column }}{% if not loop.last %}
   and {% endif %}{% endfor %}
group by all
having count(*) > 1
{%- endmacro %}
