{{ recomputed_mart_config('activity_date', unique_key='activity_date') }}

{#- Per day: listens, listening hours, sessions and their mean length, daily active users (users who
    listened), the paid share of listens (the plan at each play), and new registrations: the users
    seen on the site whose registration falls on the day. All but the last are the day's own; any
    day can change another day's registrations (a user seen first, or no longer at all), so a run
    also rebuilds every stored day whose registrations now differ (their other figures kept as
    stored): counted over the users' days (mart_user_daily_activity), not over plays. -#}
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

registrations as (
    select
        registration_date,
        count(distinct user_id) as new_registrations
    from {{ ref('mart_user_daily_activity') }}
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
        stored.activity_date,
        stored.listens,
        stored.listening_hours,
        stored.sessions,
        stored.mean_session_minutes,
        stored.daily_active_users,
        stored.paid_share_of_listens
    from {{ this }} as stored
    left join registrations on stored.activity_date = registrations.registration_date
    where
        not ({{ load_window('stored.activity_date') }})
        and stored.new_registrations <> coalesce(registrations.new_registrations, 0)
    {%- endif %}
)

select
    own_figures.*,
    coalesce(registrations.new_registrations, 0) as new_registrations
from own_figures
left join registrations on own_figures.activity_date = registrations.registration_date
