"""The dashboard's figures for a date range and a plan, by SQL over the marts.

The same SQL runs on the serving copy (DuckDB over Parquet) and on the BigQuery marts. Figures that
do not add up over days (unique users, a song's or an artist's unique listeners) are counted over
the range's plays in one query, never summed from the days' figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from audio_dwh.counts import plural
from audio_dwh.warehouse.reading import WarehouseReader, fetch_rows, fetch_rows_with_header, table_ref
from audio_dwh.warehouse.sql import sql_string

PLANS = ("all", "free", "paid")
TOP_N = 10

# The groups whose distinct listeners the dashboard counts over a range, each by the SQL naming a group
# (the user alone: active users). The serving copy marks each play with the date of the same user's
# previous play in the same group (`previous_play_column`), overall and within the play's plan.
LISTENER_GROUPS = {
    "user": (),
    "hour": ("extract(HOUR FROM play_start_ts)",),
    "song": ("song_name", "song_artist"),
    "artist": ("song_artist",),
    "gender": ("gender",),
}


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


def previous_play_column(group: str, per_plan: bool) -> str:
    """The serving copy's column holding, for each play, the date of the user's previous play in the
    same group (and plan, when `per_plan`), or NULL for the first."""
    if group not in LISTENER_GROUPS:
        raise ValueError(f"group must be one of {', '.join(LISTENER_GROUPS)}, got {group!r}")
    return f"previous_play_by_{group}{'_and_plan' if per_plan else ''}"


def previous_play_marks() -> list[tuple[str, tuple[str, ...], bool]]:
    """Every mark the serving copy adds to the plays: its column, the group's SQL, and whether it is
    within the play's plan."""
    return [
        (previous_play_column(group, per_plan), by, per_plan)
        for group, by in LISTENER_GROUPS.items()
        for per_plan in (False, True)
    ]


def _listeners(reader: WarehouseReader, period: Period, group: str, per_plan: bool) -> str:
    """SQL counting the distinct users of each group (per plan too, when `per_plan`) among the period's
    plays. Where the plays carry their previous play's date (the serving copy) a user counts once, on
    a play whose previous one in the group is before the period: a filtered count, exact for any
    range, instead of a hash of every (group, user) pair the range holds."""
    column = previous_play_column(group, per_plan)
    if not _has_column(reader, "mart_song_play", column):
        return "count(DISTINCT user_id)"
    return f"count(CASE WHEN {column} IS NULL OR {column} < DATE '{period.start.isoformat()}' THEN 1 END)"


def _has_column(reader: WarehouseReader, mart: str, column: str) -> bool:
    if not isinstance(reader, duckdb.DuckDBPyConnection):
        return False
    return bool(
        fetch_rows(
            reader,
            f"SELECT 1 FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = {sql_string(mart)} "
            f"AND column_name = {sql_string(column)}",
        )
    )


def _frame(reader: WarehouseReader, sql: str) -> pd.DataFrame:
    header, rows = fetch_rows_with_header(reader, sql)
    return pd.DataFrame(rows, columns=header)


@dataclass(frozen=True)
class LoadedDays:
    """The days the marts hold (a day loaded has its row in mart_daily_kpis), in order."""

    days: tuple[date, ...]

    @property
    def first(self) -> date:
        return self.days[0]

    @property
    def last(self) -> date:
        return self.days[-1]

    def within(self, period: Period) -> list[date]:
        return [day for day in self.days if period.start <= day <= period.end]

    def cover(self, period: Period) -> bool:
        """Whether every day of the period is loaded: only then is it a period to compare with."""
        return len(self.within(period)) == period.days


def loaded_days(reader: WarehouseReader) -> LoadedDays | None:
    """The loaded days, or None before any."""
    rows = fetch_rows(
        reader, f"SELECT DISTINCT activity_date FROM {table_ref(reader, 'marts', 'mart_daily_kpis')} ORDER BY 1"
    )
    return LoadedDays(tuple(day for (day,) in rows)) if rows else None


def with_gaps(daily: pd.DataFrame, period: Period, loaded: LoadedDays) -> pd.DataFrame:
    """A day's rows for each loaded day of the period (no listens: 0), and for each run of days not
    loaded one row, of its first day, without figures: a chart's line breaks there instead of joining
    two loaded days across days nobody knows of."""
    known = set(loaded.days)
    frame = pd.DataFrame({"day": loaded.within(period)}).merge(daily, on="day", how="left")
    frame["listens"] = frame["listens"].fillna(0).astype(int)
    gap_starts = [
        day for day in (period.start, *(d + timedelta(days=1) for d in loaded.within(period)))
        if day <= period.end and day not in known
    ]  # fmt: skip
    if not gap_starts:
        return frame
    gaps = pd.DataFrame({"day": sorted(set(gap_starts))})
    return pd.concat([frame, gaps], ignore_index=True).sort_values("day", ignore_index=True)


def headline(reader: WarehouseReader, period: Period, plan: str = "all") -> Headline:
    plays = table_ref(reader, "marts", "mart_song_play")
    ((listens, seconds, users),) = fetch_rows(
        reader,
        f"""SELECT count(*), coalesce(sum(song_played_sec), 0), {_listeners(reader, period, "user", plan != "all")}
            FROM {plays} WHERE {period.where("play_start_date")}{_plan(plan)}""",
    )
    ((paid_share,),) = fetch_rows(
        reader,
        f"""SELECT count(CASE WHEN level = 'paid' THEN 1 END) / nullif(count(*), 0)
            FROM {plays} WHERE {period.where("play_start_date")}""",
    )
    # The registrations on the period's loaded days, as mart_daily_kpis counts them day by day (a user
    # registered on a day not loaded is no registration of a day the dashboard shows).
    ((registrations,),) = fetch_rows(
        reader,
        f"""SELECT coalesce(sum(new_registrations), 0) FROM {table_ref(reader, "marts", "mart_daily_kpis")}
            WHERE {period.where("activity_date")}""",
    )
    ((upgrades, cancellations),) = fetch_rows(
        reader,
        f"""SELECT coalesce(sum(upgrades), 0), coalesce(sum(cancellations), 0)
            FROM {table_ref(reader, "marts", "mart_plan_changes")} WHERE {period.where("change_date")}""",
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


def daily_trends(reader: WarehouseReader, period: Period, plan: str = "all") -> pd.DataFrame:
    """Per day of the period: listens (plan filter), paid share of listens, DAU, WAU and MAU (every user)."""
    return _frame(
        reader,
        f"""SELECT plays.day, plays.listens, plays.paid_share,
                   active.daily_active_users, active.weekly_active_users, active.monthly_active_users
            FROM (
                SELECT play_start_date AS day, count(CASE WHEN true{_plan(plan)} THEN 1 END) AS listens,
                       count(CASE WHEN level = 'paid' THEN 1 END) / count(*) AS paid_share
                FROM {table_ref(reader, "marts", "mart_song_play")} WHERE {period.where("play_start_date")}
                GROUP BY 1
            ) AS plays
            LEFT JOIN {table_ref(reader, "marts", "mart_active_users")} AS active ON active.activity_date = plays.day
            ORDER BY 1""",
    )


def hourly_profile(reader: WarehouseReader, period: Period, plan: str = "all") -> pd.DataFrame:
    """Listens and distinct listeners by hour of the day (UTC) over the period, all 24 hours."""
    found = _frame(
        reader,
        f"""SELECT extract(HOUR FROM play_start_ts) AS hour, count(*) AS listens,
                   {_listeners(reader, period, "hour", plan != "all")} AS listeners
            FROM {table_ref(reader, "marts", "mart_song_play")} WHERE {period.where("play_start_date")}{_plan(plan)}
            GROUP BY 1""",
    )
    hours = pd.DataFrame({"hour": range(24)})
    return hours.merge(found.astype(int), on="hour", how="left").fillna(0).astype(int)


def top_songs(reader: WarehouseReader, period: Period, plan: str = "all", n: int = TOP_N) -> pd.DataFrame:
    """The period's songs with most unique listeners; ties by listens, then song and artist name (the
    rule of mart_song_play_top_10_songs)."""
    return _frame(
        reader,
        f"""SELECT song_name AS song, song_artist AS artist,
                   {_listeners(reader, period, "song", plan != "all")} AS listeners, count(*) AS listens
            FROM {table_ref(reader, "marts", "mart_song_play")} WHERE {period.where("play_start_date")}{_plan(plan)}
            GROUP BY 1, 2 ORDER BY listeners DESC, listens DESC, song, artist LIMIT {int(n)}""",
    )


def top_artists(reader: WarehouseReader, period: Period, plan: str = "all", n: int = TOP_N) -> pd.DataFrame:
    """The period's artists with most unique listeners; ties by listens, then name."""
    return _frame(
        reader,
        f"""SELECT song_artist AS artist, {_listeners(reader, period, "artist", plan != "all")} AS listeners,
                   count(*) AS listens
            FROM {table_ref(reader, "marts", "mart_song_play")} WHERE {period.where("play_start_date")}{_plan(plan)}
            GROUP BY 1 ORDER BY listeners DESC, listens DESC, artist LIMIT {int(n)}""",
    )


def listens_by_state(reader: WarehouseReader, period: Period, plan: str = "all") -> pd.DataFrame:
    return _frame(
        reader,
        f"""SELECT location_state AS state, sum(plays) AS listens
            FROM {table_ref(reader, "marts", "mart_listens_by_state")}
            WHERE {period.where("play_date")}{_plan(plan)} AND location_state IS NOT NULL
            GROUP BY 1 ORDER BY 1""",
    )


def splits(reader: WarehouseReader, period: Period, plan: str = "all") -> pd.DataFrame:
    """Listens and distinct listeners by plan level and by gender."""
    plays = table_ref(reader, "marts", "mart_song_play")
    by_plan = _listeners(reader, period, "user", per_plan=True)  # a user within one plan level
    by_gender = _listeners(reader, period, "gender", per_plan=plan != "all")
    return _frame(
        reader,
        " UNION ALL ".join(
            f"""SELECT '{label}' AS split, coalesce({column}, 'unknown') AS value, count(*) AS listens,
                       {listeners} AS listeners
                FROM {plays} WHERE {period.where("play_start_date")}{_plan(plan)} GROUP BY 1, 2"""
            for label, column, listeners in (("plan", "level", by_plan), ("gender", "gender", by_gender))
        )
        + " ORDER BY 1, 2",
    )


def page_funnel(reader: WarehouseReader, period: Period) -> pd.DataFrame:
    """Page views by page over the period, the most viewed first."""
    return _frame(
        reader,
        f"""SELECT page_name AS page, sum(views) AS views, sum(error_responses) AS errors
            FROM {table_ref(reader, "marts", "mart_page_funnel")} WHERE {period.where("view_date")}
            GROUP BY 1 ORDER BY views DESC, page""",
    )


@dataclass(frozen=True)
class Retention:
    """Cohorts' retention as the dashboard draws it: a cell per cohort and loaded week."""

    cells: pd.DataFrame  # cohort_week, cohort, cohort_users, weeks_since_registration, active_users,
    # retention_share, days_loaded (of the week's 7)
    shown: int  # cohorts drawn: the latest of those with listeners in the range's weeks
    in_range: int  # cohorts with listeners in the range's weeks


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def retention(reader: WarehouseReader, period: Period, loaded: LoadedDays, cohorts: int = 12) -> Retention:
    """The registration-week cohorts with listeners in a week the period touches (the latest `cohorts`
    of them), each over every week since it registered that holds a loaded day: the share of the
    cohort who listened that week, 0 where none did. A week without a loaded day has no cell (nobody
    knows), so a cohort registered before the first loaded day starts blank."""
    weeks = table_ref(reader, "marts", "mart_retention")
    in_period = f"activity_week BETWEEN DATE '{_monday(period.start).isoformat()}' AND DATE '{period.end.isoformat()}'"
    found = fetch_rows(
        reader, f"SELECT cohort_week, max(cohort_users) FROM {weeks} WHERE {in_period} GROUP BY 1 ORDER BY 1 DESC"
    )
    chosen = dict(found[: int(cohorts)])
    listened: dict[tuple[date, date], int] = {}
    if chosen:
        listed = ", ".join(f"DATE '{week.isoformat()}'" for week in chosen)
        rows = fetch_rows(
            reader, f"SELECT cohort_week, activity_week, active_users FROM {weeks} WHERE cohort_week IN ({listed})"
        )
        listened = {(cohort, week): users for cohort, week, users in rows}
    days = set(loaded.days)
    cells = []
    for cohort, size in sorted(chosen.items()):
        week = cohort
        while week <= loaded.last:
            held = sum(1 for n in range(7) if week + timedelta(days=n) in days)
            if held:
                active = listened.get((cohort, week), 0)
                label = f"{cohort:%d %b %Y} · {plural(size, 'user')}"
                cells.append((cohort, label, size, (week - cohort).days // 7,
                              active, active / size, held))  # fmt: skip
            week += timedelta(days=7)
    columns = ["cohort_week", "cohort", "cohort_users", "weeks_since_registration", "active_users",
               "retention_share", "days_loaded"]  # fmt: skip
    return Retention(pd.DataFrame(cells, columns=columns), len(chosen), len(found))
