{{ hub(src_pk='artist_pk', src_nk='artist_name', src_ldts='load_date', src_source='record_source',
       source_model='stg_listen_events') }}
