{{ mart_config('play_date', cluster_by=['location_state', 'level']) }}

{#- Per day, state and the listener's plan at the play: plays and unique listeners. A state is as
    eventsim names it (sometimes several, "NY-NJ-PA"); NULL where the play names no place. #}
select
    play_start_date as play_date,
    location_state,
    level,
    count(*) as plays,
    count(distinct user_id) as uniq_listeners
from {{ ref('mart_song_play') }}
where {{ load_window('play_start_date') }}
group by 1, 2, 3
