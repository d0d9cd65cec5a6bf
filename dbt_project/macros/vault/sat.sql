{#- sat(src_pk, src_hashdiff, src_payload, src_eff, src_ldts, src_source, source_model): the history
    of a parent key's payload. A row is kept only when its hashdiff differs from the key's previous
    state in effective_from order (ties: by hashdiff), so identical consecutive states collapse to the
    first. Incremental: the keys a batch touches get their history recomputed from what is stored
    plus the batch (unique_key = src_pk, replace strategy), which makes reloading a day a no-op and
    loading days out of order give the in-order history: a stored state made redundant by an earlier
    identical state arriving late is dropped. End dates are derived in views, never stored. -#}
{% macro sat(src_pk, src_hashdiff, src_payload, src_eff, src_ldts, src_source, source_model) -%}
    {{ audio_dwh._state_history(src_pk, src_hashdiff, [src_hashdiff] + audio_dwh.as_list(src_payload), src_eff, src_ldts, src_source, source_model) }}
{%- endmacro %}

{#- key: the column whose history it is; state: the column that tells states apart. -#}
{% macro _state_history(key, state, columns, src_eff, src_ldts, src_source, source_model) -%}
{{- adapter.dispatch('state_history_config', 'audio_dwh')(key, state, src_eff, source_model) }}
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

{#- DuckDB: the touched keys' rows are deleted and their recomputed history inserted (delete+insert). -#}
{% macro default__state_history_config(key, state, src_eff, source_model) -%}
    {{ config(unique_key=key, incremental_strategy='delete+insert') }}
{%- endmacro %}

{#- BigQuery has no delete+insert strategy, and a merge on the parent key alone would match many rows.
    So: merge on (key, effective from, state), which inserts the recomputed history's new rows, then
    delete the touched keys' rows whose state equals the one before (a stored state made redundant by
    a late day). The result is the same history; the delete is idempotent if a run stops between. -#}
{% macro bigquery__state_history_config(key, state, src_eff, source_model) -%}
    {{ config(
        unique_key=[key, src_eff, state],
        incremental_strategy='merge',
        post_hook="{{ audio_dwh.collapse_repeated_states('" ~ key ~ "', '" ~ state ~ "', '" ~ src_eff ~ "', '" ~ source_model ~ "') }}",
    ) }}
{%- endmacro %}

{% macro collapse_repeated_states(key, state, src_eff, source_model) -%}
{%- if is_incremental() -%}
delete from {{ this }} as stored
where {{ key }} in (select {{ key }} from {{ ref(source_model) }})
  and exists (
      select 1 from (
          select {{ key }} as k, {{ src_eff }} as e, {{ state }} as s,
                 lag({{ state }}) over (partition by {{ key }} order by {{ src_eff }}, {{ state }}) as previous_state
          from {{ this }}
          where {{ key }} in (select {{ key }} from {{ ref(source_model) }})
      ) ordered
      where ordered.k = stored.{{ key }} and ordered.e = stored.{{ src_eff }} and ordered.s = stored.{{ state }}
        and ordered.previous_state = ordered.s
  )
{%- endif -%}
{%- endmacro %}
