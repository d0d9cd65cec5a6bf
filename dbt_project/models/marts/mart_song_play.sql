{{ mart_config('play_start_date', cluster_by=['user_id', 'song_name', 'location_city'], require_partition_filter=true) }}

{#- One row per song play, wide: the play, its song and artist, and the device and place it came from. #}
with plays as (
    select
        song_play.song_play_pk,
        song_play.user_id,
        details.play_start_ts,
        details.play_end_ts,
        details.song_played_sec,
        cast(details.play_start_ts as date) as play_start_date
    from {{ ref('hub_song_play') }} as song_play
    inner join {{ ref('sat_song_play_details') }} as details on details.song_play_pk = song_play.song_play_pk
    where {{ load_window('cast(details.play_start_ts as date)') }}
    qualify row_number() over (partition by details.song_play_pk order by details.effective_from_ts desc) = 1
)

select
    plays.song_play_pk,
    plays.user_id,
    plays.song_played_sec,
    plays.play_start_ts,
    plays.play_end_ts,
    plays.play_start_date,
    song.song_name,
    song.artist_name as song_artist,
    agent.user_agent,
    city.location_city,
    city.location_state,
    geo.location_latitude,
    geo.location_longitude
from plays
inner join {{ ref('link_song_play_context') }} as context on context.song_play_pk = plays.song_play_pk
inner join {{ ref('hub_song') }} as song on song.song_pk = context.song_pk
left join {{ ref('hub_user_agent') }} as agent on agent.user_agent_pk = context.user_agent_pk
left join {{ ref('hub_location_city') }} as city on city.location_city_pk = context.location_city_pk
left join {{ ref('hub_location_geo') }} as geo on geo.location_geo_pk = context.location_geo_pk
