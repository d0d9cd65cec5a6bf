{{ mart_config('play_date') }}

{#- The day's ten songs with most unique listeners; ties by plays, then song and artist name. #}
with songs as (
    select
        play_start_date as play_date,
        song_name,
        song_artist,
        count(distinct user_id) as uniq_users,
        count(*) as plays
    from {{ ref('mart_song_play') }}
    where {{ load_window('play_start_date') }}
    group by 1, 2, 3
),

ranked as (
    select
        *,
        row_number() over (
            partition by play_date order by uniq_users desc, plays desc, song_name asc, song_artist asc
        ) as song_rank
    from songs
)

select
    play_date,
    song_rank as rank,
    song_name,
    song_artist,
    uniq_users,
    plays
from ranked
where song_rank <= 10
