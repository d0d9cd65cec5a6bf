{{ config(materialized='ephemeral') }}

select
    {{ event_columns('status_change_events') }},
    auth,
    {#- eventsim emits the level before the change: the new level is the other one #}
    case lower({{ audio_dwh.clean_text('level') }}) when 'free' then 'paid' when 'paid' then 'free' end as new_level
from {{ source('raw', 'status_change_events') }}
where {{ load_window() }}
