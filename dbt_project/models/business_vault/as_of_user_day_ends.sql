{{ config(materialized='ephemeral') }}

{#- The daily snapshots pit_user_daily takes: each user at the end of every day they were seen. -#}
{%- set sources = ['stg_page_view_events', 'stg_listen_events', 'stg_auth_events', 'stg_status_change_events'] %}
select distinct
    user_pk,
    {{ audio_dwh.day_end('event_day') }} as as_of_ts
from (
    {%- for source in sources %}
        select
            user_pk,
            cast(effective_from_ts as date) as event_day
        from {{ ref(source) }}
        where user_pk is not null
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
) as seen
