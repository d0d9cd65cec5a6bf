{{ hub(
    src_pk='location_city_pk',
    src_nk=['location_city_qualified', 'location_city', 'location_state'],
    src_ldts='load_date',
    src_source='record_source',
    source_model=['stg_page_view_events', 'stg_listen_events']
) }}
