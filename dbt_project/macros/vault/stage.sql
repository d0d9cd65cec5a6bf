{#- stage(source_model, derived_columns, hashed_columns): AutomateDV's call shape.
    source_model: a model name (ref). derived_columns: {name: SQL expression}.
    hashed_columns: {name: column or [columns]} for hash keys, or
                    {name: {'is_hashdiff': true, 'columns': [...]}} for hashdiffs. -#}
{% macro stage(source_model, derived_columns={}, hashed_columns={}, include_source_columns=true) -%}
with source_data as (
    select * from {{ ref(source_model) }}
),

derived as (
    select
        {% if include_source_columns %}source_data.*{% if derived_columns %},{% endif %}{% endif %}
        {%- for name, expression in derived_columns.items() %}
        {{ expression }} as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from source_data
),

hashed as (
    select
        derived.*
        {%- for name, spec in hashed_columns.items() %},
        {% if spec is mapping and spec.get('is_hashdiff') -%}
            {{ audio_dwh.hashdiff(spec['columns']) }}
        {%- else -%}
            {{ audio_dwh.hash(spec) }}
        {%- endif %} as {{ name }}
        {%- endfor %}
    from derived
)

select * from hashed
{%- endmacro %}
