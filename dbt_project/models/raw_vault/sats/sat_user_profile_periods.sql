{{ config(materialized='view') }}

{#- The user's profile over time: a version starts where the profile changes (a day opening on the
    profile the day before ended on continues its version), effective_to_ts is the next version's
    start, NULL while current. #}
with changes as (
    select
        user_pk,
        user_hashdiff,
        first_name,
        last_name,
        gender,
        registration_ts,
        effective_from_ts,
        load_date,
        record_source
    from (
        select
            *,
            lag(user_hashdiff) over (
                partition by user_pk order by effective_from_ts, user_hashdiff
            ) as previous_hashdiff
        from {{ ref('sat_user_profile') }}
    ) as ordered
    where previous_hashdiff is null or previous_hashdiff <> user_hashdiff
)

select
    *,
    lead(effective_from_ts) over (partition by user_pk order by effective_from_ts) as effective_to_ts,
    lead(effective_from_ts) over (partition by user_pk order by effective_from_ts) is null as is_current
from changes
