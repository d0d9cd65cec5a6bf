"""The dashboard's figures for a date range and a plan, by SQL over the marts.

The same SQL runs on the serving copy (DuckDB over Parquet) and on the BigQuery marts. Figures that
do not add up over days (unique users, a song's or an artist's unique listeners) are counted over
the range's plays in one query, never summed from the days' figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from audio_dwh.warehouse_sql import Reader, fetch, fetch_with_header, table

PLANS = ("all", "free", "paid")
TOP_N = 10


@dataclass(frozen=True)
class Period:
    """The days from start to end, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def where(self, column: str) -> str:
        return f"{column} BETWEEN DATE '{self.start.isoformat()}' AND DATE '{self.end.isoformat()}'"


@dataclass(frozen=True)
class Headline:
    """A period's headline numbers; the listening figures follow the plan filter, the others are of
    every user (a plan filter would make the paid share 0 or 1, and plan changes move between plans)."""

    listens: int
    listening_hours: float
    active_users: int  # distinct users who listened
    new_registrations: int
    paid_share: float | None  # of listens
    upgrades: int
    cancellations: int


HEADLINE_LABELS = {
    "listens": "Listens",
    "listening_hours": "Listening hours",
    "active_users": "Active users",
    "new_registrations": "New registrations",
    "paid_share": "Paid share of listens",
    "upgrades": "Upgrades",
    "cancellations": "Cancellations",
}

# An increase of these is bad news: its change is drawn red.
WORSE_WHEN_HIGHER = {"cancellations"}


def format_figure(name: str, value: float | None) -> str:
    """A headline figure as the dashboard and the report show it."""
    if value is None:
        return "–"
    if name == "paid_share":
        return f"{value:.1%}"
    if name == "listening_hours":
        return f"{value:,.1f}"
    return f"{value:,}"


def format_change(name: str, now: float | None, before: float | None) -> str | None:
    """The change against the previous period: points for a share, per cent otherwise."""
    if now is None or before is None:
        return None
    if name == "paid_share":
        return f"{(now - before) * 100:+.1f} pts"
    if before == 0:
        return None if now == 0 else "new"
    return f"{(now - before) / before:+.1%}"


def _plan(plan: str) -> str:
    if plan not in PLANS:
        raise ValueError(f"plan must be one of {', '.join(PLANS)}, got {plan!r}")
    return "" if plan == "all" else f" AND level = '{plan}'"


def _frame(reader: Reader, sql: str) -> pd.DataFrame:
    header, rows = fetch_with_header(reader, sql)
    return pd.DataFrame(rows, columns=header)


def loaded_days(reader: Reader) -> tuple[date, date] | None:
    """The first and last day with listens, or None when there are none."""
    ((first, last),) = fetch(
        reader, f"SELECT min(play_date), max(play_date) FROM {table(reader, 'marts', 'mart_song_play_hourly_metrics')}"
    )
    return None if first is None else (first, last)


def headline(reader: Reader, period: Period, plan: str = "all") -> Headline:
    plays = table(reader, "marts", "mart_song_play")
    ((listens, seconds, users),) = fetch(
        reader,
        f"""SELECT count(*), coalesce(sum(song_played_sec), 0), count(DISTINCT user_id)
            FROM {plays} WHERE {period.where("play_start_date")}{_plan(plan)}""",
    )
    ((paid_share,),) = fetch(
        reader,
        f"""SELECT count(CASE WHEN level = 'paid' THEN 1 END) / nullif(count(*), 0)
            FROM {plays} WHERE {period.where("play_start_date")}""",
    )
    ((registrations,),) = fetch(
        reader,
        f"""SELECT count(DISTINCT user_id) FROM {table(reader, "marts", "mart_user_daily_activity")}
            WHERE {period.where("registration_date")}""",
    )
    ((upgrades, cancellations),) = fetch(
        reader,
        f"""SELECT coalesce(sum(upgrades), 0), coalesce(sum(cancellations), 0)
            FROM {table(reader, "marts", "mart_plan_changes")} WHERE {period.where("change_date")}""",
    )
    return Headline(
        listens=listens,
        listening_hours=seconds / 3600,
        active_users=users,
        new_registrations=registrations,
        paid_share=paid_share,
        upgrades=upgrades,
        cancellations=cancellations,
    )


def daily_trends(reader: Reader, period: Period, plan: str = "all") -> pd.DataFrame:
    """Per day of the period: listens (plan filter), paid share of listens, DAU, WAU and MAU (every user)."""
    return _frame(
        reader,
        f"""SELECT plays.day, plays.listens, plays.paid_share,
                   active.daily_active_users, active.weekly_active_users, active.monthly_active_users
            FROM (
                SELECT play_start_date AS day, count(CASE WHEN true{_plan(plan)} THEN 1 END) AS listens,
                       count(CASE WHEN level = 'paid' THEN 1 END) / count(*) AS paid_share
                FROM {table(reader, "marts", "mart_song_play")} WHERE {period.where("play_start_date")}
                GROUP BY 1
            ) AS plays
            LEFT JOIN {table(reader, "marts", "mart_active_users")} AS active ON active.activity_date = plays.day
            ORDER BY 1""",
    )


def hourly_profile(reader: Reader, period: Period, plan: str = "all") -> pd.DataFrame:
    """Listens and distinct listeners by hour of the day (UTC) over the period, all 24 hours."""
    found = _frame(
        reader,
        f"""SELECT extract(HOUR FROM play_start_ts) AS hour, count(*) AS listens, count(DISTINCT user_id) AS listeners
            FROM {table(reader, "marts", "mart_song_play")} WHERE {period.where("play_start_date")}{_plan(plan)}
            GROUP BY 1""",
    )
    hours = pd.DataFrame({"hour": range(24)})
    return hours.merge(found.astype({"hour": int}), on="hour", how="left").fillna(0).astype(int)


def top_songs(reader: Reader, period: Period, plan: str = "all", n: int = TOP_N) -> pd.DataFrame:
    """The period's songs with most unique listeners; ties by listens, then song and artist name (the
    rule of mart_song_play_top_10_songs)."""
    return _frame(
        reader,
        f"""SELECT song_name AS song, song_artist AS artist, count(DISTINCT user_id) AS listeners, count(*) AS listens
            FROM {table(reader, "marts", "mart_song_play")} WHERE {period.where("play_start_date")}{_plan(plan)}
            GROUP BY 1, 2 ORDER BY listeners DESC, listens DESC, song, artist LIMIT {int(n)}""",
    )


def top_artists(reader: Reader, period: Period, plan: str = "all", n: int = TOP_N) -> pd.DataFrame:
    """The period's artists with most unique listeners; ties by listens, then name."""
    return _frame(
        reader,
        f"""SELECT song_artist AS artist, count(DISTINCT user_id) AS listeners, count(*) AS listens
            FROM {table(reader, "marts", "mart_song_play")} WHERE {period.where("play_start_date")}{_plan(plan)}
            GROUP BY 1 ORDER BY listeners DESC, listens DESC, artist LIMIT {int(n)}""",
    )


def listens_by_state(reader: Reader, period: Period, plan: str = "all") -> pd.DataFrame:
    return _frame(
        reader,
        f"""SELECT location_state AS state, sum(plays) AS listens
            FROM {table(reader, "marts", "mart_listens_by_state")}
            WHERE {period.where("play_date")}{_plan(plan)} AND location_state IS NOT NULL
            GROUP BY 1 ORDER BY 1""",
    )


def splits(reader: Reader, period: Period, plan: str = "all") -> pd.DataFrame:
    """Listens and distinct listeners by plan level and by gender."""
    plays = table(reader, "marts", "mart_song_play")
    return _frame(
        reader,
        " UNION ALL ".join(
            f"""SELECT '{label}' AS split, coalesce({column}, 'unknown') AS value, count(*) AS listens,
                       count(DISTINCT user_id) AS listeners
                FROM {plays} WHERE {period.where("play_start_date")}{_plan(plan)} GROUP BY 1, 2"""
            for label, column in (("plan", "level"), ("gender", "gender"))
        )
        + " ORDER BY 1, 2",
    )


def page_funnel(reader: Reader, period: Period) -> pd.DataFrame:
    """Page views by page over the period, the most viewed first."""
    return _frame(
        reader,
        f"""SELECT page_name AS page, sum(views) AS views, sum(error_responses) AS errors
            FROM {table(reader, "marts", "mart_page_funnel")} WHERE {period.where("view_date")}
            GROUP BY 1 ORDER BY views DESC, page""",
    )


def retention(reader: Reader, period: Period, cohorts: int = 12) -> pd.DataFrame:
    """Retention of the latest `cohorts` registration weeks, in the activity weeks the period touches."""
    weeks = table(reader, "marts", "mart_retention")
    monday = period.start - timedelta(days=period.start.weekday())
    in_period = f"activity_week BETWEEN DATE '{monday.isoformat()}' AND DATE '{period.end.isoformat()}'"
    return _frame(
        reader,
        f"""SELECT cohort_week, weeks_since_registration, cohort_users, active_users, retention_share
            FROM {weeks}
            WHERE {in_period} AND cohort_week IN (
                SELECT cohort_week FROM (
                    SELECT DISTINCT cohort_week FROM {weeks} WHERE {in_period}
                ) AS cohort_weeks ORDER BY cohort_week DESC LIMIT {int(cohorts)}
            )
            ORDER BY 1, 2""",
    )
