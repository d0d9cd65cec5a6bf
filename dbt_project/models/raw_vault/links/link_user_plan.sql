{{ link(src_pk='link_user_plan_pk', src_fk=['user_pk', 'plan_pk'], src_ldts='load_date', src_source='record_source',
        source_model='stg_user_plan_states') }}
