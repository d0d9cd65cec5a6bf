{{ mart_config('activity_date') }}

{#- Per day and logged-in user seen on the site: sessions, plays, listening seconds, and the plan,
    gender and registration date the user's profile had at the end of the day (pit_user_daily). #}
with sessions as (
    select
        cast(clicks.click_ts as date) as activity_date,
        session.user_id,
        count(distinct clicks.session_pk) as sessions
    from {{ ref('t_link_web_clickstream') }} as clicks
    inner join {{ ref('hub_session') }} as session on clicks.session_pk = session.session_pk
    where session.user_id is not null and {{ load_window('cast(clicks.click_ts as date)') }}
    group by 1, 2
),

plays as (
    {#- Durations have 5 decimals; a sum of doubles depends on the order rows are added in (threads,
        load order): rounded to those decimals it is the same whatever the order. -#}
    select
        play_start_date as activity_date,
        user_id,
        count(*) as plays,
        round(sum(song_played_sec), 5) as listening_sec
    from {{ ref('mart_song_play') }}
    where user_id is not null and {{ load_window('play_start_date') }}
    group by 1, 2
),

users_by_day as (
    select
        coalesce(sessions.activity_date, plays.activity_date) as activity_date,
        coalesce(sessions.user_id, plays.user_id) as user_id,
        coalesce(sessions.sessions, 0) as sessions,
        coalesce(plays.plays, 0) as plays,
        coalesce(plays.listening_sec, 0) as listening_sec
    from sessions
    full outer join plays on sessions.activity_date = plays.activity_date and sessions.user_id = plays.user_id
),

day_ends as (
    select * from {{ ref('pit_user_daily') }}
    where {{ load_window('cast(as_of_ts as date)') }}
)

select
    users_by_day.activity_date,
    users_by_day.user_id,
    users_by_day.sessions,
    users_by_day.plays,
    users_by_day.listening_sec,
    plan.level,
    profile.gender,
    cast(profile.registration_ts as date) as registration_date
from users_by_day
inner join {{ ref('hub_user') }} as users on users_by_day.user_id = users.user_id
left join day_ends as pit
    on users.user_pk = pit.user_pk and users_by_day.activity_date = cast(pit.as_of_ts as date)
{{ user_pit_joins('pit') }}
