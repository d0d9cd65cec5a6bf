{{ hub(
    src_pk='location_geo_pk',
    src_nk=['location_latitude', 'location_longitude'],
    src_ldts='load_date',
    src_source='record_source',
    source_model=['stg_page_view_events', 'stg_listen_events', 'stg_auth_events']
) }}
