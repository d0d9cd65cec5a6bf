"""The dashboard's figures on the serving copy, where distinct listeners are counted from each play's
previous play in its group (marked as each day is published), equal the same figures by
count(DISTINCT) over the plays themselves: for any plays, any range, every plan and days published in
any order, some again (Hypothesis). And every chart is valid Vega-Lite.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import vl_convert
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
        "mart_daily_kpis": pd.DataFrame({"activity_date": [FIRST], "new_registrations": [1]}),
        "mart_retention": pd.DataFrame(
            {
                "cohort_week": [FIRST - timedelta(days=FIRST.weekday())] * 2,
                "activity_week": [FIRST - timedelta(days=FIRST.weekday()), FIRST + timedelta(days=7 - FIRST.weekday())],
                "weeks_since_registration": [0, 1],
                "cohort_users": [4, 4],
                "active_users": [2, 1],
                "retention_share": [0.5, 0.25],
            }
        ),  # fmt: skip
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
            figures.retention(con, period, figures.LoadedDays((FIRST, FIRST + timedelta(days=9)))).cells
        ),
    ]
    for chart in drawn:
        chart.to_dict(validate=True)  # raises on a spec Vega-Lite would reject
        assert charts.vega_lite(chart)["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


@given(
    loaded=st.sets(st.integers(0, 20), min_size=1),
    ends=st.tuples(st.integers(0, 20), st.integers(0, 20)),
    listened=st.sets(st.integers(0, 20)),
)
def test_trends_hold_each_loaded_day_and_break_once_per_run_of_days_not_loaded(loaded, ends, listened):
    days = figures.LoadedDays(tuple(FIRST + timedelta(days=n) for n in sorted(loaded)))
    period = Period(FIRST + timedelta(days=min(ends)), FIRST + timedelta(days=max(ends)))
    daily = pd.DataFrame({"day": [d for d in days.within(period) if (d - FIRST).days in listened]})
    daily["listens"] = 3
    trend = figures.with_gaps(daily, period, days)
    assert list(trend["day"]) == sorted(trend["day"])
    figured = [d for d, n in zip(trend["day"], trend["listens"], strict=True) if pd.notna(n)]
    assert figured == days.within(period)  # every loaded day, one without listens as 0
    assert all(n in (0, 3) for n in trend["listens"].dropna())
    in_period = [period.start + timedelta(days=i) for i in range(period.days)]
    unloaded_runs = sum(
        1 for i, d in enumerate(in_period) if d not in days.days and (i == 0 or in_period[i - 1] in days.days)
    )
    assert trend["listens"].isna().sum() == unloaded_runs
    # so no two days with figures are joined across a day not loaded
    rows = list(zip(trend["day"], trend["listens"].notna(), strict=True))
    for (day, has), (after, has_after) in zip(rows, rows[1:], strict=False):
        assert not (has and has_after) or after == day + timedelta(days=1)


def test_a_trend_line_breaks_at_a_day_not_loaded():
    loaded = figures.LoadedDays((FIRST, FIRST + timedelta(days=1), FIRST + timedelta(days=4)))
    period = Period(FIRST, FIRST + timedelta(days=4))
    daily = pd.DataFrame({"day": list(loaded.days), "listens": [2, 3, 4], "paid_share": [0.5, 0.25, 1.0],
                          "daily_active_users": [1, 2, 2], "weekly_active_users": [1, 2, 3],
                          "monthly_active_users": [1, 2, 3]})  # fmt: skip
    spec = charts.paid_share_trend(figures.with_gaps(daily, period, loaded)).to_dict(validate=True)
    values = spec["datasets"][spec["data"]["name"]]
    assert [(v["day"], v["paid_share"]) for v in values] == [
        ("2026-11-01", 0.5), ("2026-11-02", 0.25), ("2026-11-03", None), ("2026-11-05", 1.0)
    ]  # fmt: skip
    assert spec["mark"]["invalid"] == charts.BREAK_AT_GAPS


@pytest.mark.parametrize(
    ("days", "labels"),
    [((date(2026, 11, 3), date(2026, 11, 4)), ["03 Nov", "04 Nov"]),
     ((date(2018, 11, 30), date(2026, 11, 30)), ["30 Nov 2018", "30 Nov 2026"])],
    ids=["one year", "across years"],
)  # fmt: skip
def test_a_trend_axis_labels_its_days_as_day_and_month_with_the_year_across_years(days, labels):
    """As Vega draws them (vl-convert runs the browser's Vega): the labels are formatted, not Vega-Lite's
    default 'Nov 03, 2026', which a utc formatType on a utc time unit falls back to."""
    daily = pd.DataFrame({"day": list(days), "listens": [2, 3]})
    assert _day_labels(charts.listens_trend(daily)) == labels


def _day_labels(chart) -> list[str]:
    svg = vl_convert.vegalite_to_svg(json.dumps(charts.vega_lite(chart)))
    return [label for label in re.findall(r"<text[^>]*>([^<]+)</text>", svg) if "Nov" in label]


def test_every_trend_keeps_a_place_for_days_not_loaded_bars_as_well_as_lines():
    """As drawn: the days not loaded between 01 and 04 Nov show as one labelled day (02 Nov) on each
    trend, an empty band on the bars, a break in the lines; the days either side never look adjacent."""
    loaded = figures.LoadedDays((FIRST, FIRST + timedelta(days=3), FIRST + timedelta(days=4)))
    daily = pd.DataFrame({"day": list(loaded.days), "listens": [2, 3, 4], "paid_share": [0.5, 0.25, 1.0],
                          "daily_active_users": [1, 2, 2], "weekly_active_users": [1, 2, 3],
                          "monthly_active_users": [1, 2, 3]})  # fmt: skip
    trend = figures.with_gaps(daily, Period(FIRST, FIRST + timedelta(days=4)), loaded)
    for chart in (charts.listens_trend, charts.active_users_trend, charts.paid_share_trend):
        assert _day_labels(chart(trend)) == ["01 Nov", "02 Nov", "04 Nov", "05 Nov"], chart.__name__


def test_retention_draws_each_cohort_over_its_loaded_weeks_with_its_size():
    monday = date(2026, 11, 2)
    weeks = [monday + timedelta(days=7 * n) for n in range(-1, 3)]  # 26 Oct .. 16 Nov
    con = _in_duckdb({"mart_retention": pd.DataFrame(
        [(weeks[0], weeks[1], 5, 3), (weeks[0], weeks[3], 5, 1), (weeks[1], weeks[1], 4, 4)],
        columns=["cohort_week", "activity_week", "cohort_users", "active_users"])})  # fmt: skip
    # a whole week loaded, the next none, the third three days of seven
    loaded = figures.LoadedDays(tuple([monday + timedelta(days=n) for n in range(7)]
                                      + [weeks[3] + timedelta(days=n) for n in range(3)]))  # fmt: skip

    def cells(period: Period) -> tuple[list, int, int]:
        found = figures.retention(con, period, loaded)
        columns = ["cohort", "weeks_since_registration", "active_users", "retention_share", "days_loaded"]
        return found.cells[columns].values.tolist(), found.shown, found.in_range

    # Only the cohort with listeners in the range's week, yet over all its weeks: none for the week
    # of its registration (before the first loaded day) nor for the week with no day loaded.
    assert cells(Period(weeks[3], weeks[3] + timedelta(days=2))) == (
        [["26 Oct 2026 · 5 users", 1, 3, 0.6, 7], ["26 Oct 2026 · 5 users", 3, 1, 0.2, 3]],
        1,
        1,
    )
    # Both cohorts; the week nobody of a cohort listened in, when loaded, is a 0.
    drawn, shown, in_range = cells(Period(monday, weeks[3] + timedelta(days=2)))
    assert (shown, in_range) == (2, 2)
    assert ["02 Nov 2026 · 4 users", 2, 0, 0.0, 3] in drawn and ["02 Nov 2026 · 4 users", 0, 4, 1.0, 7] in drawn
    assert len(figures.retention(con, Period(monday, weeks[3]), loaded, cohorts=1).cells["cohort"].unique()) == 1
