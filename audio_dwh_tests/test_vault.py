"""The vault macros on crafted events: real raw loads, a real `dbt build`, a real DuckDB file.

Covers vault-semantics.md: duplicates inside one batch, NULL and empty keys, several sources into
one hub, a satellite change and a non-change, reloading a day, loading day 2 before day 1, one
batch over both days, the ghost key of a transactional link, and an effectivity change
(free -> paid -> free) with plays on either side of each change. The four-way comparison covers
the business vault (PIT, bridge) and every mart too.
"""

import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from audio_dwh.events.contract import TOPICS
from audio_dwh.events.landing import day_folder, scan_day
from audio_dwh.events.text import double_encode
from audio_dwh.raw.duckdb_loader import load_day
from audio_dwh_tests.dbt_helpers import assert_same_as_final, run_days, run_dbt, warehouse_tables

D1, D2 = date(2026, 11, 2), date(2026, 11, 3)
D1_MS, D2_MS = 1_793_577_600_000, 1_793_664_000_000
GHOST = "0" * 32
PLACE = {"city": "Boston", "zip": "02134", "state": "MA", "lat": 42.35, "lon": -71.1, "userAgent": '"Mozilla/5.0"'}
USERS = {
    1: {"userId": 1, "firstName": "Ann", "lastName": "Smith", "gender": "F", "registration": 1_700_000_000_000},
    2: {"userId": 2, "firstName": "Bob", "lastName": "Stone", "gender": "M", "registration": 1_700_000_000_000},
}


def _event(ts, session, item, level="free", auth="Logged In", user=None, **fields) -> dict:
    event = {"ts": ts, "sessionId": session, "itemInSession": item, "level": level, "auth": auth, **PLACE}
    if user:
        event.update(USERS[user])
    event.update(fields)
    return event


def _page(ts, session, item, page, level="free", user=1, method="GET", status=200, **fields):
    auth = fields.pop("auth", "Logged In" if user else "Guest")
    return _event(ts, session, item, level, auth, user, page=page, method=method, status=status, **fields)


SONG = {"artist": double_encode("Björk"), "song": "Undo", "duration": 100.5}


def _day1() -> dict[str, list[dict]]:
    t = D1_MS + 36_000_000
    plays = [
        _page(t + 10_000, 10, 1, "NextSong", method="PUT", **SONG),
        _page(t + 110_000, 10, 2, "NextSong", method="PUT", **SONG),
    ]  # the same song twice: one hub row
    submit = _page(t + 230_000, 10, 4, "Submit Upgrade", method="PUT", status=307)
    plays.append(_page(t + 240_000, 10, 6, "NextSong", level="paid", method="PUT", **SONG))  # after the upgrade
    return {
        "page_view_events": [
            _page(t, 10, 0, "Home"),
            *plays,
            _page(t + 220_000, 10, 3, "Upgrade"),
            submit,
            _page(t + 231_000, 10, 5, "Home", level="paid"),
            _page(t + 5_000, 11, 0, "Home", user=None, city="", zip=""),  # a guest with empty place keys
            _page(t + 6_000, 12, 0, "Login", user=None, auth="Logged Out", method="PUT", status=307),
            _page(t + 7_000, 12, 1, "Home", user=None, auth="Logged Out"),
        ],
        "listen_events": [{k: v for k, v in p.items() if k not in ("page", "method", "status")} for p in plays],
        "status_change_events": [{k: v for k, v in submit.items() if k not in ("page", "method", "status")}],
        "auth_events": [
            {**{k: v for k, v in _event(t + 7_000, 12, 1).items() if k != "auth"}, "success": False},
            # user 2 is only ever seen in an auth event: the hub takes it from that source
            {**{k: v for k, v in _event(t + 9_000, 13, 1, user=2).items() if k != "auth"}, "success": True},
        ],
    }


def _day2() -> dict[str, list[dict]]:
    t = D2_MS + 40_000_000
    submit = _page(t + 10_000, 20, 1, "Submit Downgrade", level="paid", method="PUT", status=307)
    renamed = {"lastName": "Smith-Jones"}
    play = _page(t + 5_000, 20, 1, "NextSong", level="paid", method="PUT", **SONG)  # before the downgrade
    return {
        "page_view_events": [
            _page(t, 20, 0, "Home", level="paid"),
            play,
            submit,
            _page(t + 11_000, 20, 2, "Home"),
            _page(t + 60_000, 20, 3, "Home", **renamed),
            _page(t + 90_000, 20, 4, "Home", **renamed),
        ],
        "listen_events": [{k: v for k, v in play.items() if k not in ("page", "method", "status")}],
        "status_change_events": [{k: v for k, v in submit.items() if k not in ("page", "method", "status")}],
        "auth_events": [],
    }


def _day1_as_first_sent() -> dict[str, list[dict]]:
    """Day 1 as the producer first sent it, before it sent the final files (_day1): one play of
    another song (corrected later), one page view on the wrong plan, a play, a page view and a login
    of a user 3 it then took back, and without the guest's page view (added later)."""
    day = _day1()
    t = D1_MS + 36_000_000
    views, plays = day["page_view_events"], day["listen_events"]
    views[0] = {**views[0], "level": "paid"}  # Home, corrected to free
    plays[1] = {**plays[1], "song": "Joga", "duration": 305.3}  # the same play, another song
    views[2] = {**views[2], "song": "Joga", "duration": 305.3}
    del views[6]  # the guest's Home, added in the final files
    USERS.setdefault(3, {"userId": 3, "firstName": "Cy", "lastName": "Ward", "gender": "M",
                         "registration": 1_690_000_000_000})  # fmt: skip
    removed = _page(t + 500_000, 30, 0, "NextSong", user=3, method="PUT", **SONG)
    views.append(removed)
    plays.append({k: v for k, v in removed.items() if k not in ("page", "method", "status")})
    day["auth_events"].append({**{k: v for k, v in _event(t + 400_000, 30, 1, user=3).items() if k != "auth"},
                               "success": True})  # fmt: skip
    return day


def _land_and_load(warehouse: Path, landing: Path, day: date, events: dict[str, list[dict]]) -> None:
    con = duckdb.connect(str(warehouse))
    for topic, rows in events.items():
        folder = day_folder(landing, topic, day)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "crafted.json"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        result = load_day(con, TOPICS[topic], day, scan_day(landing, topic, day), landing, reject_threshold=0.0)
        assert result.rejected == 0
    con.close()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> dict[str, dict[str, list[tuple]]]:
    """The same two days loaded four ways; each a snapshot of every vault table."""
    snapshots = {}
    orders = {
        "in_order": [(D1, D1), (D2, D2)],
        "reloaded": [(D1, D1), (D1, D1), (D2, D2), (D2, D2)],
        "day2_first": [(D2, D2), (D1, D1)],
        "one_batch": [(D1, D2)],
    }
    for name, builds in orders.items():
        tmp = tmp_path_factory.mktemp(name)
        warehouse, landing = tmp / "warehouse.duckdb", tmp / "landing"
        _land_and_load(warehouse, landing, D1, _day1())
        _land_and_load(warehouse, landing, D2, _day2())
        for first, last in builds:
            run_days(warehouse, tmp, first.isoformat(), last.isoformat())
        snapshots[name] = warehouse_tables(warehouse)
        if name == "in_order":
            con = duckdb.connect(str(warehouse))

            def rows(sql: str, con=con) -> list[tuple]:
                return con.execute(sql).fetchall()

            snapshots["in_order_rows"] = {
                "hub_user": rows("SELECT user_id, load_date, record_source FROM vault.hub_user ORDER BY 1"),
                "hub_artist": rows("SELECT artist_name FROM vault.hub_artist"),
                "hub_song": rows("SELECT song_name, artist_name FROM vault.hub_song"),
                "null_city": rows("SELECT count(*) FROM vault.hub_location_city WHERE location_city IS NULL"),
                "zip": rows("SELECT location_zip FROM vault.hub_location_zip"),
                "plays": rows("SELECT count(*) FROM vault.link_song_play_context"),
                "plan": rows(
                    """SELECT h.level, p.effective_from_ts, p.effective_to_ts, p.is_current
                       FROM vault.sat_user_plan_periods p JOIN vault.hub_plan h USING (plan_pk)
                       JOIN vault.hub_user u USING (user_pk) WHERE u.user_id = 1 ORDER BY 2"""
                ),
                "profile": rows(
                    """SELECT last_name, effective_from_ts, is_current FROM vault.sat_user_profile_periods
                       JOIN vault.hub_user USING (user_pk) WHERE user_id = 1 ORDER BY 2"""
                ),
                "auth": rows(
                    f"""SELECT t.user_pk = '{GHOST}', s.is_successful FROM vault.t_link_authorization t
                        JOIN vault.sat_authorization_status s USING (authorization_pk) ORDER BY 2"""
                ),
                "sessions": rows("SELECT count(*) FROM vault.hub_session"),
                "play_times": rows(
                    "SELECT play_start_ts, play_end_ts, song_played_sec FROM vault.sat_song_play_details"
                ),
                "listeners": rows(
                    "SELECT play_start_ts, level, gender, registration_date FROM marts.mart_song_play ORDER BY 1"
                ),
                "day_ends": rows(
                    f"""SELECT u.user_id, p.as_of_ts, p.sat_user_profile_pk = '{GHOST}', p.sat_user_plan_pk = '{GHOST}',
                               p.sat_user_profile_ldts, p.sat_user_plan_hashdiff = l.link_user_plan_pk
                        FROM business_vault.pit_user_daily p JOIN vault.hub_user u USING (user_pk)
                        LEFT JOIN vault.link_user_plan l USING (user_pk) ORDER BY 1, 2, 6 DESC"""
                ),
                "bridge": rows(
                    """SELECT a.artist_name, s.location_state
                       FROM business_vault.bridge_song_play b JOIN vault.hub_artist a USING (artist_pk)
                       JOIN vault.hub_location_state s USING (location_state_pk)"""
                ),
                "active_users": rows("SELECT * FROM marts.mart_active_users ORDER BY 1"),
                "kpis": rows(
                    """SELECT activity_date, listens, daily_active_users, paid_share_of_listens, sessions
                       FROM marts.mart_daily_kpis ORDER BY 1"""
                ),
                "retention": rows("SELECT * FROM marts.mart_retention"),
            }
            con.close()
    for name, day2_first in (("sent_again", False), ("sent_again_after_day2", True)):
        # Day 1 first as first sent, built with day 2; then its final files, and day 1 run again.
        tmp = tmp_path_factory.mktemp(name)
        warehouse, landing = tmp / "warehouse.duckdb", tmp / "landing"
        _land_and_load(warehouse, landing, D1, _day1_as_first_sent())
        _land_and_load(warehouse, landing, D2, _day2())
        for day in (D2, D1) if day2_first else (D1, D2):
            run_days(warehouse, tmp, day.isoformat())
        _land_and_load(warehouse, landing, D1, _day1())
        run_days(warehouse, tmp, D1.isoformat())
        snapshots[name] = warehouse_tables(warehouse)
    return snapshots


def test_every_vault_table_is_filled(loaded):
    snapshot = loaded["in_order"]
    expected = {
        "hub_user", "hub_plan", "hub_user_agent", "hub_session", "hub_song_play", "hub_song", "hub_artist",
        "hub_web_page", "hub_location_geo", "hub_location_zip", "hub_location_city", "hub_location_state",
        "link_user_plan", "link_user_agent_user", "link_song_play_context", "link_song_artist",
        "link_location_geo_zip", "link_location_zip_city", "link_location_city_state",
        "t_link_authorization", "t_link_web_clickstream", "sat_user_profile", "sat_user_plan",
        "sat_song_play_details", "sat_authorization_status", "sat_location_geo",
    }  # fmt: skip
    assert expected <= set(snapshot)
    assert all(snapshot[t] for t in expected), [t for t in expected if not snapshot[t]]


def test_reloading_days_changes_nothing(loaded):
    assert loaded["reloaded"] == loaded["in_order"]


def test_day2_before_day1_gives_the_in_order_vault(loaded):
    assert loaded["day2_first"] == loaded["in_order"]


def test_one_batch_over_both_days_gives_the_day_by_day_vault(loaded):
    assert loaded["one_batch"] == loaded["in_order"]


@pytest.mark.parametrize("way", ["sent_again", "sent_again_after_day2"])
def test_a_day_sent_again_corrected_gives_the_vault_of_its_final_files(loaded, way):
    """A corrected play, a corrected plan, removed and added events: every table that holds events or
    their states, the business vault and every mart equal a home that only saw the final files; the
    hubs and the links of shared entities keep what they saw besides (user 3, the song Joga)."""
    final, corrected = loaded["in_order"], loaded[way]
    assert_same_as_final(final, corrected)
    assert len(corrected["hub_user"]) == len(final["hub_user"]) + 1  # user 3, who is in no mart
    assert len(corrected["hub_song"]) == len(final["hub_song"]) + 1  # Joga


def test_hubs_keep_one_row_per_key_from_the_earliest_source_and_day(loaded):
    rows = loaded["in_order_rows"]
    # user 1 is seen on day 1 in listens, page views and a status change: the smallest source wins
    assert rows["hub_user"] == [(1, D1, "listen_events"), (2, D1, "auth_events")]
    assert rows["hub_song"] == [("Undo", "Björk")] and rows["hub_artist"] == [("Björk",)]
    assert rows["plays"] == [(4,)]


def test_null_and_empty_keys_name_no_entity(loaded):
    rows = loaded["in_order_rows"]
    assert rows["null_city"] == [(0,)] and rows["zip"] == [("02134",)]
    # sessions: user 1's two, the guest's, the failed login's and user 2's (session id + no user is a key)
    assert rows["sessions"] == [(5,)]


def test_plan_history_is_free_paid_free(loaded):
    plan = loaded["in_order_rows"]["plan"]
    assert [(level, current) for level, _, _, current in plan] == [("free", False), ("paid", False), ("free", True)]
    assert plan[0][2] == plan[1][1] and plan[1][2] == plan[2][1] and plan[2][2] is None
    assert plan[1][1].isoformat().startswith("2026-11-02T10:03:50")  # the Submit Upgrade's time


def test_profile_change_is_a_new_row_and_a_non_change_is_not(loaded):
    profile = loaded["in_order_rows"]["profile"]
    assert [(name, current) for name, _, current in profile] == [("Smith", False), ("Smith-Jones", True)]


def test_song_play_details_end_when_the_song_does(loaded):
    times = loaded["in_order_rows"]["play_times"]
    assert len(times) == 4
    assert all((end - start).total_seconds() == seconds == 100.5 for start, end, seconds in times)


def test_each_play_carries_the_plan_its_own_event_named_and_the_listeners_profile(loaded):
    listeners = loaded["in_order_rows"]["listeners"]
    # free, free, then paid 10 s after the upgrade; next day paid 5 s before the downgrade
    assert [level for _, level, _, _ in listeners] == ["free", "free", "paid", "paid"]
    assert {(gender, registered) for _, _, gender, registered in listeners} == {("F", date(2023, 11, 14))}


def test_pit_points_at_the_rows_in_force_and_at_the_ghost_where_none_is(loaded):
    day_ends = loaded["in_order_rows"]["day_ends"]
    # user 2 is only ever seen in an auth event: no profile, no plan, the ghost key and 1900-01-01
    assert [r[2:5] for r in day_ends if r[0] == 2] == [(True, True, datetime(1900, 1, 1))]
    ends = [r for r in day_ends if r[0] == 1]
    last_millisecond = [datetime(2026, 11, day, 23, 59, 59, 999000) for day in (2, 3)]
    assert [r[1] for r in ends[::2]] == last_millisecond
    # user 1 ends day 1 on the paid plan and day 2 on the free one: one of its two plan links matches
    assert [r[5] for r in ends] == [True, False, True, False]


def test_bridge_walks_from_the_play_to_its_artist_and_state(loaded):
    assert loaded["in_order_rows"]["bridge"] == [("Björk", "MA")] * 4


def test_rolling_marts_count_the_listeners_of_each_trailing_window(loaded):
    rows = loaded["in_order_rows"]
    assert rows["active_users"] == [(D1, 1, 1, 1, 1.0), (D2, 1, 1, 1, 1.0)]
    # sessions with a page: user 1's, the guest's, the logged-out one (user 2's has only an auth event)
    assert rows["kpis"] == [(D1, 3, 1, 1 / 3, 3), (D2, 1, 1, 1.0, 1)]
    # user 1 registered on Tuesday 2023-11-14 (cohort week 2023-11-13); user 2 was never on the site
    weeks = (D1 - date(2023, 11, 13)).days // 7
    assert rows["retention"] == [(date(2023, 11, 13), weeks, date(2026, 11, 2), 1, 1, 1.0)]


def test_failed_login_keeps_its_transaction_with_the_ghost_user(loaded):
    assert loaded["in_order_rows"]["auth"] == [(True, False), (False, True)]


def test_a_table_whose_columns_changed_stops_the_load_and_keeps_its_rows(tmp_path):
    """on_schema_change: fail, checked by the project's incremental materialization in SQL; the error
    names the model and the columns, the stored rows stay, and a full refresh over every day mends it."""
    warehouse, landing = tmp_path / "warehouse.duckdb", tmp_path / "landing"
    _land_and_load(warehouse, landing, D1, _day1())
    _land_and_load(warehouse, landing, D2, _day2())
    run_days(warehouse, tmp_path, D1.isoformat())
    con = duckdb.connect(str(warehouse))
    con.execute("ALTER TABLE vault.hub_user ADD COLUMN nickname VARCHAR")
    before = con.execute("SELECT * FROM vault.hub_user ORDER BY ALL").fetchall()
    con.close()

    window = json.dumps({"min_date": D2.isoformat()})
    output = run_dbt(["run", "--select", "hub_user", "--vars", window], warehouse, tmp_path, failing_tests_ok=True)
    assert 'incremental model "warehouse"."vault"."hub_user" no longer match its table' in output, output[-3000:]
    assert "differing: nickname VARCHAR" in output
    con = duckdb.connect(str(warehouse))
    assert con.execute("SELECT * FROM vault.hub_user ORDER BY ALL").fetchall() == before
    con.close()

    run_dbt(["run", "--select", "+hub_user", "--full-refresh"], warehouse, tmp_path)  # no window: every day
    con = duckdb.connect(str(warehouse))
    columns = [c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE vault.hub_user)").fetchall()]
    users = con.execute("SELECT user_id, load_date, record_source FROM vault.hub_user ORDER BY 1").fetchall()
    con.close()
    assert "nickname" not in columns
    assert users == [(1, D1, "listen_events"), (2, D1, "auth_events")]
