{{ link(
    src_pk='link_location_city_state_pk',
    src_fk=['location_city_pk', 'location_state_pk'],
    src_ldts='load_date',
    src_source='record_source',
    source_model='stg_page_view_events'
) }}
