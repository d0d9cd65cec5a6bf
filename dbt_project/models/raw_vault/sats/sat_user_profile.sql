{{ sat(
    src_pk='user_pk',
    src_hashdiff='user_hashdiff',
    src_payload=['first_name', 'last_name', 'gender', 'registration_ts'],
    src_eff='effective_from_ts',
    src_ldts='load_date',
    src_source='record_source',
    source_model='stg_page_view_events'
) }}
