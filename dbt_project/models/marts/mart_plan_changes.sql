{{ recomputed_mart_config('change_date', unique_key='change_date') }}

{#- Per day: upgrades, downgrades, cancellations, the share of active users on paid, and free -> paid
    conversions (users upgrading for the first time). A change is judged against the plan before it,
    which may be another day's, and a conversion against the user's whole history: so the changes are
    counted over every day's plan states (sat_user_plan, a row per user and state change), and a run
    also rebuilds every stored day whose changes now differ (its cancellations and active users kept
    as stored). #}
with periods as (
    select
        cast(periods.effective_from_ts as date) as change_date,
        periods.user_pk,
        periods.effective_from_ts,
        plan.level,
        lag(plan.level) over (
            partition by periods.user_pk order by periods.effective_from_ts, periods.link_user_plan_pk
        ) as previous_level,
        min(case when plan.level = 'paid' then periods.effective_from_ts end)
            over (partition by periods.user_pk) as first_paid_ts
    from {{ ref('sat_user_plan') }} as periods
    inner join {{ ref('hub_plan') }} as plan on periods.plan_pk = plan.plan_pk
),

changes as (
    select
        change_date,
        count(case when previous_level = 'free' and level = 'paid' then 1 end) as upgrades,
        count(case when previous_level = 'paid' and level = 'free' then 1 end) as downgrades,
        count(distinct case
            when previous_level = 'free' and level = 'paid' and effective_from_ts = first_paid_ts
                then user_pk
        end) as free_to_paid_conversions
    from periods
    group by 1
),

cancellations as (
    select
        cast(clicks.click_ts as date) as change_date,
        count(*) as cancellations
    from {{ ref('t_link_web_clickstream') }} as clicks
    inner join {{ ref('hub_web_page') }} as page on clicks.page_pk = page.page_pk
    where page.page_name = 'Cancellation Confirmation' and {{ load_window('cast(clicks.click_ts as date)') }}
    group by 1
),

activity as (
    select
        activity_date,
        count(*) as active_users,
        count(case when level = 'paid' then 1 end) as paid_users
    from {{ ref('mart_user_daily_activity') }}
    where {{ load_window('activity_date') }}
    group by 1
)

select
    activity.activity_date as change_date,
    coalesce(changes.upgrades, 0) as upgrades,
    coalesce(changes.downgrades, 0) as downgrades,
    coalesce(cancellations.cancellations, 0) as cancellations,
    activity.active_users,
    activity.paid_users,
    activity.paid_users / activity.active_users as paid_share,
    coalesce(changes.free_to_paid_conversions, 0) as free_to_paid_conversions
from activity
left join changes on activity.activity_date = changes.change_date
left join cancellations on activity.activity_date = cancellations.change_date
{%- if is_incremental() %}

union all

select
    stored.change_date,
    coalesce(changes.upgrades, 0) as upgrades,
    coalesce(changes.downgrades, 0) as downgrades,
    stored.cancellations,
    stored.active_users,
    stored.paid_users,
    stored.paid_share,
    coalesce(changes.free_to_paid_conversions, 0) as free_to_paid_conversions
from {{ this }} as stored
left join changes on stored.change_date = changes.change_date
where
    not ({{ load_window('stored.change_date') }})
    and (
        stored.upgrades <> coalesce(changes.upgrades, 0)
        or stored.downgrades <> coalesce(changes.downgrades, 0)
        or stored.free_to_paid_conversions <> coalesce(changes.free_to_paid_conversions, 0)
    )
{%- endif %}
