{{ hub(src_pk='session_pk', src_nk=['session_id', 'user_id'], src_ldts='load_date', src_source='record_source',
       source_model=['stg_page_view_events', 'stg_listen_events', 'stg_auth_events']) }}
