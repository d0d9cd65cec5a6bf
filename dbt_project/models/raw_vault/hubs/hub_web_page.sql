{{ hub(src_pk='page_pk', src_nk='page_name', src_ldts='load_date', src_source='record_source',
       source_model='stg_page_view_events') }}
