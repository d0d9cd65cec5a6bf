{{ link(
    src_pk='link_location_zip_city_pk',
    src_fk=['location_zip_pk', 'location_city_pk'],
    src_ldts='load_date',
    src_source='record_source',
    source_model='stg_page_view_events'
) }}
