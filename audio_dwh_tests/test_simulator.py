"""The simulator: deterministic, eventsim's topic split, guests, timing, cycles, plans across days."""

import collections
import hashlib
import json
from datetime import UTC, date, datetime, timedelta

from audio_dwh.events import reference, simulator
from audio_dwh.events.landing import day_folder
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, write_day
from audio_dwh.events.text import double_encode, repair_double_encoding
from audio_dwh_tests.conftest import DAY

USER_FIELDS = {"userId", "firstName", "lastName", "gender", "registration"}


def _digest(folder) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.json"))
    }


def test_same_seed_and_day_give_identical_files_whatever_else_was_generated(tmp_path):
    config = SimulatorConfig(seed=3, users=300)
    alone, after_others = tmp_path / "alone", tmp_path / "after"
    write_day(DaySimulator(config), DAY, alone)
    busy = DaySimulator(config)
    for d in (DAY + timedelta(days=5), DAY - timedelta(days=1)):
        write_day(busy, d, after_others)
    write_day(busy, DAY, after_others)
    day_files = {k: v for k, v in _digest(after_others).items() if f"date={DAY}" in k}
    assert _digest(alone) == day_files
    assert len(day_files) == 4


def test_each_file_holds_the_days_lines_in_order_one_per_line(tmp_path, monkeypatch):
    # Slices of 7 lines: every topic but the smallest is written in several pieces.
    monkeypatch.setattr(simulator, "WRITE_SLICE_LINES", 7)
    sim = DaySimulator(SimulatorConfig(seed=3, users=300))
    counts = write_day(sim, DAY, tmp_path)
    expected = sim.simulate(DAY)
    for topic, lines in expected.items():
        text = (day_folder(tmp_path, topic, DAY) / simulator.SIMULATOR_FILE).read_text(encoding="utf-8")
        assert text == "".join(f"{line}\n" for line in lines)
        assert counts[topic] == len(lines)
    assert len(expected["page_view_events"]) > 7


def test_another_seed_gives_other_events():
    a = DaySimulator(SimulatorConfig(seed=1, users=200)).simulate(DAY)
    b = DaySimulator(SimulatorConfig(seed=2, users=200)).simulate(DAY)
    assert a["page_view_events"] != b["page_view_events"]


def test_listen_events_are_the_next_song_page_views(day_events):
    pages = {(e["sessionId"], e["itemInSession"]): e for e in day_events["page_view_events"]}
    listens = day_events["listen_events"]
    assert len(listens) == sum(e["page"] == "NextSong" for e in pages.values()) > 0
    for listen in listens:
        page = pages[(listen["sessionId"], listen["itemInSession"])]
        assert page["page"] == "NextSong"
        assert (page["ts"], page["artist"], page["song"], page["duration"]) == (
            listen["ts"], listen["artist"], listen["song"], listen["duration"])  # fmt: skip
    assert all("song" not in e for e in pages.values() if e["page"] != "NextSong")


def test_status_changes_are_submitted_upgrades_and_downgrades_with_the_level_before(day_events):
    pages = {(e["sessionId"], e["itemInSession"]): e for e in day_events["page_view_events"]}
    submits = [e for e in pages.values() if e["page"] in ("Submit Upgrade", "Submit Downgrade")]
    changes = day_events["status_change_events"]
    assert len(changes) == len(submits) > 0
    for change in changes:
        page = pages[(change["sessionId"], change["itemInSession"])]
        before = "free" if page["page"] == "Submit Upgrade" else "paid"
        assert change["level"] == page["level"] == before
        after = pages[(change["sessionId"], change["itemInSession"] + 1)]
        assert after["level"] != before, "the next page shows the new level"


def test_auth_events_follow_a_login(day_events):
    pages = {(e["sessionId"], e["itemInSession"]): e for e in day_events["page_view_events"]}
    logins = [e for e in pages.values() if e["page"] == "Login"]
    auths = day_events["auth_events"]
    assert auths and len(auths) <= len(logins)
    for auth in auths:
        assert pages[(auth["sessionId"], auth["itemInSession"] - 1)]["page"] == "Login"
        follow = pages[(auth["sessionId"], auth["itemInSession"])]
        assert auth["success"] == (follow["auth"] == "Logged In")
        assert ("userId" in auth) == auth["success"], "failed logins carry no user"
    assert any(not a["success"] for a in auths) or len(auths) < 20


def test_guests_and_logged_out_events_carry_no_user(day_events):
    pages = day_events["page_view_events"]
    auth_states = collections.Counter(e["auth"] for e in pages)
    assert auth_states["Guest"] > 0 and auth_states["Logged Out"] > 0 and auth_states["Logged In"] > 0
    for event in pages:
        if event["auth"] in ("Guest", "Logged Out"):
            assert not USER_FIELDS & set(event), event
            assert {"city", "zip", "state", "userAgent", "lat", "lon"} <= set(event)
        else:
            assert USER_FIELDS <= set(event)


def test_users_are_real_people_in_real_places(day_events):
    zips = {p[0]: p for p in reference.places()}
    agents = set(reference.user_agents().values)
    users = {}
    for event in day_events["page_view_events"]:
        zip_code, city, state, lat, lon = zips[event["zip"]]
        assert (event["city"], event["state"], event["lat"], event["lon"]) == (city, state, lat, lon)
        assert event["userAgent"] in agents
        if "userId" in event:
            identity = (event["firstName"], event["lastName"], event["gender"], event["registration"], event["zip"])
            assert users.setdefault(event["userId"], identity) == identity, "a user's details are stable"
            assert event["gender"] in ("M", "F") and event["registration"] < event["ts"]
    quoted = sum(e["userAgent"].startswith('"') for e in day_events["page_view_events"])
    assert 0.4 < quoted / len(day_events["page_view_events"]) < 0.95, "eventsim keeps most agents quoted"


def test_next_song_is_most_page_views_and_paid_users_listen_most(day_events):
    pages = collections.Counter(e["page"] for e in day_events["page_view_events"])
    assert pages.most_common(1)[0][0] == "NextSong"
    assert 0.7 < pages["NextSong"] / sum(pages.values()) < 0.92
    levels = collections.Counter(e["level"] for e in day_events["listen_events"])
    assert levels["paid"] > levels["free"]


def test_song_timing_follows_eventsim(day_events):
    by_session = collections.defaultdict(list)
    for e in day_events["page_view_events"]:
        by_session[e["sessionId"]].append(e)
    checked = 0
    for events in by_session.values():
        events.sort(key=lambda e: e["itemInSession"])
        assert len({e["ts"] % 1000 for e in events}) == 1, "a session's events share one ms suffix"
        for prev, nxt in zip(events, events[1:], strict=False):
            if prev["page"] == "NextSong":
                assert nxt["ts"] - prev["ts"] == int(prev["duration"]) * 1000
                checked += 1
            elif prev["status"] == 307:
                assert nxt["ts"] - prev["ts"] == 1000
    assert checked > 100


def _session_starts(simulator: DaySimulator, day: date) -> list[int]:
    starts = {}
    for line in simulator.simulate(day)["page_view_events"]:
        event = json.loads(line)
        starts.setdefault(event["sessionId"], event["ts"])
    return list(starts.values())


def test_daily_cycle_peaks_in_the_afternoon():
    starts = _session_starts(DaySimulator(SimulatorConfig(seed=5, users=20_000)), DAY)
    hours = collections.Counter(datetime.fromtimestamp(ts / 1000, tz=UTC).hour for ts in starts)
    afternoon = sum(hours[h] for h in range(13, 18))
    night = sum(hours[h] for h in range(1, 6))
    assert afternoon > 2 * night


def test_weekends_are_quieter():
    simulator = DaySimulator(SimulatorConfig(seed=5, users=20_000))
    weekend = sum(len(_session_starts(simulator, d)) for d in (date(2026, 11, 7), date(2026, 11, 8)))
    week = sum(len(_session_starts(simulator, d)) for d in (date(2026, 11, 4), date(2026, 11, 5)))
    assert weekend < 0.85 * week


def test_popular_songs_are_played_more_and_some_names_are_double_encoded(day_events):
    listens = day_events["listen_events"]
    plays = collections.Counter((e["artist"], e["song"]) for e in listens)
    catalogue = reference.songs()
    top_artist, top_title, _ = catalogue[0]
    assert plays[(double_encode(top_artist), double_encode(top_title))] >= 2 * (len(listens) / len(catalogue))
    mangled = [e["artist"] for e in listens if repair_double_encoding(e["artist"]) != e["artist"]]
    assert 0.003 < len(mangled) / len(listens) < 0.1
    assert all(repair_double_encoding(a).isprintable() for a in mangled)
    assert repair_double_encoding(double_encode("Björk")) == "Björk" and double_encode("Björk") == "BjÃ\x83Â¶rk"


def test_subscription_state_carries_across_days():
    simulator = DaySimulator(SimulatorConfig(seed=9, users=2000))
    first, second = DAY, DAY + timedelta(days=1)
    day1 = [json.loads(line) for line in simulator.simulate(first)["page_view_events"]]
    day2 = [json.loads(line) for line in simulator.simulate(second)["page_view_events"]]
    last_level = {e["userId"]: e["level"] for e in day1 if "userId" in e}
    first_level = {}
    for e in day2:
        first_level.setdefault(e.get("userId"), e["level"])
    first_level.pop(None, None)
    common = set(last_level) & set(first_level)
    assert len(common) > 20
    assert all(last_level[u] == first_level[u] for u in common)
    cancelled = {e["userId"] for e in day1 if e["auth"] == "Cancelled"}
    assert not cancelled & {e.get("userId") for e in day2}, "cancelled users do not come back"
