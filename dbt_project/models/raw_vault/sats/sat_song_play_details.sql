{{ sat(
    src_pk='song_play_pk',
    src_hashdiff='song_play_hashdiff',
    src_payload=['play_start_ts', 'play_end_ts', 'song_played_sec'],
    src_eff='effective_from_ts',
    src_ldts='load_date',
    src_source='record_source',
    source_model='stg_listen_events'
) }}
