"""The DuckDB raw loader: validation, rejects with reasons, idempotency, atomicity, classic import."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from audio_dwh.events.classic import import_classic
from audio_dwh.events.contract import TOPICS
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, day_folder, write_day
from audio_dwh.raw.duckdb_loader import RejectedShareTooHigh, load_day
from audio_dwh_tests.conftest import DAY, sparkify_files
from audio_dwh_tests.hostile import BAD_LINES, line

LISTENS = TOPICS["listen_events"]


def _write(path: Path, lines: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def _rows(con, table: str, day=DAY) -> list[tuple]:
    return con.execute(
        f"SELECT * EXCLUDE (loaded_at) FROM raw.{table} WHERE partition_date = ? ORDER BY event_id", [day]
    ).fetchall()


def test_every_bad_line_is_rejected_with_its_reason_and_line_and_every_good_line_loads(tmp_path, warehouse):
    good = [line(sessionId=1), line(sessionId=2, userId=..., firstName=..., lastName=..., gender=...,
                                      registration=..., extra_field="ignored")]  # fmt: skip
    lines = good[:1] + [line for line, _ in BAD_LINES] + good[1:]
    landing = tmp_path / "landing"
    path = _write(day_folder(landing, LISTENS.name, DAY) / "events.json", lines)
    result = load_day(warehouse, LISTENS, DAY, [path], landing, reject_threshold=1.0)
    assert len(BAD_LINES) >= 20
    assert (result.lines, result.rows, result.rejected) == (len(lines), 2, len(BAD_LINES))
    assert result.unknown_fields == ["extra_field"]
    rejected = warehouse.execute(
        "SELECT line_number, reason, source_file FROM raw.rejected_events ORDER BY line_number"
    ).fetchall()
    assert [n for n, _, _ in rejected] == list(range(2, 2 + len(BAD_LINES)))
    for (line_number, reason, source_file), (_, expected) in zip(rejected, BAD_LINES, strict=True):
        assert expected in reason, f"line {line_number}: {reason!r} should say {expected!r}"
        assert source_file == f"listen_events/date={DAY}/events.json"
    loaded = warehouse.execute(
        'SELECT "sessionId", "userId", artist, zip, source_line FROM raw.listen_events ORDER BY source_line'
    ).fetchall()
    assert loaded == [(1, 7, "Björk", "02134", 1), (2, None, "Björk", "02134", len(lines))]


def test_a_day_loads_the_same_rows_twice_and_replaces_only_that_day(tmp_path, warehouse):
    landing = tmp_path / "landing"
    simulator = DaySimulator(SimulatorConfig(seed=1, users=2000))
    other = DAY + timedelta(days=1)
    for day in (DAY, other):
        write_day(simulator, day, landing)
    for topic in TOPICS.values():
        for day in (DAY, other):
            load_day(warehouse, topic, day, sorted(day_folder(landing, topic.name, day).glob("*.json")), landing, 0.0)
    before = {t: _rows(warehouse, t) for t in TOPICS}
    other_before = _rows(warehouse, "page_view_events", other)
    for topic in TOPICS.values():
        result = load_day(warehouse, topic, DAY, sorted(day_folder(landing, topic.name, DAY).glob("*.json")),
                          landing, 0.0)  # fmt: skip
        assert result.rejected == 0 and result.rows == len(before[topic.name])
    assert {t: _rows(warehouse, t) for t in TOPICS} == before
    assert _rows(warehouse, "page_view_events", other) == other_before
    assert all(before.values())


def test_too_many_bad_lines_fail_the_load_and_leave_the_day_as_it_was(tmp_path, warehouse):
    landing = tmp_path / "landing"
    path = _write(day_folder(landing, LISTENS.name, DAY) / "events.json", [line(sessionId=1), line(sessionId=2)])
    load_day(warehouse, LISTENS, DAY, [path], landing, reject_threshold=0.01)
    before = _rows(warehouse, "listen_events")
    _write(path, [line(sessionId=3), b"garbage", b"{broken", line(sessionId=4, ts=0)])
    with pytest.raises(RejectedShareTooHigh) as failure:
        load_day(warehouse, LISTENS, DAY, [path], landing, reject_threshold=0.01)
    message = str(failure.value)
    assert "3 of 4 lines rejected" in message and f"listen_events/date={DAY}/events.json" in message
    assert "invalid JSON (2)" in message and "left as it was" in message
    assert _rows(warehouse, "listen_events") == before
    assert warehouse.execute("SELECT count(*) FROM raw.rejected_events").fetchall() == [(0,)]


def test_missing_and_empty_files_load_an_empty_day(tmp_path, warehouse):
    landing = tmp_path / "landing"
    assert load_day(warehouse, LISTENS, DAY, [], landing, 0.01).rows == 0
    empty = _write(day_folder(landing, LISTENS.name, DAY) / "empty.json", [])
    empty.write_bytes(b"")
    result = load_day(warehouse, LISTENS, DAY, [empty], landing, 0.01)
    assert (result.lines, result.rows, result.rejected) == (0, 0, 0)


def test_several_files_are_numbered_each_from_one(tmp_path, warehouse):
    landing = tmp_path / "landing"
    folder = day_folder(landing, LISTENS.name, DAY)
    a = _write(folder / "a.json", [line(sessionId=1), b"bad", line(sessionId=2)])
    b = _write(folder / "b.json", [b"\xff\xfe", line(sessionId=3)])
    load_day(warehouse, LISTENS, DAY, [a, b], landing, 1.0)
    assert warehouse.execute(
        'SELECT source_file, source_line, "sessionId" FROM raw.listen_events ORDER BY 1, 2'
    ).fetchall() == [(f"listen_events/date={DAY}/a.json", 1, 1), (f"listen_events/date={DAY}/a.json", 3, 2),
                     (f"listen_events/date={DAY}/b.json", 2, 3)]  # fmt: skip
    assert warehouse.execute("SELECT source_file, line_number FROM raw.rejected_events ORDER BY 1").fetchall() == [
        (f"listen_events/date={DAY}/a.json", 2), (f"listen_events/date={DAY}/b.json", 1)]  # fmt: skip


def test_text_that_looks_like_sql_lands_as_data(tmp_path, warehouse):
    landing = tmp_path / "landing"
    nasty = "'; DROP TABLE raw.listen_events; --"
    path = _write(day_folder(landing, LISTENS.name, DAY) / "x.json", [line(song=nasty)])
    load_day(warehouse, LISTENS, DAY, [path], landing, 0.0)
    assert warehouse.execute("SELECT song FROM raw.listen_events").fetchall() == [(nasty,)]


def test_classic_sparkify_data_imports_into_the_four_topics_and_loads_cleanly(tmp_path, warehouse):
    files = sparkify_files()
    landing = tmp_path / "landing"
    counts = import_classic(files, landing)
    source = [json.loads(line) for f in files for line in f.read_text().splitlines() if line.strip()]
    assert counts["page_view_events"] == len(source) == 8056
    assert counts["listen_events"] == sum(e["page"] == "NextSong" for e in source)
    assert counts["status_change_events"] == sum(e["page"] in ("Submit Upgrade", "Submit Downgrade") for e in source)
    assert counts["auth_events"] == sum(e["page"] == "Login" for e in source)
    loaded = 0
    for folder in sorted((landing / "page_view_events").iterdir()):
        day = DAY.fromisoformat(folder.name.removeprefix("date="))
        for topic in TOPICS.values():
            result = load_day(warehouse, topic, day, sorted(day_folder(landing, topic.name, day).glob("*.json")),
                              landing, 0.0)  # fmt: skip
            loaded += result.rows if topic.name == "page_view_events" else 0
    assert loaded == len(source)
    guests = warehouse.execute(
        """SELECT count(*) FILTER (WHERE "userId" IS NOT NULL OR "firstName" IS NOT NULL), count(*)
           FROM raw.page_view_events WHERE auth <> 'Logged In'"""
    ).fetchall()[0]
    assert guests[0] == 0 and guests[1] > 0
    assert warehouse.execute(
        """SELECT city, state, zip FROM raw.listen_events WHERE "userId" = 8 LIMIT 1"""
    ).fetchall() == [("Phoenix-Mesa-Scottsdale", "AZ", None)]
