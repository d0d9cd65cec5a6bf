{{ sat(src_pk='location_geo_pk', src_hashdiff='location_geo_hashdiff', src_payload=['latitude', 'longitude'],
       src_eff='effective_from_ts', src_ldts='load_date', src_source='record_source',
       source_model='stg_page_view_events') }}
