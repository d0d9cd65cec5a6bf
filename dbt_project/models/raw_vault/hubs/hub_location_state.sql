{{ hub(src_pk='location_state_pk', src_nk='location_state', src_ldts='load_date', src_source='record_source',
       source_model='stg_page_view_events') }}
