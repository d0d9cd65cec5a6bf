"""The dashboard's figures on the serving copy, where distinct listeners are counted from each play's
previous play in its group (marked as each day is published), equal the same figures by
count(DISTINCT) over the plays themselves: for any plays, any range, every plan and days published in
any order, some again (Hypothesis). And every chart is valid Vega-Lite.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audio_dwh.dashboard import charts, figures
from audio_dwh.dashboard.figures import Period
from audio_dwh.dashboard.serving import ServedMart, marked_plays_sql, open_serving_copy, publish

FIRST = date(2026, 11, 1)
DAYS = 6
SONGS = [("Undo", "Björk"), ("Hyperballad", "Björk"), ("Yellow", "Coldplay"), ("Clocks", "Coldplay"), ("Undo", "Other")]

plays = st.lists(
    st.tuples(
        st.integers(0, DAYS - 1),  # day
        st.integers(0, 23),  # hour
        st.integers(1, 6),  # user
        st.sampled_from(SONGS),
        st.sampled_from(["free", "paid"]),
        st.sampled_from(["F", "M", None]),
        st.integers(1, 600).map(float),  # seconds played (whole: their sums are exact in any order)
    ),
    min_size=1,
    max_size=60,
)
periods = st.tuples(st.integers(0, DAYS - 1), st.integers(0, DAYS - 1)).map(
    lambda ends: Period(FIRST + timedelta(days=min(ends)), FIRST + timedelta(days=max(ends)))
)


def _marts(rows: list[tuple]) -> dict[str, pd.DataFrame]:
    """The marts the listener figures read: the plays, and the headline's other two, empty."""
    song_play = pd.DataFrame(
        [
            {
                "song_play_pk": f"play {n}",
                "play_start_date": FIRST + timedelta(days=day),
                "play_start_ts": datetime.combine(FIRST + timedelta(days=day), datetime.min.time())
                + timedelta(hours=hour),
                "level": level,
                "gender": gender,
                "user_id": user,
                "song_name": song,
                "song_artist": artist,
                "song_played_sec": seconds,
                "user_agent": "a column the dashboard never reads",
            }
            for n, (day, hour, user, (song, artist), level, gender, seconds) in enumerate(rows)
        ]
    )
    return {
        "mart_song_play": song_play,
        "mart_user_daily_activity": pd.DataFrame({"user_id": [1], "registration_date": [FIRST]}),
        "mart_plan_changes": pd.DataFrame({"change_date": [FIRST], "upgrades": [0], "cancellations": [0]}),
    }


def _published_day_by_day(marts: dict[str, pd.DataFrame], folder: Path, order: list[int]) -> None:
    """The marts published as runs publish them, a day at a time in `order`, each day's plays landing in
    the warehouse just before its publication (the two other marts, whole, with every one)."""
    warehouse = _in_duckdb(marts)
    warehouse.execute("CREATE TABLE all_plays AS SELECT * FROM marts.mart_song_play")
    warehouse.execute("DELETE FROM marts.mart_song_play")
    served = [ServedMart("mart_song_play", "play_start_date", by_day=True)] + [
        ServedMart(name, "", by_day=False) for name in marts if name != "mart_song_play"
    ]
    for n in order:
        day = FIRST + timedelta(days=n)
        warehouse.execute("DELETE FROM marts.mart_song_play WHERE play_start_date = ?", [day])
        warehouse.execute("INSERT INTO marts.mart_song_play SELECT * FROM all_plays WHERE play_start_date = ?", [day])
        publish(warehouse, folder, served, [day])
    warehouse.close()


def _in_duckdb(marts: dict[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    """The marts as plain tables, as the warehouse holds them."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    for name, frame in marts.items():
        con.register("frame", frame)
        con.execute(f"CREATE TABLE marts.{name} AS SELECT * FROM frame")
        con.unregister("frame")
    return con


def _listener_figures(reader, period: Period, plan: str) -> list:
    return [
        figures.headline(reader, period, plan),
        figures.top_songs(reader, period, plan).values.tolist(),
        figures.top_artists(reader, period, plan).values.tolist(),
        figures.hourly_profile(reader, period, plan).values.tolist(),
        figures.splits(reader, period, plan).values.tolist(),
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=plays,
    period=periods,
    plan=st.sampled_from(figures.PLANS),
    order=st.permutations(range(DAYS)),
    again=st.lists(st.integers(0, DAYS - 1), max_size=2),
)
def test_listeners_counted_from_previous_plays_equal_count_distinct(tmp_path, rows, period, plan, order, again):
    marts = _marts(rows)
    folder = tmp_path / uuid.uuid4().hex
    _published_day_by_day(marts, folder, [*order, *again])
    plain = _in_duckdb(marts)
    served = open_serving_copy(folder)
    assert figures.previous_play_column("song", True) in {c for (c, *_) in served.execute(
        "DESCRIBE marts.mart_song_play").fetchall()}  # fmt: skip
    assert _listener_figures(served, period, plan) == _listener_figures(plain, period, plan)
    # and the marks themselves are those of the plays marked at once, whatever the order of publication
    marked_at_once = plain.execute(marked_plays_sql(None)).fetchall()
    assert sorted(served.execute("SELECT * FROM marts.mart_song_play").fetchall(), key=repr) == sorted(
        marked_at_once, key=repr
    )


def test_every_chart_is_valid_vega_lite():
    """The dashboard draws its specs unvalidated (for speed); here each is checked against the schema."""
    period = Period(FIRST, FIRST + timedelta(days=DAYS - 1))
    con = _in_duckdb(_marts([(0, 3, 1, SONGS[0], "paid", "F", 200.0), (1, 5, 2, SONGS[2], "free", None, 30.0)]))
    daily = pd.DataFrame(
        {
            "day": [FIRST],
            "listens": [2],
            "paid_share": [0.5],
            "daily_active_users": [2],
            "weekly_active_users": [2],
            "monthly_active_users": [2],
        }  # fmt: skip
    )
    drawn = [
        charts.listens_trend(daily),
        charts.active_users_trend(daily),
        charts.paid_share_trend(daily),
        charts.state_map(pd.DataFrame({"state": ["CA", "NY"], "listens": [3, 1]})),
        charts.hourly_profile(figures.hourly_profile(con, period)),
        charts.split_bars(figures.splits(con, period), "plan"),
        charts.split_bars(figures.splits(con, period), "gender"),
        charts.page_funnel(pd.DataFrame({"page": ["NextSong", "Home"], "views": [5, 2], "errors": [0, 1]})),
        charts.retention_heatmap(
            pd.DataFrame(
                {
                    "cohort_week": [FIRST],
                    "weeks_since_registration": [0],
                    "cohort_users": [2],
                    "active_users": [1],
                    "retention_share": [0.5],
                }
            )  # fmt: skip
        ),
    ]
    for chart in drawn:
        chart.to_dict(validate=True)  # raises on a spec Vega-Lite would reject
        assert charts.vega_lite(chart)["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
