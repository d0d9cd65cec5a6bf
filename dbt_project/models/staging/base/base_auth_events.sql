{{ config(materialized='ephemeral') }}

select
    {{ event_columns('auth_events') }},
    success as is_auth_successful
from {{ source('raw', 'auth_events') }}
where {{ load_window() }}
