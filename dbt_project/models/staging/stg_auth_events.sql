{%- set hashed = event_hashed_columns(['user_pk', 'session_pk', 'user_agent_pk', 'location_geo_pk']) -%}
{%- do hashed.update({
    'authorization_hashdiff': {'is_hashdiff': true, 'columns': ['is_auth_successful', 'event_ts_ms']},
}) -%}

{{ stage(
    source_model='base_auth_events',
    derived_columns={
        'authorization_pk': 'event_id', 'authorization_ts': 'event_ts', 'is_successful': 'is_auth_successful',
    },
    hashed_columns=hashed,
) }}
