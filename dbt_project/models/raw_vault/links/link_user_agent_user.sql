{{ link(
    src_pk='link_user_agent_user_pk',
    src_fk=['user_pk', 'user_agent_pk'],
    src_ldts='load_date',
    src_source='record_source',
    source_model='stg_page_view_events'
) }}
