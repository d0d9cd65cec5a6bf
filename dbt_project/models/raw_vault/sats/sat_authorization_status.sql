{{ sat(
    src_pk='authorization_pk',
    src_hashdiff='authorization_hashdiff',
    src_payload=['is_successful', 'authorization_ts'],
    src_eff='effective_from_ts',
    src_ldts='load_date',
    src_source='record_source',
    source_model='stg_auth_events'
) }}
