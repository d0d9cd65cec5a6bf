{{ hub(src_pk='song_pk', src_nk=['song_name', 'artist_name'], src_ldts='load_date', src_source='record_source',
       source_model='stg_listen_events') }}
