{#- A play is an event: its key is the listen's identity (event_id), and the hub holds exactly the plays
    the loaded days now have (a day sent again replaces its plays; unlike shared hubs, it forgets a
    play its day no longer sends). -#}
{{ replaces_run_days() }}
{{ hub(
    src_pk='song_play_pk',
    src_nk=['session_id', 'item_in_session', 'event_ts_ms'],
    src_ldts='load_date',
    src_source='record_source',
    source_model='stg_listen_events'
) }}
