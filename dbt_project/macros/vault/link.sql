{#- link(src_pk, src_fk, src_ldts, src_source, source_model): a hub over the combination of foreign
    hash keys. A row with any NULL foreign key names no relationship and is not loaded. -#}
{% macro link(src_pk, src_fk, src_ldts, src_source, source_model) -%}
    {%- set src_fk = [src_fk] if src_fk is string else src_fk -%}
    {{ audio_dwh._first_seen(src_pk, src_fk, src_ldts, src_source, source_model, required=[src_pk] + src_fk) }}
{%- endmacro %}
