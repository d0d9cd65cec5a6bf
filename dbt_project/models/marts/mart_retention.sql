{{ whole_mart_config('cohort_week', cluster_by=['weeks_since_registration']) }}

{#- Registration-week cohorts (weeks start on Monday) by weeks since registration: the users seen on
    the site who registered that week, and the share of them who listened in that week. A cell is
    there once one of its users listened. Any day can change any cohort (a user's activity, a user
    seen for the first time or no longer at all), so the table is computed whole each run from the
    users' days (mart_user_daily_activity: a row per user and day), which is exact in any load order
    and after any day is sent again; its cost follows users and weeks, not plays. -#}
with users as (
    select
        user_id,
        {{ week_start('min(registration_date)') }} as cohort_week
    from {{ ref('mart_user_daily_activity') }}
    where registration_date is not null
    group by 1
),

cohort_sizes as (
    select
        cohort_week,
        count(*) as cohort_users
    from users
    group by 1
),

listened as (
    select distinct
        cohort_users.cohort_week,
        cohort_users.user_id,
        {{ week_start('activity.activity_date') }} as activity_week
    from {{ ref('mart_user_daily_activity') }} as activity
    inner join users as cohort_users on activity.user_id = cohort_users.user_id
    where activity.plays > 0
)

select
    listened.cohort_week,
    {# dbt.datediff renders as one long line #}
    cast(
        {{ dbt.datediff('listened.cohort_week', 'listened.activity_week', 'day') }} / 7 as {{ dbt.type_int() }}  -- noqa: LT05
    ) as weeks_since_registration,
    listened.activity_week,
    cohort_sizes.cohort_users,
    count(*) as active_users,
    count(*) / cohort_sizes.cohort_users as retention_share
from listened
inner join cohort_sizes on listened.cohort_week = cohort_sizes.cohort_week
where listened.activity_week >= listened.cohort_week
{# by name: the week count is an expression of the grouped columns, not a column #}
group by listened.cohort_week, listened.activity_week, cohort_sizes.cohort_users  -- noqa: AM06
