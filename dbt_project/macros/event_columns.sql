{#- The columns every eventsim topic shares, typed and cleaned (text by clean_text), with the load
    metadata the vault needs. One place, so the four base models cannot drift apart. event_id is the
    event's identity as the contract defines it, hashed by the loader the way hash() hashes keys: the
    hash key of every event-grained entity (a play, a click, a login), never recomputed here. -#}
{% macro event_columns(record_source) -%}
        event_id,
        ts as event_ts_ms,
        {{ audio_dwh.epoch_ms_to_timestamp('ts') }} as event_ts,
        sessionId as session_id,
        userId as user_id,
        lower({{ audio_dwh.clean_text('level') }}) as level,
        itemInSession as item_in_session,
        {{ audio_dwh.clean_text('city') }} as location_city,
        {{ audio_dwh.clean_text('zip') }} as location_zip,
        {{ audio_dwh.clean_text('state') }} as location_state,
        {#- a city's business key: its name is not unique across states, and no name means no city #}
        {{ audio_dwh.clean_text('city') }} || coalesce(', ' || {{ audio_dwh.clean_text('state') }}, '') as location_city_qualified,
        lat as location_latitude,
        lon as location_longitude,
        {{ audio_dwh.fixed_text('lat', 6) }} as latitude_key,
        {{ audio_dwh.fixed_text('lon', 6) }} as longitude_key,
        {#- eventsim wraps most user agents in literal double quotes: the agent is what is inside #}
        nullif(trim({{ audio_dwh.clean_text('userAgent') }}, '"'), '') as user_agent,
        {{ audio_dwh.clean_text('firstName') }} as first_name,
        {{ audio_dwh.clean_text('lastName') }} as last_name,
        upper({{ audio_dwh.clean_text('gender') }}) as gender,
        registration as registration_ts_ms,
        {{ audio_dwh.epoch_ms_to_timestamp('registration') }} as registration_ts,
        partition_date as load_date,
        '{{ record_source }}' as record_source,
        {{ audio_dwh.epoch_ms_to_timestamp('ts') }} as effective_from_ts
{%- endmacro %}

{#- Song columns of a NextSong event, with eventsim's double encoding repaired. The repair is costly
    per value and few names need it, so it runs once per distinct non-ASCII name (song_repairs). -#}
{% macro song_columns() -%}
        {{ audio_dwh.clean_text('coalesce(song_repair.repaired, events.song)') }} as song_name,
        {{ audio_dwh.clean_text('coalesce(artist_repair.repaired, events.artist)') }} as artist_name,
        duration as song_played_sec,
        cast(round(duration * 1000) as bigint) as song_played_ms
{%- endmacro %}

{#- The joins song_columns() reads: each distinct non-ASCII song and artist name with its repair. -#}
{% macro song_repairs(events) -%}
    {%- for column, alias in [('song', 'song_repair'), ('artist', 'artist_repair')] %}
left join (
    select {{ column }} as original, {{ audio_dwh.repair_double_encoding(column) }} as repaired
    from (select distinct {{ column }} from {{ events }} where not {{ audio_dwh.is_ascii(column) }}) as names
) as {{ alias }} on {{ alias }}.original = {{ events }}.{{ column }}
    {%- endfor %}
{%- endmacro %}

{#- The hash keys of what every event names (user, plan, session, device, place), as stage() wants
    them: all, or only the named ones. A staging model hashes only what the vault reads from it: each
    unused hash column of a million-event day costs time to compute and to write. -#}
{% macro event_hashed_columns(names=none) -%}
    {%- set hashed = {
        'user_pk': 'user_id',
        'plan_pk': 'level',
        'session_pk': ['session_id', 'user_id'],
        'user_agent_pk': 'user_agent',
        'location_geo_pk': ['latitude_key', 'longitude_key'],
        'location_zip_pk': 'location_zip',
        'location_city_pk': 'location_city_qualified',
        'location_state_pk': 'location_state',
        'link_user_plan_pk': ['user_id', 'level'],
        'link_user_agent_user_pk': ['user_id', 'user_agent'],
        'link_location_geo_zip_pk': ['latitude_key', 'longitude_key', 'location_zip'],
        'link_location_zip_city_pk': ['location_zip', 'location_city_qualified'],
        'link_location_city_state_pk': ['location_city_qualified', 'location_state'],
        'user_hashdiff': {'is_hashdiff': true, 'columns': ['first_name', 'last_name', 'gender', 'registration_ts_ms']},
        'location_geo_hashdiff': {'is_hashdiff': true, 'columns': ['latitude_key', 'longitude_key']},
    } -%}
    {%- if names is none -%}
        {{ return(hashed) }}
    {%- endif -%}
    {%- set chosen = {} -%}
    {%- for name in names -%}
        {%- do chosen.update({name: hashed[name]}) -%}
    {%- endfor -%}
    {{ return(chosen) }}
{%- endmacro %}
