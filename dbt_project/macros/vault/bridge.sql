{#- bridge(source_model, src_pk, bridge_walk, stage_tables, src_columns={}): a bridge table, a row
    per key of a hub with the keys of the hubs and links a chain of links reaches from it.
    bridge_walk: {step: {'link_table': link, 'link_pk': its key, 'from_fk': a key already reached,
                         'to_fk': [the keys the link leads to]}}, walked in order; each link must
    name at most one row per from_fk (the bridge's primary key test proves it). A step that finds no
    row gives the ghost key, and so do the steps after it.
    src_columns: {name: SQL over the hub's columns} carried along (e.g. a key derived from its
    business key). The walks' links record facts that never end (no effectivity satellite), so
    there are no as-of dates: the row of a key is the same at every snapshot.
    Incremental (unique key src_pk): the keys the batch's stage_tables name are rebuilt. -#}
{% macro bridge(source_model, src_pk, bridge_walk, stage_tables, src_columns={}) -%}
{{ config(unique_key=src_pk, incremental_strategy=audio_dwh.replace_strategy()) }}
{#- refs taken outside the incremental branch, so dbt sees them when it parses -#}
{%- set stages = [] -%}
{%- for stage in stage_tables %}{% do stages.append(ref(stage)) %}{% endfor -%}
{%- set reached = {src_pk: 'batch.' ~ src_pk} -%}
{%- for name in src_columns %}{% do reached.update({name: 'batch.' ~ name}) %}{% endfor -%}
with batch as (
    select {{ src_pk }}{% for name, expression in src_columns.items() %}, {{ expression }} as {{ name }}{% endfor %}
    from {{ ref(source_model) }}
    {%- if is_incremental() %}
    where {{ src_pk }} in (
        {%- for stage in stages %}
        select {{ src_pk }} from {{ stage }}{% if not loop.last %} union all{% endif %}
        {%- endfor %}
    )
    {%- endif %}
)

select
    batch.*
    {%- for step, walk in bridge_walk.items() %},
    coalesce({{ step }}.{{ walk.link_pk }}, {{ audio_dwh.ghost_key() }}) as {{ walk.link_pk }}
    {%- for fk in walk.to_fk %},
    coalesce({{ step }}.{{ fk }}, {{ audio_dwh.ghost_key() }}) as {{ fk }}
    {%- endfor %}
    {%- endfor %}
from batch
{%- for step, walk in bridge_walk.items() %}
{%- if walk.from_fk not in reached %}
    {{ exceptions.raise_compiler_error("bridge step " ~ step ~ ": " ~ walk.from_fk ~ " is not reached before it") }}
{%- endif %}
left join {{ ref(walk.link_table) }} as {{ step }} on {{ step }}.{{ walk.from_fk }} = {{ reached[walk.from_fk] }}
{%- for fk in walk.to_fk %}{% do reached.update({fk: step ~ '.' ~ fk}) %}{% endfor %}
{%- endfor %}
{%- endmacro %}
