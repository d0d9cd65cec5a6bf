{{ hub(src_pk='plan_pk', src_nk='level', src_ldts='load_date', src_source='record_source',
       source_model='stg_user_plan_states') }}
