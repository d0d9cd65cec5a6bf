{{ hub(src_pk='location_zip_pk', src_nk='location_zip', src_ldts='load_date', src_source='record_source',
       source_model='stg_page_view_events') }}
