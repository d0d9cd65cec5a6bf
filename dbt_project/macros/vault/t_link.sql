{#- t_link(src_pk, src_fk, src_payload, src_eff, src_ldts, src_source, source_model): one row per
    transaction, never updated. A foreign key the event does not name becomes the ghost key, so the
    transaction is kept. Idempotent: a transaction already loaded is not inserted again. -#}
{% macro t_link(src_pk, src_fk, src_payload, src_eff, src_ldts, src_source, source_model) -%}
{{ config(incremental_strategy=audio_dwh.append_strategy()) }}
{%- set src_fk = audio_dwh.as_list(src_fk) -%}
{%- set src_payload = audio_dwh.as_list(src_payload) -%}
with batch as (
    select
        {{ src_pk }},
        {%- for fk in src_fk %}
        coalesce({{ fk }}, {{ audio_dwh.ghost_key() }}) as {{ fk }},
        {%- endfor %}
        {{ src_payload | join(', ') }}, {{ src_eff }}, {{ src_ldts }}, {{ src_source }}
    from {{ ref(source_model) }}
    where {{ src_pk }} is not null
),

{%- set columns = src_fk + src_payload + [src_eff, src_ldts, src_source] %}

first_occurrences as (
    {{ audio_dwh.first_per_key('batch', src_pk, columns, [src_ldts, src_eff] + src_fk + src_payload + [src_source]) }}
)

select {{ src_pk }}, {{ columns | join(', ') }}
from first_occurrences
{%- if is_incremental() %}
{#- A transaction's key includes its time, so it can only have been loaded on the batch's days. #}
where {{ src_pk }} not in (
      select {{ src_pk }} from {{ this }}
      where {{ src_ldts }} between (select min({{ src_ldts }}) from batch) and (select max({{ src_ldts }}) from batch)
  )
{%- endif %}
{%- endmacro %}
