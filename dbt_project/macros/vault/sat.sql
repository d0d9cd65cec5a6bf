{#- sat(src_pk, src_hashdiff, src_payload, src_eff, src_ldts, src_source, source_model): the history
    of a parent key's payload. A row is kept only when its hashdiff differs from the key's previous
    state in effective_from order (ties: by hashdiff), so identical consecutive states collapse to the
    first. Incremental: the keys a batch touches get their history recomputed from what is stored
    plus the batch (unique_key = src_pk, replace strategy), which makes reloading a day a no-op and
    loading days out of order give the in-order history: a stored state made redundant by an earlier
    identical state arriving late is dropped. End dates are derived in views, never stored. -#}
{% macro sat(src_pk, src_hashdiff, src_payload, src_eff, src_ldts, src_source, source_model) -%}
    {{ audio_dwh._state_history(src_pk, src_hashdiff, [src_hashdiff] + _as_list(src_payload), src_eff, src_ldts, src_source, source_model) }}
{%- endmacro %}

{% macro _as_list(value) -%}
    {{ return([value] if value is string else value) }}
{%- endmacro %}

{#- key: the column whose history it is; state: the column that tells states apart. -#}
{% macro _state_history(key, state, columns, src_eff, src_ldts, src_source, source_model) -%}
{%- set columns = [key] + columns + [src_eff, src_ldts, src_source] -%}
with batch as (
    select {{ columns | join(', ') }}
    from {{ ref(source_model) }}
    where {{ key }} is not null
),

{%- if is_incremental() %}

combined as (
    select {{ columns | join(', ') }} from {{ this }}
    where {{ key }} in (select {{ key }} from batch)
    union all
    select * from batch
),
{%- else %}

combined as (
    select * from batch
),
{%- endif %}

one_per_state as (
    select {{ columns | join(', ') }}
    from (
        select *, row_number() over (
            partition by {{ key }}, {{ src_eff }}, {{ state }} order by {{ src_ldts }}, {{ src_source }}
        ) as occurrence
        from combined
    ) ranked
    where occurrence = 1
),

with_previous as (
    select *, lag({{ state }}) over (partition by {{ key }} order by {{ src_eff }}, {{ state }}) as previous_state
    from one_per_state
)

select {{ columns | join(', ') }}
from with_previous
where previous_state is null or previous_state <> {{ state }}
{%- endmacro %}
