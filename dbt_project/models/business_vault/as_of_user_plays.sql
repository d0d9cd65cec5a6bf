{{ config(materialized='ephemeral') }}

{#- The snapshots pit_user_play takes: each listener at the instant of each of their plays. -#}
select distinct
    user_pk,
    effective_from_ts as as_of_ts
from {{ ref('stg_listen_events') }}
where user_pk is not null
