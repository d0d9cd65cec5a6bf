{#- The listener's point-in-time table over their profile and plan, at the snapshots as_of_dates_table
    asks for. Both satellites change only through page views and status changes. -#}
{% macro user_pit(as_of_dates_table) -%}
{{ audio_dwh.pit(src_pk='user_pk', as_of_dates_table=as_of_dates_table,
       satellites={
           'sat_user_profile': {'pk': 'user_pk', 'ldts': 'effective_from_ts', 'hashdiff': 'user_hashdiff'},
           'sat_user_plan': {'pk': 'user_pk', 'ldts': 'effective_from_ts', 'hashdiff': 'link_user_plan_pk'},
       },
       stage_tables_ldts={'stg_page_view_events': 'effective_from_ts', 'stg_status_change_events': 'effective_from_ts'},
       source_model='hub_user') }}
{%- endmacro %}
