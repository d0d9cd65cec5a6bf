{#- Incremental models on DuckDB, lean: the day's rows are computed once into a temporary table, the
    schema check (on_schema_change: fail) and the delete+insert or append run in the same statement
    batch. dbt-duckdb's own materialization asks the catalog several times a model through dbt's
    Python, rows or not (the saving is in bench/results/history.md). Everything else (first build, full refresh, other strategies
    or schema policies, predicates, grants, contracts) goes to dbt-duckdb's materialization. -#}
{% materialization incremental, adapter='duckdb' -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- set strategy = config.get('incremental_strategy') or 'append' -%}
    {%- set on_schema_change = config.get('on_schema_change') or 'ignore' -%}
    {%- set plain = strategy in ['append', 'delete+insert'] and on_schema_change in ['fail', 'ignore']
          and not (config.get('incremental_predicates') or config.get('predicates') or config.get('grants')
                   or model['contract']['enforced']) -%}
    {%- if existing is none or existing.is_view or should_full_refresh() or model['language'] != 'sql' or not plain -%}
        {{ return(dbt.materialization_incremental_duckdb()) }}
    {%- endif -%}
    {%- set target = this.incorporate(type='table') -%}
    {%- set batch = this.identifier ~ '__dbt_batch' -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set keys = audio_dwh.as_list(unique_key) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {% call statement('main') -%}
        create or replace temporary table {{ batch }} as (
            {{ compiled_code }}
        );
        {%- if on_schema_change == 'fail' %}
        {{ audio_dwh.fail_on_schema_change(target, batch) }};
        {%- endif %}
        {%- if strategy == 'delete+insert' and keys %}
        delete from {{ target }} as stored using temp.main.{{ batch }} as batch
        where {% for key in keys %}stored.{{ key }} = batch.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %};
        {%- endif %}
        insert into {{ target }} by name select * from temp.main.{{ batch }};
        drop table temp.main.{{ batch }}
    {%- endcall %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target]}) }}
{%- endmaterialization %}

{#- Raises (DuckDB's error()) when the batch's columns or types differ from the stored table's. -#}
{% macro fail_on_schema_change(target, batch) -%}
with batch_columns as (
    select column_name, data_type from duckdb_columns() where database_name = 'temp' and table_name = '{{ batch }}'
),
table_columns as (
    select column_name, data_type from duckdb_columns()
    where database_name = '{{ target.database }}' and schema_name = '{{ target.schema }}' and table_name = '{{ target.identifier }}'
)
select error('The columns of incremental model {{ target }} no longer match its table (on_schema_change: fail); '
             || 'differing: ' || string_agg(column_name || ' ' || data_type, ', ' order by column_name)
             || '. Rebuild it over every day: dbt run --full-refresh --select +{{ target.identifier }}, without a date window.')
from ((from batch_columns except from table_columns) union all (from table_columns except from batch_columns)) as differing
having count(*) > 0
{%- endmacro %}
