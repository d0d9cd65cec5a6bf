{{ recomputed_mart_config('activity_date', unique_key='activity_date') }}

{#- Per day: listens, listening hours, sessions and their mean length, daily active users (users who
    listened), the paid share of listens (the plan at each play), and new registrations: the users
    seen on the site whose registration falls on the day. All but the last are the day's own; a
    user seen for the first time on a later day adds to an earlier day's registrations, so a run
    also rebuilds the stored days its users registered on (their other figures kept as stored). -#}
with plays as (
    select
        play_start_date as activity_date,
        count(*) as listens,
        {#- rounded before dividing: a sum of doubles depends on the order rows are added in -#}
        round(sum(song_played_sec), 5) / 3600 as listening_hours,
        count(distinct user_id) as daily_active_users,
        count(case when level = 'paid' then 1 end) / count(*) as paid_share_of_listens
    from {{ ref('mart_song_play') }}
    where {{ load_window('play_start_date') }}
    group by 1
),

session_spans as (
    select
        cast(clicks.click_ts as date) as activity_date,
        clicks.session_pk,
        {# dbt.datediff renders as one long line #}
        {{ dbt.datediff('min(clicks.click_ts)', 'max(clicks.click_ts)', 'millisecond') }} as span_ms  -- noqa: LT05
    from {{ ref('t_link_web_clickstream') }} as clicks
    where {{ load_window('cast(clicks.click_ts as date)') }}
    group by 1, 2
),

sessions as (
    select
        activity_date,
        count(*) as sessions,
        round(avg(span_ms) / 60000, 6) as mean_session_minutes
    from session_spans
    group by 1
),

own_figures as (
    select
        sessions.activity_date,
        coalesce(plays.listens, 0) as listens,
        coalesce(plays.listening_hours, 0) as listening_hours,
        sessions.sessions,
        sessions.mean_session_minutes,
        coalesce(plays.daily_active_users, 0) as daily_active_users,
        plays.paid_share_of_listens
    from sessions
    left join plays on sessions.activity_date = plays.activity_date
    {%- if is_incremental() %}

    union all

    select
        activity_date,
        listens,
        listening_hours,
        sessions,
        mean_session_minutes,
        daily_active_users,
        paid_share_of_listens
    from {{ this }}
    where
        not ({{ load_window('activity_date') }})
        and activity_date in (
            select registration_date from {{ ref('mart_user_daily_activity') }}
            where {{ load_window('activity_date') }}
        )
    {%- endif %}
),

registrations as (
    select
        registration_date,
        count(distinct user_id) as new_registrations
    from {{ ref('mart_user_daily_activity') }}
    where registration_date in (select own_figures.activity_date from own_figures)
    group by 1
)

select
    own_figures.*,
    coalesce(registrations.new_registrations, 0) as new_registrations
from own_figures
left join registrations on own_figures.activity_date = registrations.registration_date
