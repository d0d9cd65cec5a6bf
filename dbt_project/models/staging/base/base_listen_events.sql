{{ config(materialized='ephemeral') }}

with events as (
    select * from {{ source('raw', 'listen_events') }}
    where {{ load_window() }}
)

select
    {{ event_columns('listen_events') }},
    events.auth,
    {{ song_columns() }}
from events
{{- song_repairs('events') }}
