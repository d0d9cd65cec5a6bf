{{ config(unique_key='link_song_play_context_pk', incremental_strategy=replace_strategy()) }}

{{ link(src_pk='link_song_play_context_pk', src_fk=['song_play_pk', 'session_pk', 'song_pk'], src_ldts='load_date', src_source='record_source',
        source_model='stg_listen_events') }}
