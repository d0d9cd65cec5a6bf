{{ replaces_run_days('cast(play_start_ts as date)') }}

{#- A song play with everything it names: its session, listener, song, artist, device and place. A
    run rebuilds the plays of its days, so a play its day no longer sends leaves the bridge. -#}
{{ bridge(
    source_model='hub_song_play',
    src_pk='song_play_pk',
    src_columns={'play_start_ts': audio_dwh.epoch_ms_to_timestamp('event_ts_ms')},
    bridge_walk={
        'play_context': {
            'link_table': 'link_song_play_context', 'link_pk': 'link_song_play_context_pk', 'from_fk': 'song_play_pk',
            'to_fk': ['session_pk', 'user_pk', 'song_pk', 'user_agent_pk', 'location_city_pk', 'location_geo_pk'],
        },
        'song_artist': {
            'link_table': 'link_song_artist', 'link_pk': 'link_song_artist_pk', 'from_fk': 'song_pk',
            'to_fk': ['artist_pk'],
        },
        'city_state': {
            'link_table': 'link_location_city_state', 'link_pk': 'link_location_city_state_pk',
            'from_fk': 'location_city_pk', 'to_fk': ['location_state_pk'],
        },
    },
    stage_tables=['stg_listen_events']
) }}
