{{ hub(src_pk='user_agent_pk', src_nk='user_agent', src_ldts='load_date', src_source='record_source',
       source_model=['stg_page_view_events', 'stg_listen_events', 'stg_auth_events']) }}
