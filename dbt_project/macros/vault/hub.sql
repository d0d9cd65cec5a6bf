{#- hub(src_pk, src_nk, src_ldts, src_source, source_model): one row per key, ever, carrying the
    earliest load_date it was seen (ties: the smaller record_source, then the smaller key columns).
    Several source models union.
    Incremental: inserts new keys; an out-of-order backfill may move an existing key's first-seen
    load_date (and its record_source) earlier; a key first seen on a day the run covers takes that
    day's row again (the run holds the day's final events, so a correction or removal of the event
    that showed it first is followed, as a home that only saw the final files would have it). -#}
{% macro hub(src_pk, src_nk, src_ldts, src_source, source_model) -%}
    {{ config(unique_key=src_pk, incremental_strategy=audio_dwh.replace_strategy()) }}
    {{ audio_dwh._first_seen(src_pk, src_nk, src_ldts, src_source, source_model, required=[src_pk]) }}
{%- endmacro %}

{% macro _first_seen(src_pk, columns, src_ldts, src_source, source_model, required) -%}
{%- set columns = audio_dwh.as_list(columns) -%}
{%- set models = audio_dwh.as_list(source_model) -%}
{#- columns may be expressions "<sql> as <name>": later steps need the names -#}
{%- set names = [] -%}
{%- for column in columns -%}{%- do names.append(column.split(' as ')[-1] | trim) -%}{%- endfor -%}
with candidates as (
    {%- for model in models %}
    select {{ src_pk }}, {{ columns | join(', ') }}, {{ src_ldts }}, {{ src_source }}
    from {{ ref(model) }}
    where {% for column in required %}{{ column }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

earliest as (
    {{ audio_dwh.first_per_key('candidates', src_pk, names + [src_ldts, src_source], [src_ldts, src_source] + names) }}
)

select batch.*
from earliest as batch
{%- if is_incremental() %}
left join {{ this }} as existing on existing.{{ src_pk }} = batch.{{ src_pk }}
where existing.{{ src_pk }} is null
   or batch.{{ src_ldts }} <= existing.{{ src_ldts }}
{%- endif %}
{%- endmacro %}
