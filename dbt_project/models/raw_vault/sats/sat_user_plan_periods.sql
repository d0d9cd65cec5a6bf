{{ config(materialized='view') }}

{#- The user's plan over time: a period per plan in effect, until the next one. #}
{{ periods(
    src_pk='user_pk',
    src_state='link_user_plan_pk',
    src_columns=['user_pk', 'plan_pk', 'link_user_plan_pk', 'effective_from_ts', 'load_date', 'record_source'],
    source_model='sat_user_plan'
) }}
