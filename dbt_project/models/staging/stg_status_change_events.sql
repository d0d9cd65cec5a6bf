{%- set hashed = event_hashed_columns(['user_pk']) -%}
{%- do hashed.update({
    'new_plan_pk': 'new_level',
    'link_user_new_plan_pk': ['user_id', 'new_level'],
}) -%}

{{ stage(source_model='base_status_change_events', hashed_columns=hashed) }}
