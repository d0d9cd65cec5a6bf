{#- link(src_pk, src_fk, src_ldts, src_source, source_model, src_fk_optional=[]): a hub over the
    combination of foreign hash keys. A row with a NULL required foreign key names no relationship
    and is not loaded; an optional foreign key (our addition to AutomateDV's shape) that is NULL
    becomes the ghost key. -#}
{% macro link(src_pk, src_fk, src_ldts, src_source, source_model, src_fk_optional=[]) -%}
    {{ config(unique_key=src_pk, incremental_strategy=audio_dwh.replace_strategy()) }}
    {%- set src_fk = audio_dwh.as_list(src_fk) -%}
    {%- set optional = [] -%}
    {%- for fk in src_fk_optional -%}
        {%- do optional.append("coalesce(" ~ fk ~ ", " ~ audio_dwh.ghost_key() ~ ") as " ~ fk) -%}
    {%- endfor -%}
    {{ audio_dwh._first_seen(src_pk, src_fk + optional, src_ldts, src_source, source_model, required=[src_pk] + src_fk) }}
{%- endmacro %}
