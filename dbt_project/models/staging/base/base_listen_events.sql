{{ config(materialized='ephemeral') }}

select
    {{ event_columns('listen_events') }},
    auth,
    {{ song_columns() }}
from {{ source('raw', 'listen_events') }}
where {{ load_window() }}
