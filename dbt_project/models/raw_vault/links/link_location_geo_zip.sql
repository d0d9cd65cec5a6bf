{{ link(
    src_pk='link_location_geo_zip_pk',
    src_fk=['location_geo_pk', 'location_zip_pk'],
    src_ldts='load_date',
    src_source='record_source',
    source_model='stg_page_view_events'
) }}
