{#- sat(src_pk, src_hashdiff, src_payload, src_eff, src_ldts, src_source, source_model): the history
    of a parent key's payload, kept per day: a key's rows of a day are its states that day in
    effective_from order (ties: by hashdiff), a row only where the state differs from the one before it
    that day, so identical consecutive states collapse to the first and every day the key is seen
    opens with its state. A day is what its events say, and nothing else: loading a day replaces that
    day's rows (replaces_run_days), so reloading it is a no-op, days load in any order, and a day sent
    again with events corrected or removed leaves the history its final files give. Across days the
    same state may follow itself; the period views (sat_*_periods) collapse such repeats, and a PIT
    finds the same state in force either way. End dates are derived in views, never stored. -#}
{% macro sat(src_pk, src_hashdiff, src_payload, src_eff, src_ldts, src_source, source_model) -%}
    {{ audio_dwh._state_history(src_pk, src_hashdiff, [src_hashdiff] + audio_dwh.as_list(src_payload), src_eff, src_ldts, src_source, source_model) }}
{%- endmacro %}

{#- key: the column whose history it is; state: the column that tells states apart. -#}
{% macro _state_history(key, state, columns, src_eff, src_ldts, src_source, source_model) -%}
{{ config(incremental_strategy=audio_dwh.append_strategy()) }}
{{ audio_dwh.replaces_run_days(src_ldts) }}
{%- set columns = [key] + columns + [src_eff, src_ldts, src_source] -%}
with batch as (
    select {{ columns | join(', ') }}
    from {{ ref(source_model) }}
    where {{ key }} is not null
),

one_per_state as (
    select {{ columns | join(', ') }}
    from (
        select *, row_number() over (
            partition by {{ key }}, {{ src_ldts }}, {{ src_eff }}, {{ state }} order by {{ src_source }}
        ) as occurrence
        from batch
    ) ranked
    where occurrence = 1
),

with_previous as (
    select *, lag({{ state }}) over (partition by {{ key }}, {{ src_ldts }} order by {{ src_eff }}, {{ state }}) as previous_state
    from one_per_state
)

select {{ columns | join(', ') }}
from with_previous
where previous_state is null or previous_state <> {{ state }}
{%- endmacro %}
