{#- A transaction per event, as its day now sends it: a day sent again replaces its transactions. -#}
{{ replaces_run_days() }}
{{ t_link(src_pk='authorization_pk',
          src_fk=['user_pk', 'session_pk', 'location_geo_pk', 'user_agent_pk'],
          src_payload=['authorization_ts', 'is_auth_successful'],
          src_eff='effective_from_ts', src_ldts='load_date', src_source='record_source',
          source_model='stg_auth_events') }}
