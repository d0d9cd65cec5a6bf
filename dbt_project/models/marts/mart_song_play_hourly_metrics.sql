{{ mart_config('play_date') }}

select
    play_start_date as play_date,
    extract(hour from play_start_ts) as play_hour,
    count(*) as plays,
    count(distinct user_id) as uniq_users,
    count(distinct concat(song_name, '||', song_artist)) as uniq_songs,
    count(distinct user_agent) as uniq_user_agents
from {{ ref('mart_song_play') }}
where {{ load_window('play_start_date') }}
group by 1, 2
