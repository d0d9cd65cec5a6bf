{{ recomputed_mart_config('activity_date', unique_key='activity_date') }}

{#- Per day: daily, weekly and monthly active users (distinct users who listened on the day, in the 7
    and in the 28 days ending with it) and DAU/MAU. A day counts in the 27 days after it, so a run
    rebuilds the days of its window and the 27 after them that hold data: loading a day late or
    again corrects every total it is part of. -#}
with days as (
    select distinct activity_date
    from {{ ref('mart_user_daily_activity') }}
    where {{ load_window('activity_date', days_after=27) }}
),

listeners as (
    select distinct
        activity_date,
        user_id
    from {{ ref('mart_user_daily_activity') }}
    where plays > 0 and {{ load_window('activity_date', days_before=27, days_after=27) }}
),

listens_in_reach as (
    select
        days.activity_date,
        listeners.activity_date as listened_date,
        listeners.user_id
    from days
    left join listeners
        on listeners.activity_date between {{ add_days('days.activity_date', -27) }} and days.activity_date
)

select
    activity_date,
    count(distinct case when listened_date = activity_date then user_id end) as daily_active_users,
    count(distinct case when listened_date >= {{ add_days('activity_date', -6) }} then user_id end)
        as weekly_active_users,
    count(distinct user_id) as monthly_active_users,
    count(distinct case when listened_date = activity_date then user_id end)
    / nullif(count(distinct user_id), 0) as dau_over_mau
from listens_in_reach
group by 1
