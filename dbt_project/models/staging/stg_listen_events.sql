{%- set hashed = event_hashed_columns(
    ['user_pk', 'session_pk', 'user_agent_pk', 'location_geo_pk', 'location_city_pk']
) -%}
{%- do hashed.update({
    'song_pk': ['song_name', 'artist_name'],
    'artist_pk': 'artist_name',
    'link_song_play_context_pk': ['session_id', 'item_in_session', 'event_ts_ms', 'user_id', 'song_name',
                                  'artist_name', 'user_agent', 'location_city_qualified', 'latitude_key',
                                  'longitude_key'],
    'link_song_artist_pk': ['song_name', 'artist_name'],
    'song_play_hashdiff': {'is_hashdiff': true, 'columns': ['event_ts_ms', 'play_end_ts_ms', 'song_played_ms']},
}) -%}

{{ stage(
    source_model='base_listen_events',
    derived_columns={
        'song_play_pk': 'event_id',
        'play_start_ts': 'event_ts',
        'play_end_ts': audio_dwh.epoch_ms_to_timestamp('event_ts_ms + song_played_ms'),
        'play_end_ts_ms': 'event_ts_ms + song_played_ms',
    },
    hashed_columns=hashed,
) }}
