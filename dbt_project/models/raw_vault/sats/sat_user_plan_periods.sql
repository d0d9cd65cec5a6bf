{{ config(materialized='view') }}

{#- The user's plan over time: a period starts where the plan changes (a day opening on the plan the
    day before ended on continues its period), effective_to_ts is the next period's start, NULL while
    current. #}
with changes as (
    select *
    from (
        select
            *,
            lag(link_user_plan_pk) over (
                partition by user_pk order by effective_from_ts, link_user_plan_pk
            ) as previous_plan_link
        from {{ ref('sat_user_plan') }}
    ) as ordered
    where previous_plan_link is null or previous_plan_link <> link_user_plan_pk
)

select
    user_pk,
    plan_pk,
    link_user_plan_pk,
    effective_from_ts,
    lead(effective_from_ts) over (partition by user_pk order by effective_from_ts) as effective_to_ts,
    lead(effective_from_ts) over (partition by user_pk order by effective_from_ts) is null as is_current,
    load_date,
    record_source
from changes
