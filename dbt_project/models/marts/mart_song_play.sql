{{ mart_config(
    'play_start_date',
    cluster_by=['user_id', 'song_name', 'location_city'],
    require_partition_filter=true
) }}

{#- One row per song play, wide: the play, its song and artist, the device and place it came from
    (bridge_song_play), and the listener as they were at the instant of the play (pit_user_play). #}
with plays as (
    select
        bridge.*,
        details.play_end_ts,
        details.song_played_sec,
        cast(bridge.play_start_ts as date) as play_start_date
    from {{ ref('bridge_song_play') }} as bridge
    inner join {{ ref('sat_song_play_details') }} as details on bridge.song_play_pk = details.song_play_pk
    where {{ load_window('cast(bridge.play_start_ts as date)') }}
),

listeners as (
    select * from {{ ref('pit_user_play') }}
    where {{ load_window('cast(as_of_ts as date)') }}
)

select
    plays.song_play_pk,
    listener.user_id,
    plays.song_played_sec,
    plays.play_start_ts,
    plays.play_end_ts,
    plays.play_start_date,
    song.song_name,
    artist.artist_name as song_artist,
    agent.user_agent,
    city.location_city,
    city.location_state,
    geo.location_latitude,
    geo.location_longitude,
    plan.level,
    profile.gender,
    cast(profile.registration_ts as date) as registration_date
from plays
inner join {{ ref('hub_song') }} as song on plays.song_pk = song.song_pk
left join {{ ref('hub_user') }} as listener on plays.user_pk = listener.user_pk
inner join {{ ref('hub_artist') }} as artist on plays.artist_pk = artist.artist_pk
left join {{ ref('hub_user_agent') }} as agent on plays.user_agent_pk = agent.user_agent_pk
left join {{ ref('hub_location_city') }} as city on plays.location_city_pk = city.location_city_pk
left join {{ ref('hub_location_geo') }} as geo on plays.location_geo_pk = geo.location_geo_pk
left join listeners as pit on plays.user_pk = pit.user_pk and plays.play_start_ts = pit.as_of_ts
{{ user_pit_joins('pit') }}
