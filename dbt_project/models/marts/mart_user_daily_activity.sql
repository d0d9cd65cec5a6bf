{{ mart_config('activity_date') }}

{#- Per day and logged-in user: sessions, plays, listening seconds, and the plan at the end of the day. #}
with sessions as (
    select
        cast(clicks.click_ts as date) as activity_date,
        session.user_id,
        count(distinct clicks.session_pk) as sessions
    from {{ ref('t_link_web_clickstream') }} as clicks
    inner join {{ ref('hub_session') }} as session on session.session_pk = clicks.session_pk
    where session.user_id is not null and {{ load_window('cast(clicks.click_ts as date)') }}
    group by 1, 2
),

plays as (
    {#- Durations have 5 decimals; a sum of doubles depends on the order rows are added in (threads,
        load order): rounded to those decimals it is the same whatever the order. -#}
    select play_start_date as activity_date, user_id, count(*) as plays, round(sum(song_played_sec), 5) as listening_sec
    from {{ ref('mart_song_play') }}
    where {{ load_window('play_start_date') }}
    group by 1, 2
),

levels as (
    select sessions.activity_date, sessions.user_id, plan.level
    from sessions
    inner join {{ ref('hub_user') }} as users on users.user_id = sessions.user_id
    inner join {{ ref('sat_user_plan_periods') }} as periods
        on periods.user_pk = users.user_pk
        and periods.effective_from_ts < cast({{ dbt.dateadd('day', 1, 'sessions.activity_date') }} as timestamp)
        and (periods.effective_to_ts is null
             or periods.effective_to_ts >= cast({{ dbt.dateadd('day', 1, 'sessions.activity_date') }} as timestamp))
    inner join {{ ref('hub_plan') }} as plan on plan.plan_pk = periods.plan_pk
)

select
    sessions.activity_date,
    sessions.user_id,
    sessions.sessions,
    coalesce(plays.plays, 0) as plays,
    coalesce(plays.listening_sec, 0) as listening_sec,
    levels.level
from sessions
left join plays on plays.activity_date = sessions.activity_date and plays.user_id = sessions.user_id
left join levels on levels.activity_date = sessions.activity_date and levels.user_id = sessions.user_id
