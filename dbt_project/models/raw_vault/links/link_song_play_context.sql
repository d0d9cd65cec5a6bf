{#- The play's context: its session and song, and (optional, ghost key when unknown) the listener and
    the device and place it was played from, which the song-play mart reports. One row per play, as
    the play's day now sends it: a day sent again replaces its rows, so a corrected song or place is
    the play's one context, never a second. -#}
{{ replaces_run_days() }}
{{ link(src_pk='link_song_play_context_pk', src_fk=['song_play_pk', 'session_pk', 'song_pk'],
        src_fk_optional=['user_pk', 'user_agent_pk', 'location_city_pk', 'location_geo_pk'],
        src_ldts='load_date', src_source='record_source', source_model='stg_listen_events') }}
