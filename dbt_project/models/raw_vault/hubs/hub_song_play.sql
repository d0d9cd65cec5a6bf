{{ hub(
    src_pk='song_play_pk',
    src_nk=['user_id', 'session_id', 'event_ts_ms'],
    src_ldts='load_date',
    src_source='record_source',
    source_model='stg_listen_events'
) }}
