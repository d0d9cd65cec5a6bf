{#- A macro argument that may be one name or a list of them, as a list (AutomateDV's call shape takes both). -#}
{% macro as_list(value) -%}
    {{ return([value] if value is string else (value or [])) }}
{%- endmacro %}
