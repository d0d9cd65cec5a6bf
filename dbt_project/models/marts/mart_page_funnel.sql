{{ mart_config('view_date') }}

{#- Per day and page: views, sessions, error responses; and the day's share of sessions that reach a song. #}
with clicks as (
    select
        cast(clicks.click_ts as date) as view_date,
        page.page_name,
        clicks.session_pk,
        clicks.http_status
    from {{ ref('t_link_web_clickstream') }} as clicks
    inner join {{ ref('hub_web_page') }} as page on clicks.page_pk = page.page_pk
    where {{ load_window('cast(clicks.click_ts as date)') }}
),

days as (
    select
        view_date,
        count(distinct session_pk) as sessions,
        count(distinct case when page_name = 'NextSong' then session_pk end) as sessions_with_song
    from clicks
    group by 1
)

select
    clicks.view_date,
    clicks.page_name,
    count(*) as views,
    count(distinct clicks.session_pk) as unique_sessions,
    count(case when clicks.http_status >= 400 then 1 end) as error_responses,
    max(days.sessions_with_song) / max(days.sessions) as share_of_sessions_reaching_song
from clicks
inner join days on clicks.view_date = days.view_date
group by 1, 2
