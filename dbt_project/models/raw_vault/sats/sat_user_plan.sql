{{ eff_sat(src_pk='link_user_plan_pk', src_dfk='user_pk', src_sfk='plan_pk',
           src_eff='effective_from_ts', src_ldts='load_date', src_source='record_source',
           source_model='stg_user_plan_states') }}
