{#- Hash keys and hashdiffs (see macros/vault/README.md for the rules).
    columns: a column name or a list of them (expressions are allowed). -#}

{% macro _hash_parts(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(nullif(upper(trim(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "))), ''), '^^')") -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}

{% macro hash(columns) -%}
    {%- set columns = audio_dwh.as_list(columns) -%}
    {%- set parts = audio_dwh._hash_parts(columns) -%}
    {#- A key with no value at all is no key: NULL, and the row names no such entity. -#}
    case when {% for part in parts %}{{ part }} = '^^'{% if not loop.last %} and {% endif %}{% endfor %}
         then null
         else {{ audio_dwh.md5_hex(parts | join(" || '||' || ")) }} end
{%- endmacro %}

{% macro hashdiff(columns) -%}
    {%- set columns = audio_dwh.as_list(columns) | sort -%}
    {{ audio_dwh.md5_hex(audio_dwh._hash_parts(columns) | join(" || '||' || ")) }}
{%- endmacro %}

{#- The agreed ghost key: a transactional link's foreign key to an entity the event does not name. -#}
{% macro ghost_key() -%} '00000000000000000000000000000000' {%- endmacro %}
