{#- periods(src_pk, src_state, src_columns, source_model): a satellite's rows (kept per day) as
    periods over time: a period starts where src_state changes (a day opening on the state the day
    before ended on continues its period; ties by src_state, as the satellite orders them),
    effective_to_ts is the next period's start, NULL while current, and is_current marks it. -#}
{% macro periods(src_pk, src_state, src_columns, source_model) -%}
with changes as (
    select {{ src_columns | join(', ') }}
    from (
        select
            *,
            lag({{ src_state }}) over (
                partition by {{ src_pk }} order by effective_from_ts, {{ src_state }}
            ) as previous_state
        from {{ ref(source_model) }}
    ) as ordered
    where previous_state is null or previous_state <> {{ src_state }}
)

select
    *,
    lead(effective_from_ts) over (partition by {{ src_pk }} order by effective_from_ts) as effective_to_ts,
    lead(effective_from_ts) over (partition by {{ src_pk }} order by effective_from_ts) is null as is_current
from changes
{%- endmacro %}
