{{ config(materialized='ephemeral') }}

with events as (
    select * from {{ source('raw', 'page_view_events') }}
    where {{ load_window() }}
)

select
    {{ event_columns('page_view_events') }},
    events.auth,
    {{ audio_dwh.clean_text('events.page') }} as page_name,
    upper(trim(events.method)) as http_method,
    events.status as http_status,
    {{ song_columns() }}
from events
{{- song_repairs('events') }}
