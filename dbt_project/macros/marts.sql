{#- Marts rebuild whole days: a run replaces exactly the days of its window, so a re-run or a
    backfill never duplicates or drops rows. DuckDB: delete the window's days, then append.
    BigQuery: insert_overwrite of the window's date partitions (static: named from the window). -#}
{% macro mart_config(date_column, cluster_by=none, require_partition_filter=false) -%}
    {%- if target.type == 'bigquery' -%}
        {{ config(
            materialized='incremental',
            incremental_strategy='insert_overwrite',
            partition_by={'field': date_column, 'data_type': 'date', 'granularity': 'day'},
            partitions=audio_dwh.load_window_partitions(),
            cluster_by=cluster_by,
            require_partition_filter=require_partition_filter,
            meta={'day_column': date_column},
        ) }}
    {%- else -%}
        {{ config(
            materialized='incremental',
            incremental_strategy='append',
            pre_hook="{{ audio_dwh.delete_load_window('" ~ date_column ~ "') }}",
            meta={'day_column': date_column},
        ) }}
    {%- endif -%}
{%- endmacro %}

{% macro delete_load_window(date_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ audio_dwh.load_window(date_column) }}
    {%- endif -%}
{%- endmacro %}
