"""The marts and the dashboard's numbers, proven against an independent oracle.

The oracle reads the landing JSON with pandas and computes the three seed marts and the headline
numbers by itself, without dbt or the vault. The warehouse side runs the real raw loader and one
real `dbt build` over the range; the dashboard side is the dashboard's own query code. Every day must
match exactly, on simulator output and on the real November 2018 sample imported with
import-classic (its artist names arrive double-encoded and must come out repaired).
"""

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from audio_dwh.dashboard.report import fetch_day
from audio_dwh.events.classic import import_classic
from audio_dwh.events.contract import TOPICS
from audio_dwh.events.landing import scan_day
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, write_day
from audio_dwh.events.text import repair_double_encoding
from audio_dwh.raw.duckdb_loader import load_day
from audio_dwh_tests.conftest import sparkify_files
from audio_dwh_tests.dbt_helpers import run_dbt

MART_COLUMNS = ["user_id", "play_start_ts", "play_end_ts", "song_played_sec", "song_name", "song_artist",
                "user_agent", "location_city", "location_state", "location_latitude", "location_longitude"]  # fmt: skip


def _clean(text: pd.Series) -> pd.Series:
    return text.where(text.isna(), text.astype("string").str.strip()).replace("", pd.NA)


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
        "user_agent": _clean(listens["userAgent"].astype("string").str.strip().str.strip('"')),
        "location_city": _clean(listens["city"]),
        "location_state": _clean(listens["state"]),
        "location_latitude": listens["lat"].astype(float),
        "location_longitude": listens["lon"].astype(float),
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


def _load_range(tmp: Path, landing: Path, days: list[date]) -> Path:
    warehouse = tmp / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    for day in days:
        for topic in TOPICS.values():
            load_day(con, topic, day, scan_day(landing, topic.name, day), landing, reject_threshold=0.0)
    con.close()
    vars_ = f'{{"min_date": "{days[0]}", "max_date": "{days[-1]}"}}'
    run_dbt(["build", "--vars", vars_], warehouse, tmp)
    return warehouse


@pytest.fixture(scope="module", params=["simulator", "sparkify"])
def warehouse_and_oracle(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    landing = tmp / "landing"
    if request.param == "simulator":
        days = [date(2026, 11, 2) + timedelta(days=i) for i in range(3)]
        simulator = DaySimulator(SimulatorConfig(seed=21, users=3000))
        for day in days:
            write_day(simulator, day, landing)
    else:
        import_classic(sparkify_files(), landing)
        days = [date(2018, 11, 1) + timedelta(days=i) for i in range(30)]
    return _load_range(tmp, landing, days), oracle_plays(landing), days


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
    return value.item() if hasattr(value, "item") else value


def _normalise(rows: list[list]) -> list[list]:
    return sorted(([_native(v) for v in r] for r in rows), key=repr)


def test_mart_song_play_is_every_play_exactly(warehouse_and_oracle):
    warehouse, plays, _ = warehouse_and_oracle
    mart = _query(warehouse, f"SELECT {', '.join(MART_COLUMNS)} FROM marts.mart_song_play ORDER BY ALL")
    expected = _normalise(plays[MART_COLUMNS].astype(object).values.tolist())
    assert len(mart) == len(expected) > 0
    assert _normalise(mart) == expected


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


def test_dashboard_headline_numbers_match_for_every_day(warehouse_and_oracle):
    warehouse, plays, days = warehouse_and_oracle
    con = duckdb.connect(str(warehouse))
    checked = 0
    for day in days:
        report = fetch_day(con, day)
        today = plays[plays["play_date"] == day]
        assert report.total_listens == len(today)
        assert report.unique_users == today["user_id"].nunique()
        assert report.unique_songs == (today["song_name"] + "||" + today["song_artist"]).nunique()
        assert [listens for _, listens, _ in report.hourly] == [
            int((today["play_start_ts"].dt.hour == h).sum()) for h in range(24)
        ]
        if len(today):
            top = oracle_top10(today)[0]
            assert (report.most_popular.song, report.most_popular.artist) == (top[2], top[3])
            assert (report.most_popular.uniq_users, report.most_popular.plays) == (top[4], top[5])
            checked += 1
    con.close()
    assert checked >= 3


def test_double_encoded_artists_arrive_repaired(warehouse_and_oracle):
    warehouse, _, _ = warehouse_and_oracle
    artists = {a for (a,) in _query(warehouse, "SELECT DISTINCT song_artist FROM marts.mart_song_play")}
    assert not any("Ã" in a for a in artists)
    assert "Björk" in artists or any(not a.isascii() for a in artists)


def _landing_frame(landing: Path, topic: str) -> pd.DataFrame:
    frames = [pd.read_json(p, lines=True, dtype=False) for p in sorted((landing / topic).rglob("*.json"))]
    frame = pd.concat([f for f in frames if len(f)], ignore_index=True)
    frame["day"] = pd.to_datetime(frame["ts"], unit="ms").dt.date
    return frame


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


def test_rerunning_and_backfilling_days_neither_duplicates_nor_drops(warehouse_and_oracle, tmp_path):
    warehouse, _, days = warehouse_and_oracle
    marts = ["mart_song_play", "mart_song_play_hourly_metrics", "mart_song_play_top_10_songs",
             "mart_user_daily_activity", "mart_plan_changes", "mart_page_funnel"]  # fmt: skip

    def snapshot():
        return {m: _normalise(_query(warehouse, f"SELECT * FROM marts.{m}")) for m in marts}

    before = snapshot()
    middle = days[len(days) // 2]
    for first, last in ((middle, middle), (middle, middle), (days[0], days[-1])):
        run_dbt(["run", "--select", "marts", "--vars", f'{{"min_date": "{first}", "max_date": "{last}"}}'],
                warehouse, tmp_path)  # fmt: skip
    assert snapshot() == before
