{#- Marts rebuild whole days: a run replaces exactly the days of its window, so a re-run or a
    backfill never duplicates or drops rows. DuckDB: delete the window's days, then append.
    BigQuery: insert_overwrite of the window's date partitions (static: named from the window). -#}
{% macro mart_config(date_column, cluster_by=none, require_partition_filter=false) -%}
    {{- adapter.dispatch('mart_config', 'audio_dwh')(date_column, cluster_by, require_partition_filter) -}}
{%- endmacro %}

{% macro default__mart_config(date_column, cluster_by, require_partition_filter) -%}
    {{ config(materialized='incremental', incremental_strategy='append') }}
    {{ audio_dwh.replaces_run_days(date_column) }}
{%- endmacro %}

{% macro bigquery__mart_config(date_column, cluster_by, require_partition_filter) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by={'field': date_column, 'data_type': 'date', 'granularity': 'day'},
        partitions=audio_dwh.load_window_partitions(),
        cluster_by=cluster_by,
        require_partition_filter=require_partition_filter,
        meta={'day_column': date_column},
    ) }}
{%- endmacro %}


{#- The satellite rows a user PIT row points at: joins giving `plan` (level) and `profile` (first and
    last name, gender, registration_ts); NULL where the PIT holds the ghost. -#}
{% macro user_pit_joins(pit) -%}
left join {{ ref('sat_user_plan') }} as plan_period
    on plan_period.user_pk = {{ pit }}.sat_user_plan_pk
    and plan_period.effective_from_ts = {{ pit }}.sat_user_plan_ldts
    and plan_period.link_user_plan_pk = {{ pit }}.sat_user_plan_hashdiff
left join {{ ref('hub_plan') }} as plan on plan.plan_pk = plan_period.plan_pk
left join {{ ref('sat_user_profile') }} as profile
    on profile.user_pk = {{ pit }}.sat_user_profile_pk
    and profile.effective_from_ts = {{ pit }}.sat_user_profile_ldts
    and profile.user_hashdiff = {{ pit }}.sat_user_profile_hashdiff
{%- endmacro %}

{#- Marts whose rows depend on other days than their own (a trailing window, the registrations of a
    day): the run's days are deleted first (a day that lost all its events leaves no row), and the
    model's query returns every row the run changes, which replace the stored rows of the same key
    (DuckDB delete+insert, BigQuery merge). Partitioned by date_column on BigQuery. -#}
{% macro recomputed_mart_config(date_column, unique_key, cluster_by=none) -%}
    {{- adapter.dispatch('recomputed_mart_config', 'audio_dwh')(date_column, unique_key, cluster_by) -}}
{%- endmacro %}

{% macro default__recomputed_mart_config(date_column, unique_key, cluster_by) -%}
    {{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=unique_key) }}
    {{ audio_dwh.replaces_run_days(date_column) }}
{%- endmacro %}

{% macro bigquery__recomputed_mart_config(date_column, unique_key, cluster_by) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=unique_key,
        partition_by={'field': date_column, 'data_type': 'date', 'granularity': 'day'},
        cluster_by=cluster_by,
    ) }}
    {{ audio_dwh.replaces_run_days(date_column) }}
{%- endmacro %}

{#- Marts computed whole each run (any day can change any row): a table. Partitioned by date_column
    on BigQuery. -#}
{% macro whole_mart_config(date_column, cluster_by=none) -%}
    {{- adapter.dispatch('whole_mart_config', 'audio_dwh')(date_column, cluster_by) -}}
{%- endmacro %}

{% macro default__whole_mart_config(date_column, cluster_by) -%}
    {{ config(materialized='table', meta={'day_column': date_column}) }}
{%- endmacro %}

{% macro bigquery__whole_mart_config(date_column, cluster_by) -%}
    {{ config(
        materialized='table',
        partition_by={'field': date_column, 'data_type': 'date', 'granularity': 'day'},
        cluster_by=cluster_by,
        meta={'day_column': date_column},
    ) }}
{%- endmacro %}
