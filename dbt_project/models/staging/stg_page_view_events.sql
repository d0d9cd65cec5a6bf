{%- set hashed = event_hashed_columns() -%}
{%- do hashed.update({'page_pk': 'page_name'}) -%}

{{ stage(
    source_model='base_page_view_events',
    derived_columns={
        'click_pk': 'event_id', 'click_ts': 'event_ts',
        'latitude': 'location_latitude', 'longitude': 'location_longitude',
    },
    hashed_columns=hashed,
) }}
