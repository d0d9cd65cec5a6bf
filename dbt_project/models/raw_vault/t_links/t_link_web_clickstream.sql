{#- A transaction per event, as its day now sends it: a day sent again replaces its transactions. -#}
{{ replaces_run_days() }}
{{ t_link(src_pk='click_pk',
          src_fk=['page_pk', 'session_pk'],
          src_payload=['click_ts', 'http_method', 'http_status'],
          src_eff='effective_from_ts', src_ldts='load_date', src_source='record_source',
          source_model='stg_page_view_events') }}
