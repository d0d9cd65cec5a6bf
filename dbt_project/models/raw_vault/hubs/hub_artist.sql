{{ config(unique_key='artist_pk', incremental_strategy=replace_strategy()) }}

{{ hub(src_pk='artist_pk', src_nk='artist_name', src_ldts='load_date', src_source='record_source',
       source_model='stg_listen_events') }}
