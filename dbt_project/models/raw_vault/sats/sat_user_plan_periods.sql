{{ config(materialized='view') }}

{#- The user's plan over time: effective_to_ts is the next period's start, NULL while current. #}
select
    user_pk,
    plan_pk,
    link_user_plan_pk,
    effective_from_ts,
    lead(effective_from_ts) over (partition by user_pk order by effective_from_ts) as effective_to_ts,
    lead(effective_from_ts) over (partition by user_pk order by effective_from_ts) is null as is_current,
    load_date,
    record_source
from {{ ref('sat_user_plan') }}
