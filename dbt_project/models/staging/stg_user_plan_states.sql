{#- Which plan each user is on, as events show it: the level of every page view, except the
    Submit Upgrade / Submit Downgrade pages (they show the level before the change), and the new
    level of every status change, from its time on. Feeds link_user_plan and sat_user_plan. -#}
select
    user_pk,
    plan_pk,
    link_user_plan_pk,
    user_id,
    level,
    effective_from_ts,
    load_date,
    record_source
from {{ ref('stg_page_view_events') }}
where
    user_pk is not null and plan_pk is not null
    and page_name not in ('Submit Upgrade', 'Submit Downgrade')

union all

select
    user_pk,
    new_plan_pk,
    link_user_new_plan_pk,
    user_id,
    new_level,
    effective_from_ts,
    load_date,
    record_source
from {{ ref('stg_status_change_events') }}
where user_pk is not null and new_plan_pk is not null
