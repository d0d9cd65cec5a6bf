{{ config(materialized='view') }}

{#- The user's profile over time: effective_to_ts is the next version's start, NULL while current. #}
select
    *,
    lead(effective_from_ts) over (partition by user_pk order by effective_from_ts) as effective_to_ts,
    lead(effective_from_ts) over (partition by user_pk order by effective_from_ts) is null as is_current
from {{ ref('sat_user_profile') }}
