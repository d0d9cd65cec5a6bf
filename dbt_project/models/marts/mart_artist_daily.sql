{{ mart_config('play_date', cluster_by=['song_artist']) }}

{#- Per day and artist: plays and unique listeners (the day's top artists are its first rows by either). #}
select
    play_start_date as play_date,
    song_artist,
    count(*) as plays,
    count(distinct user_id) as uniq_listeners
from {{ ref('mart_song_play') }}
where {{ load_window('play_start_date') }}
group by 1, 2
