{{ config(materialized='view') }}

{#- The user's profile over time: a version per profile, until the next one. #}
{{ periods(
    src_pk='user_pk',
    src_state='user_hashdiff',
    src_columns=[
        'user_pk', 'user_hashdiff', 'first_name', 'last_name', 'gender', 'registration_ts',
        'effective_from_ts', 'load_date', 'record_source'
    ],
    source_model='sat_user_profile'
) }}
