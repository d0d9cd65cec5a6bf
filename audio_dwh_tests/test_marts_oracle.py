"""The marts and the dashboard's numbers, proven against an independent oracle.

The oracle reads the landing JSON with pandas and computes the marts and the headline numbers by
itself, without dbt or the vault: each play with the listener's plan, gender and registration as
its own event carried them, daily KPIs, trailing active users, registration-week retention, artists
and states. The warehouse side runs the real raw loader and a real `dbt build`: over the whole
range at once, or (the rolling marts' hard case) one day at a time, latest first. The dashboard
side is the dashboard's own query code. Every row must match, on simulator output and on the real
November 2018 sample imported with import-classic (its artist names arrive double-encoded and must
come out repaired).
"""

import unicodedata
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from audio_dwh.dashboard import figures as dashboard
from audio_dwh.dashboard.report import fetch_day
from audio_dwh.events.classic import import_classic, sparkify_sample
from audio_dwh.events.contract import TOPICS
from audio_dwh.events.landing import scan_day
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, write_day
from audio_dwh.events.text import repair_double_encoding
from audio_dwh.raw.duckdb_loader import load_day
from audio_dwh_tests.dbt_helpers import run_dbt

pytestmark = pytest.mark.slow

MART_COLUMNS = ["user_id", "play_start_ts", "play_end_ts", "song_played_sec", "song_name", "song_artist",
                "user_agent", "location_city", "location_state", "location_latitude", "location_longitude",
                "level", "gender", "registration_date"]  # fmt: skip
DAY_MS = 86_400_000


def _clean_name(text: str) -> str:
    """A name as the business defines it: no control or format characters, then NFC, no separators
    at either end (written here with unicodedata, apart from the SQL that does it)."""
    visible = unicodedata.normalize("NFC", "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf")))
    start, end = 0, len(visible)
    while start < end and unicodedata.category(visible[start]).startswith("Z"):
        start += 1
    while end > start and unicodedata.category(visible[end - 1]).startswith("Z"):
        end -= 1
    return visible[start:end]


def _clean(text: pd.Series) -> pd.Series:
    return text.where(text.isna(), text.astype("string").map(_clean_name, na_action="ignore")).replace("", pd.NA)


def oracle_plays(landing: Path) -> pd.DataFrame:
    """Song plays straight from the landing listen files, cleaned as the business defines it."""
    frames = [
        pd.read_json(p, lines=True, dtype=False, precise_float=True)
        for p in sorted((landing / "listen_events").rglob("*.json"))
    ]
    listens = pd.concat([f for f in frames if len(f)], ignore_index=True)
    for column in ("zip", "lat", "lon"):
        if column not in listens:
            listens[column] = None
    plays = pd.DataFrame({
        "user_id": listens["userId"].astype("int64"),
        "play_start_ts": pd.to_datetime(listens["ts"], unit="ms"),
        "play_end_ts": pd.to_datetime(listens["ts"] + (listens["duration"] * 1000).round().astype("int64"), unit="ms"),
        "song_played_sec": listens["duration"].astype(float),
        "song_name": _clean(listens["song"].map(repair_double_encoding)),
        "song_artist": _clean(listens["artist"].map(repair_double_encoding)),
        "user_agent": _clean(_clean(listens["userAgent"]).str.strip('"')),
        "location_city": _clean(listens["city"]),
        "location_state": _clean(listens["state"]),
        "location_latitude": listens["lat"].astype(float),
        "location_longitude": listens["lon"].astype(float),
        "level": _clean(listens["level"]).str.lower(),
        "gender": _clean(listens["gender"]).str.upper(),
        "registration_date": pd.to_datetime(listens["registration"], unit="ms").dt.date,
    })  # fmt: skip
    plays["play_date"] = plays["play_start_ts"].dt.date
    return plays


def oracle_hourly(plays: pd.DataFrame) -> pd.DataFrame:
    grouped = plays.assign(song=plays["song_name"] + "||" + plays["song_artist"], hour=plays["play_start_ts"].dt.hour)
    return (
        grouped.groupby(["play_date", "hour"])
        .agg(
            plays=("user_id", "size"),
            uniq_users=("user_id", "nunique"),
            uniq_songs=("song", "nunique"),
            uniq_user_agents=("user_agent", "nunique"),
        )  # fmt: skip
        .reset_index()
        .sort_values(["play_date", "hour"])
        .values.tolist()
    )


def oracle_top10(plays: pd.DataFrame) -> list[list]:
    songs = (
        plays.groupby(["play_date", "song_name", "song_artist"])
        .agg(uniq_users=("user_id", "nunique"), plays=("user_id", "size"))
        .reset_index()
        .sort_values(
            ["play_date", "uniq_users", "plays", "song_name", "song_artist"], ascending=[True, False, False, True, True]
        )  # fmt: skip
    )
    songs["rank"] = songs.groupby("play_date").cumcount() + 1
    top = songs[songs["rank"] <= 10]
    return top[["play_date", "rank", "song_name", "song_artist", "uniq_users", "plays"]].values.tolist()


def _landing_frame(landing: Path, topic: str) -> pd.DataFrame:
    frames = [pd.read_json(p, lines=True, dtype=False) for p in sorted((landing / topic).rglob("*.json"))]
    frame = pd.concat([f for f in frames if len(f)], ignore_index=True)
    frame["day"] = pd.to_datetime(frame["ts"], unit="ms").dt.date
    return frame


def _monday(days: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(days)
    return (stamps - pd.to_timedelta(stamps.dt.weekday, unit="D")).dt.date


def oracle_site_users(landing: Path) -> pd.DataFrame:
    """Each day's users seen on the site (a page or a play), with the registration their latest page
    at or before the end of that day named."""
    pages = _landing_frame(landing, "page_view_events")
    pages = pages[pages["userId"].notna()].assign(user_id=lambda f: f["userId"].astype("int64"))
    listens = _landing_frame(landing, "listen_events").assign(user_id=lambda f: f["userId"].astype("int64"))
    seen = pd.concat([pages[["day", "user_id"]], listens[["day", "user_id"]]]).drop_duplicates()
    seen["day_end_ms"] = pd.to_datetime(seen["day"]).astype("int64") // 1_000_000 + DAY_MS - 1
    profiles = pages[["user_id", "ts", "registration"]].sort_values("ts")
    seen = pd.merge_asof(seen.sort_values("day_end_ms"), profiles, left_on="day_end_ms", right_on="ts", by="user_id")
    seen["registration_date"] = pd.to_datetime(seen["registration"], unit="ms").dt.date
    return seen[["day", "user_id", "registration_date"]]


def oracle_daily_kpis(landing: Path, plays: pd.DataFrame, site_users: pd.DataFrame) -> list[list]:
    pages = _landing_frame(landing, "page_view_events")
    pages["session"] = pages["sessionId"].astype(str) + "/" + pages["userId"].astype(str)
    spans = pages.groupby(["day", "session"])["ts"].agg(lambda ts: ts.max() - ts.min())
    sessions = spans.groupby("day").agg(sessions="size", mean_ms="mean")
    registrations = site_users.groupby("registration_date")["user_id"].nunique()
    rows = []
    for day, figures in sessions.iterrows():
        today = plays[plays["play_date"] == day]
        rows.append([
            day, len(today), round(today["song_played_sec"].sum(), 5) / 3600, int(figures["sessions"]),
            round(figures["mean_ms"] / 60000, 6), today["user_id"].nunique(),
            (today["level"] == "paid").mean() if len(today) else None, int(registrations.get(day, 0)),
        ])  # fmt: skip
    return rows


def oracle_active_users(plays: pd.DataFrame, site_users: pd.DataFrame) -> list[list]:
    listened = plays[["play_date", "user_id"]].drop_duplicates()

    def listeners(day: date, days: int) -> int:
        window = listened[(listened["play_date"] > day - timedelta(days=days)) & (listened["play_date"] <= day)]
        return window["user_id"].nunique()

    rows = []
    for day in sorted(site_users["day"].unique()):
        dau, wau, mau = listeners(day, 1), listeners(day, 7), listeners(day, 28)
        rows.append([day, dau, wau, mau, dau / mau if mau else None])
    return rows


def oracle_retention(plays: pd.DataFrame, site_users: pd.DataFrame) -> list[list]:
    users = site_users.groupby("user_id")["registration_date"].min().reset_index()
    users["cohort_week"] = _monday(users["registration_date"])
    sizes = users.groupby("cohort_week").size().rename("cohort_users")
    listened = plays[["user_id", "play_date"]].assign(activity_week=lambda f: _monday(f["play_date"]))
    listened = listened[["user_id", "activity_week"]].drop_duplicates().merge(users, on="user_id")
    listened = listened[listened["activity_week"] >= listened["cohort_week"]]
    cells = listened.groupby(["cohort_week", "activity_week"]).size().rename("active_users").reset_index()
    cells = cells.join(sizes, on="cohort_week")
    return [
        [c.cohort_week, (c.activity_week - c.cohort_week).days // 7, c.activity_week, c.cohort_users,
         c.active_users, c.active_users / c.cohort_users]
        for c in cells.itertuples()
    ]  # fmt: skip


def oracle_by(plays: pd.DataFrame, columns: list[str]) -> list[list]:
    grouped = plays.groupby(["play_date", *columns], dropna=False)["user_id"]
    return grouped.agg(["size", "nunique"]).reset_index().values.tolist()


def _load_range(tmp: Path, landing: Path, days: list[date], day_by_day_latest_first: bool) -> Path:
    warehouse = tmp / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    for day in days:
        for topic in TOPICS.values():
            load_day(con, topic, day, scan_day(landing, topic.name, day), landing, reject_threshold=0.0)
    con.close()
    windows = [(d, d) for d in reversed(days)] if day_by_day_latest_first else [(days[0], days[-1])]
    for first, last in windows:
        run_dbt(["build", "--vars", f'{{"min_date": "{first}", "max_date": "{last}"}}'], warehouse, tmp)
    return warehouse


@pytest.fixture(scope="module", params=["simulator", "simulator_latest_day_first", "sparkify"])
def warehouse_and_oracle(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    landing = tmp / "landing"
    if request.param.startswith("simulator"):
        days = [date(2026, 11, 2) + timedelta(days=i) for i in range(3)]
        simulator = DaySimulator(SimulatorConfig(seed=21, users=3000))
        for day in days:
            write_day(simulator, day, landing)
    else:
        import_classic(sparkify_sample(), landing)
        days = [date(2018, 11, 1) + timedelta(days=i) for i in range(30)]
    warehouse = _load_range(tmp, landing, days, day_by_day_latest_first=request.param.endswith("first"))
    return warehouse, oracle_plays(landing), days


def _query(warehouse: Path, sql: str) -> list[list]:
    con = duckdb.connect(str(warehouse))
    rows = [list(r) for r in con.execute(sql).fetchall()]
    con.close()
    return rows


def _native(value):
    """One comparable Python value: NULL/NaN/NA -> None, numpy and pandas scalars -> Python's."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    value = value.item() if hasattr(value, "item") else value
    # sums and shares of doubles: equal to the last bits only when added in the same order
    return round(value, 9) if isinstance(value, float) else value


def _normalise(rows: list[list]) -> list[list]:
    return sorted(([_native(v) for v in r] for r in rows), key=repr)


def test_mart_song_play_is_every_play_exactly(warehouse_and_oracle):
    warehouse, plays, days = warehouse_and_oracle
    mart = _query(warehouse, f"SELECT {', '.join(MART_COLUMNS)} FROM marts.mart_song_play ORDER BY ALL")
    expected = _normalise(plays[MART_COLUMNS].astype(object).values.tolist())
    assert len(mart) == len(expected) > 0
    assert _normalise(mart) == expected
    if days[0].year == 2018:  # the real sample's listeners change plans between plays of a day (8 times)
        assert (plays.groupby(["user_id", "play_date"])["level"].nunique() > 1).sum() == 8


@pytest.mark.parametrize(
    ("sql", "oracle"),
    [
        ("""SELECT play_date, play_hour, plays, uniq_users, uniq_songs, uniq_user_agents
            FROM marts.mart_song_play_hourly_metrics""", oracle_hourly),
        ("""SELECT play_date, rank, song_name, song_artist, uniq_users, plays
            FROM marts.mart_song_play_top_10_songs""", oracle_top10),
    ],
    ids=["hourly_metrics", "top_10_songs"],
)  # fmt: skip
def test_aggregate_marts_match_for_every_day(warehouse_and_oracle, sql, oracle):
    warehouse, plays, _ = warehouse_and_oracle
    assert _normalise(_query(warehouse, sql)) == _normalise(oracle(plays))


def test_dashboard_figures_match_for_every_day(warehouse_and_oracle):
    """The daily report's (and the dashboard's one-day) figures, against the oracle's plays."""
    warehouse, plays, days = warehouse_and_oracle
    con = duckdb.connect(str(warehouse))
    checked = 0
    loaded = dashboard.loaded_days(con)
    for day in days:
        report = fetch_day(con, day, loaded)
        today = plays[plays["play_date"] == day]
        assert report.headline.listens == len(today)
        assert report.headline.active_users == today["user_id"].nunique()
        hourly = dashboard.hourly_profile(con, dashboard.Period(day, day))
        assert hourly["listens"].tolist() == [int((today["play_start_ts"].dt.hour == h).sum()) for h in range(24)]
        if len(today):
            top = oracle_top10(today)[:10]
            assert [tuple(row) for row in report.top_songs.itertuples(index=False)] == [tuple(t[2:]) for t in top]
            checked += 1
    con.close()
    assert checked >= 3


def _oracle_top(plays: pd.DataFrame, keys: list[str]) -> list[list]:
    """The most listened keys (by unique listeners, then listens, then name), as the dashboard ranks them."""
    ranked = (
        plays.groupby(keys)
        .agg(listeners=("user_id", "nunique"), listens=("user_id", "size"))
        .reset_index()
        .sort_values(["listeners", "listens", *keys], ascending=[False, False] + [True] * len(keys))
    )
    return ranked.head(dashboard.TOP_N).values.tolist()


@pytest.mark.parametrize("plan", dashboard.PLANS)
def test_dashboard_range_figures_count_distinct_over_the_range(warehouse_and_oracle, plan):
    """Over every loaded day at once: unique users and listeners counted over the range, not summed."""
    warehouse, plays, days = warehouse_and_oracle
    chosen = plays if plan == "all" else plays[plays["level"] == plan]
    period = dashboard.Period(min(days), max(days))
    con = duckdb.connect(str(warehouse))
    headline = dashboard.headline(con, period, plan)
    assert (headline.listens, headline.active_users) == (len(chosen), chosen["user_id"].nunique())
    assert dashboard.top_songs(con, period, plan).values.tolist() == _oracle_top(chosen, ["song_name", "song_artist"])
    assert dashboard.top_artists(con, period, plan).values.tolist() == _oracle_top(chosen, ["song_artist"])
    con.close()


def test_double_encoded_artists_arrive_repaired(warehouse_and_oracle):
    warehouse, _, _ = warehouse_and_oracle
    artists = {a for (a,) in _query(warehouse, "SELECT DISTINCT song_artist FROM marts.mart_song_play")}
    assert not any("Ã" in a for a in artists)
    assert "Björk" in artists or any(not a.isascii() for a in artists)


def test_business_marts_match_for_every_day(warehouse_and_oracle):
    warehouse, plays, _ = warehouse_and_oracle
    landing = warehouse.parent / "landing"
    site_users = oracle_site_users(landing)
    expected = {
        """SELECT activity_date, listens, listening_hours, sessions, mean_session_minutes, daily_active_users,
                  paid_share_of_listens, new_registrations FROM marts.mart_daily_kpis""":
            oracle_daily_kpis(landing, plays, site_users),
        "SELECT * FROM marts.mart_active_users": oracle_active_users(plays, site_users),
        "SELECT * FROM marts.mart_retention": oracle_retention(plays, site_users),
        "SELECT play_date, song_artist, plays, uniq_listeners FROM marts.mart_artist_daily":
            oracle_by(plays, ["song_artist"]),
        "SELECT play_date, location_state, level, plays, uniq_listeners FROM marts.mart_listens_by_state":
            oracle_by(plays, ["location_state", "level"]),
    }  # fmt: skip
    for sql, rows in expected.items():
        mart = _query(warehouse, sql)
        assert len(mart) == len(rows) > 0, sql
        assert _normalise(mart) == _normalise(rows), sql
    assert 0 < (plays["level"] == "paid").mean() < 1
    assert sum(r[-1] for r in expected[next(iter(expected))]) > 0  # new registrations are counted


def test_plan_changes_and_page_funnel_and_activity_agree_with_the_landing_files(warehouse_and_oracle):
    warehouse, plays, days = warehouse_and_oracle
    landing = warehouse.parent / "landing"
    changes = _landing_frame(landing, "status_change_events")
    upgrades = changes[changes["level"] == "free"].groupby("day").size().to_dict()
    downgrades = changes[changes["level"] == "paid"].groupby("day").size().to_dict()
    mart = _query(warehouse, "SELECT change_date, upgrades, downgrades FROM marts.mart_plan_changes ORDER BY 1")
    assert [[d, u, g] for d, u, g in mart] == [[d, upgrades.get(d, 0), downgrades.get(d, 0)] for d, _, _ in mart]
    assert sum(u for _, u, _ in mart) == len(changes[changes["level"] == "free"]) > 0
    pages = _landing_frame(landing, "page_view_events")
    views = pages.groupby(["day", "page"]).size().to_dict()
    errors = pages[pages["status"] >= 400].groupby(["day", "page"]).size().to_dict()
    funnel = _query(warehouse, "SELECT view_date, page_name, views, error_responses FROM marts.mart_page_funnel")
    assert {(d, p): (v, e) for d, p, v, e in funnel} == {k: (v, errors.get(k, 0)) for k, v in views.items()}
    activity = _query(warehouse, "SELECT activity_date, sum(plays) FROM marts.mart_user_daily_activity GROUP BY 1")
    assert dict(activity) == plays.groupby("play_date").size().to_dict()


def test_rerunning_and_backfilling_days_neither_duplicates_nor_drops(warehouse_and_oracle, tmp_path, request):
    warehouse, _, days = warehouse_and_oracle
    if request.node.callspec.params["warehouse_and_oracle"] == "simulator_latest_day_first":
        pytest.skip("the same days as the simulator warehouse: rerunning them there proves the same")
    marts = [t for (t,) in _query(warehouse, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'")]
    assert len(marts) == 11

    def snapshot():
        return {m: _normalise(_query(warehouse, f"SELECT * FROM marts.{m}")) for m in marts}

    before = snapshot()
    middle = days[len(days) // 2]
    for first, last in ((middle, middle), (middle, middle), (days[0], days[-1])):
        run_dbt(["run", "--select", "marts", "--vars", f'{{"min_date": "{first}", "max_date": "{last}"}}'],
                warehouse, tmp_path)  # fmt: skip
    assert snapshot() == before
