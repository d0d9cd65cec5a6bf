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

LISTENS = TOPICS["listen_events"]
DAY_START_MS = 1_793_577_600_000  # 2026-11-02T00:00:00Z


def _good_listen(**changes) -> dict:
    event = {"artist": "Björk", "song": "Undo", "duration": 348.57751, "ts": DAY_START_MS + 3_600_000,
             "sessionId": 1, "auth": "Logged In", "level": "paid", "itemInSession": 0, "city": "Boston",
             "zip": "02134", "state": "MA", "userAgent": "Mozilla/5.0", "lon": -71.1, "lat": 42.35,
             "userId": 7, "lastName": "Smith", "firstName": "Ann", "gender": "F",
             "registration": 1_700_000_000_000}  # fmt: skip
    event.update(changes)
    return {k: v for k, v in event.items() if v is not ...}


def _line(**changes) -> bytes:
    return json.dumps(_good_listen(**changes), ensure_ascii=False).encode()


# (raw line, expected reason fragment): every kind of bad line the loader must account for.
BAD_LINES: list[tuple[bytes, str]] = [
    (_line(sessionId=100)[:-20], "invalid JSON"),  # truncated
    (b"this is not json at all", "invalid JSON"),
    (b"[1, 2, 3]", "not a JSON object"),
    (b"42", "not a JSON object"),
    (b"", "blank line"),
    (b"   ", "blank line"),
    (_line(sessionId=101).replace(b"Smith", b"Sm\xffith"), "invalid UTF-8"),
    (_line(sessionId=102, ts=...), "required field ts is missing"),
    (_line(sessionId=None), "required field sessionId is missing or null"),
    (_line(sessionId=103, ts="2026-11-02T01:00:00"), "field ts: expected long, got string"),
    (_line(sessionId=104, itemInSession=1.5), "field itemInSession: expected int, got number"),
    (_line(sessionId=105, itemInSession=2**40), "field itemInSession: expected int"),
    (_line(sessionId=106, zip=2134), "field zip: expected string, got integer"),
    (_line(sessionId=107, artist={"name": "x"}), "field artist: expected string, got object"),
    (_line(sessionId=108, duration="long"), "field duration: expected double, got string"),
    (_line(sessionId=109, userId=[7]), "field userId: expected long, got array"),
    (_line(sessionId=110, ts=DAY_START_MS - 1), "outside partition day 2026-11-02"),
    (_line(sessionId=111, ts=32_503_680_000_000), "outside partition day"),  # year 3000
    (_line(sessionId=112, ts=0), "ts 0 outside partition day"),  # epoch zero
    (_line(sessionId=113, ts=99999999999999999999999), "field ts: expected long"),  # overflows BIGINT
    (_line(sessionId=114, song="x" * 1_000_000), "field song: 1000000 characters, over the 10000 limit"),
    (_line(sessionId=1), "duplicate event"),  # same key as the first good line
    (_line(sessionId=115).replace(b'"Ann"', b'"A\x00nn"'), "invalid JSON"),  # raw NUL byte
    (_line(sessionId=116, level=None), "required field level is missing or null"),
]


def _write(path: Path, lines: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def _rows(con, table: str, day=DAY) -> list[tuple]:
    return con.execute(
        f"SELECT * EXCLUDE (loaded_at) FROM raw.{table} WHERE partition_date = ? ORDER BY event_id", [day]
    ).fetchall()


def test_every_bad_line_is_rejected_with_its_reason_and_line_and_every_good_line_loads(tmp_path, warehouse):
    good = [_line(sessionId=1), _line(sessionId=2, userId=..., firstName=..., lastName=..., gender=...,
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
    path = _write(day_folder(landing, LISTENS.name, DAY) / "events.json", [_line(sessionId=1), _line(sessionId=2)])
    load_day(warehouse, LISTENS, DAY, [path], landing, reject_threshold=0.01)
    before = _rows(warehouse, "listen_events")
    _write(path, [_line(sessionId=3), b"garbage", b"{broken", _line(sessionId=4, ts=0)])
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
    a = _write(folder / "a.json", [_line(sessionId=1), b"bad", _line(sessionId=2)])
    b = _write(folder / "b.json", [b"\xff\xfe", _line(sessionId=3)])
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
    path = _write(day_folder(landing, LISTENS.name, DAY) / "x.json", [_line(song=nasty)])
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
