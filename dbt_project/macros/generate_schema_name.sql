{#- Layers land in schemas named exactly staging / vault / marts on every engine (dbt would
    otherwise prefix them with the target schema, e.g. main_vault). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
