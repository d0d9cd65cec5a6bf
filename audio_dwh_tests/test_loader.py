"""The DuckDB raw loader: validation, rejects with reasons, idempotency, atomicity, classic import."""

import bz2
import gzip
import hashlib
import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from audio_dwh.events.classic import import_classic, sparkify_sample
from audio_dwh.events.contract import TOPICS, Topic
from audio_dwh.events.landing import day_folder, scan_day
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, write_day
from audio_dwh.quality.raw_checks import check_new_values, check_rejected_share, new_values
from audio_dwh.raw.duckdb_loader import LoadResult, RejectedShareTooHigh, load_day
from audio_dwh_tests.conftest import DAY
from audio_dwh_tests.hostile import BAD_LINES, DOMAIN_LINES, NEW_VALUE_LINES, line

LISTENS = TOPICS["listen_events"]


def _write(path: Path, lines: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def _load(con, landing: Path, threshold: float, topic: Topic = LISTENS, day: date = DAY) -> LoadResult:
    return load_day(con, topic, day, scan_day(landing, topic.name, day), landing, threshold)


def _rows(con, table: str, day=DAY) -> list[tuple]:
    return con.execute(
        f"SELECT * EXCLUDE (loaded_at) FROM raw.{table} WHERE partition_date = ? ORDER BY event_id", [day]
    ).fetchall()


def test_every_bad_line_is_rejected_with_its_reason_and_line_and_every_good_line_loads(tmp_path, warehouse):
    good = [line(sessionId=1), line(sessionId=2, userId=..., firstName=..., lastName=..., gender=...,
                                      registration=..., extra_field="ignored")]  # fmt: skip
    lines = good[:1] + [line for line, _ in BAD_LINES] + good[1:]
    landing = tmp_path / "landing"
    _write(day_folder(landing, LISTENS.name, DAY) / "events.json", lines)
    result = _load(warehouse, landing, 1.0)
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


def test_a_value_outside_its_domain_is_rejected_naming_the_field_and_the_rule(tmp_path, warehouse):
    landing = tmp_path / "landing"
    for topic in ("listen_events", "page_view_events"):
        bad = [(text, reason) for t, text, reason in DOMAIN_LINES if t == topic]
        good = [text for t, text in NEW_VALUE_LINES if t == topic]
        _write(day_folder(landing, topic, DAY) / "events.json", [text for text, _ in bad] + good)
        result = _load(warehouse, landing, 1.0, TOPICS[topic])
        assert (result.rows, result.rejected) == (len(good), len(bad)), topic
        rejected = warehouse.execute(
            "SELECT line_number, reason FROM raw.rejected_events WHERE topic = ? ORDER BY line_number", [topic]
        ).fetchall()
        assert rejected == [(n, reason) for n, (_, reason) in enumerate(bad, start=1)]
    assert len(DOMAIN_LINES) >= 20


def test_a_categorical_value_eventsim_does_not_send_is_loaded_and_counted(tmp_path, warehouse):
    landing = tmp_path / "landing"
    _write(day_folder(landing, "page_view_events", DAY) / "events.json", [t for _, t in NEW_VALUE_LINES[2:]])
    assert _load(warehouse, landing, 0.0, TOPICS["page_view_events"]).rows == 2
    assert new_values(warehouse, TOPICS["page_view_events"], DAY) == {
        "gender": [("X", 1)], "method": [("POST", 1)], "page": [("Podcast", 1)]
    }  # fmt: skip
    check = check_new_values(warehouse, TOPICS["page_view_events"], DAY, 0.0)
    assert not check.passed and check.severity.value == "WARN"
    assert check.metadata["new_values"].value == "gender: X (1); method: POST (1); page: Podcast (1)"
    _write(day_folder(landing, LISTENS.name, DAY) / "events.json", [line(sessionId=1)])
    _load(warehouse, landing, 0.0)
    assert check_new_values(warehouse, LISTENS, DAY, 0.0).passed


def test_the_loader_reads_what_a_producer_meant_to_land_and_rejects_what_it_cannot_read(tmp_path, warehouse):
    landing = tmp_path / "landing"
    folder = day_folder(landing, LISTENS.name, DAY)
    plain = _write(folder / "a.json", [line(sessionId=1)])
    (folder / "b.json.gz").write_bytes(gzip.compress(line(sessionId=2) + b"\n"))
    zstd = subprocess.run(["zstd", "-q", "-c"], input=line(sessionId=3) + b"\n", capture_output=True, check=True)
    (folder / "c.json.zst").write_bytes(zstd.stdout)
    (folder / "d.json.bz2").write_bytes(bz2.compress(line(sessionId=4) + b"\n"))
    (folder / "e.json.gz").write_bytes(b"not gzip at all\n")
    for skipped in (".a.json.Xy12Ab", "f.json.tmp", "g.json.bak", "h.json~", "notes.txt", "i.json.1"):
        _write(folder / skipped, [line(sessionId=1)])  # each a copy of a.json: never read as its duplicate
    (folder / "sub").mkdir()
    outside = _write(tmp_path / "elsewhere" / "real.json", [line(sessionId=5)])
    (folder / "j.json").symlink_to(outside)
    files = scan_day(landing, LISTENS.name, DAY)
    assert [p.name for p in files.events] == ["a.json", "b.json.gz", "c.json.zst", "e.json.gz", "j.json"]
    assert [p.name for p, _ in files.unreadable] == ["d.json.bz2"]
    assert sorted(p.name for p, _ in files.skipped) == sorted(
        [".a.json.Xy12Ab", "f.json.tmp", "g.json.bak", "h.json~", "notes.txt", "i.json.1", "sub"]
    )
    result = load_day(warehouse, LISTENS, DAY, files, landing, 1.0)
    assert (result.rows, result.rejected) == (4, 2)
    prefix = f"listen_events/date={DAY}/"
    assert warehouse.execute(
        'SELECT "sessionId", source_file, source_line FROM raw.listen_events ORDER BY 1'
    ).fetchall() == [(1, prefix + "a.json", 1), (2, prefix + "b.json.gz", 1), (3, prefix + "c.json.zst", 1),
                     (5, prefix + "j.json", 1)]  # fmt: skip
    rejected = warehouse.execute(
        "SELECT source_file, line_number, reason FROM raw.rejected_events ORDER BY 1"
    ).fetchall()
    assert [(f, n) for f, n, _ in rejected] == [(prefix + "d.json.bz2", None), (prefix + "e.json.gz", None)]
    assert rejected[0][2].startswith("compressed with bzip2, which the loader cannot read")
    assert rejected[1][2].startswith("unreadable file: IO Error: Input is not a GZIP stream")
    assert result.rejected_files == [(n, r) for n, _, r in rejected]
    assert plain.exists()


def test_mixed_line_endings_and_binary_data_are_read_line_by_line(tmp_path, warehouse):
    landing = tmp_path / "landing"
    folder = day_folder(landing, LISTENS.name, DAY)
    folder.mkdir(parents=True)
    # DuckDB's line reader stops at a carriage return in an LF file: such files take the slow path.
    (folder / "mixed.json").write_bytes(
        line(sessionId=1)
        + b"\r\n"
        + line(sessionId=2)
        + b"\n\rjunk\n"
        + line(sessionId=3)
        + b" \r \n"
        + bytes(range(11, 256))
        + b"\n"
        + line(sessionId=4)
    )
    result = _load(warehouse, landing, 1.0)
    assert (result.lines, result.rows) == (6, 4)
    assert warehouse.execute('SELECT "sessionId", source_line FROM raw.listen_events ORDER BY 1').fetchall() == [
        (1, 1), (2, 2), (3, 4), (4, 6)
    ]  # fmt: skip
    assert warehouse.execute("SELECT line_number, reason FROM raw.rejected_events ORDER BY 1").fetchall() == [
        (3, "invalid JSON"), (5, "invalid UTF-8")
    ]  # fmt: skip


def test_a_day_loads_the_same_rows_twice_and_replaces_only_that_day(tmp_path, warehouse):
    landing = tmp_path / "landing"
    simulator = DaySimulator(SimulatorConfig(seed=1, users=2000))
    other = DAY + timedelta(days=1)
    for day in (DAY, other):
        write_day(simulator, day, landing)
    for topic in TOPICS.values():
        for day in (DAY, other):
            _load(warehouse, landing, 0.0, topic, day)
    before = {t: _rows(warehouse, t) for t in TOPICS}
    other_before = _rows(warehouse, "page_view_events", other)
    for topic in TOPICS.values():
        result = _load(warehouse, landing, 0.0, topic, DAY)
        assert result.rejected == 0 and result.rows == len(before[topic.name])
    assert {t: _rows(warehouse, t) for t in TOPICS} == before
    assert _rows(warehouse, "page_view_events", other) == other_before
    assert all(before.values())


def test_too_many_bad_lines_fail_the_load_and_leave_the_day_as_it_was(tmp_path, warehouse):
    landing = tmp_path / "landing"
    path = _write(day_folder(landing, LISTENS.name, DAY) / "events.json", [line(sessionId=1), line(sessionId=2)])
    _load(warehouse, landing, 0.01)
    before = _rows(warehouse, "listen_events")
    _write(path, [line(sessionId=3), b"garbage", b"{broken", line(sessionId=4, ts=0)])
    with pytest.raises(RejectedShareTooHigh) as failure:
        _load(warehouse, landing, 0.01)
    message = str(failure.value)
    assert "3 of 4 lines rejected" in message and f"listen_events/date={DAY}/events.json" in message
    assert "invalid JSON (2)" in message and "left as it was" in message
    assert _rows(warehouse, "listen_events") == before
    assert warehouse.execute("SELECT count(*) FROM raw.rejected_events").fetchall() == [(0,)]


def test_missing_and_empty_files_load_an_empty_day(tmp_path, warehouse):
    landing = tmp_path / "landing"
    assert _load(warehouse, landing, 0.01).rows == 0
    empty = _write(day_folder(landing, LISTENS.name, DAY) / "empty.json", [])
    empty.write_bytes(b"")
    result = _load(warehouse, landing, 0.01)
    assert (result.lines, result.rows, result.rejected) == (0, 0, 0)


def test_several_files_are_numbered_each_from_one(tmp_path, warehouse):
    landing = tmp_path / "landing"
    folder = day_folder(landing, LISTENS.name, DAY)
    _write(folder / "a.json", [line(sessionId=1), b"bad", line(sessionId=2)])
    _write(folder / "b.json", [b"\xff\xfe", line(sessionId=3)])
    _load(warehouse, landing, 1.0)
    assert warehouse.execute(
        'SELECT source_file, source_line, "sessionId" FROM raw.listen_events ORDER BY 1, 2'
    ).fetchall() == [(f"listen_events/date={DAY}/a.json", 1, 1), (f"listen_events/date={DAY}/a.json", 3, 2),
                     (f"listen_events/date={DAY}/b.json", 2, 3)]  # fmt: skip
    assert warehouse.execute("SELECT source_file, line_number FROM raw.rejected_events ORDER BY 1").fetchall() == [
        (f"listen_events/date={DAY}/a.json", 2), (f"listen_events/date={DAY}/b.json", 1)]  # fmt: skip


def test_text_that_looks_like_sql_lands_as_data(tmp_path, warehouse):
    landing = tmp_path / "landing"
    nasty = "'; DROP TABLE raw.listen_events; --"
    _write(day_folder(landing, LISTENS.name, DAY) / "x.json", [line(song=nasty)])
    _load(warehouse, landing, 0.0)
    assert warehouse.execute("SELECT song FROM raw.listen_events").fetchall() == [(nasty,)]


def test_classic_sparkify_data_imports_into_the_four_topics_and_loads_cleanly(tmp_path, warehouse):
    files = sparkify_sample()
    landing = tmp_path / "landing"
    imported = import_classic(files, landing)
    counts = imported.counts
    source = [json.loads(line) for f in files for line in gzip.open(f) if line.strip()]
    assert [d.isoformat() for d in imported.days] == sorted({f.name[:10] for f in files})
    # every topic has a folder for every day: a topic without events that day has an empty one
    for topic in TOPICS:
        assert len(list((landing / topic).iterdir())) == len(imported.days), topic
    assert any(not any(folder.iterdir()) for folder in (landing / "status_change_events").iterdir())
    assert counts["page_view_events"] == len(source) == 8056
    assert counts["listen_events"] == sum(e["page"] == "NextSong" for e in source)
    assert counts["status_change_events"] == sum(e["page"] in ("Submit Upgrade", "Submit Downgrade") for e in source)
    assert counts["auth_events"] == sum(e["page"] == "Login" for e in source)
    loaded = 0
    for folder in sorted((landing / "page_view_events").iterdir()):
        day = DAY.fromisoformat(folder.name.removeprefix("date="))
        for topic in TOPICS.values():
            result = _load(warehouse, landing, 0.0, topic, day)
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


def test_lines_of_one_identity_load_once_when_they_agree_and_not_at_all_when_they_conflict(tmp_path, warehouse):
    """Same identity (sessionId, itemInSession, ts): the same values are one event sent twice, loaded
    from its first line by file name; other values are a conflict, every line rejected naming another.
    Which file holds which line, and in what order, changes nothing but the line the reasons name."""
    sent_twice, corrected = line(sessionId=1), line(sessionId=2, song="Joga")
    verdicts = []
    for first, second in (("a.json", "b.json"), ("b.json", "a.json")):
        landing = tmp_path / first / "landing"
        folder = day_folder(landing, LISTENS.name, DAY)
        sent = {first: [sent_twice, line(sessionId=2), line(sessionId=3)], second: [corrected, sent_twice]}
        for file, lines in sent.items():
            _write(folder / file, lines)
        result = _load(warehouse, landing, 1.0)
        rows = warehouse.execute(
            'SELECT "sessionId", song FROM raw.listen_events WHERE partition_date = ? ORDER BY 1', [DAY]
        ).fetchall()
        rejected = warehouse.execute(
            "SELECT source_file, line_number, reason FROM raw.rejected_events ORDER BY 1, 2"
        ).fetchall()
        verdicts.append((result.rows, result.rejected, rows))
        name = f"listen_events/date={DAY}/"
        assert (result.rejected, rows) == (3, [(1, "Undo"), (3, "Undo")])
        conflict = "conflicting event: same sessionId, itemInSession and ts as another line, with other values; see "
        duplicate = "duplicate event: same sessionId, itemInSession and ts and values as an earlier line; see "
        # (a's line, b's line) of the conflict, and of the event sent twice
        (a_conflict, b_conflict), (a_twice, b_twice) = ((2, 1), (1, 2)) if first == "a.json" else ((1, 2), (2, 1))
        assert rejected == sorted([
            (name + "a.json", a_conflict, f"{conflict}{name}b.json line {b_conflict}"),
            (name + "b.json", b_conflict, f"{conflict}{name}a.json line {a_conflict}"),
            (name + "b.json", b_twice, f"{duplicate}{name}a.json line {a_twice}"),
        ])  # fmt: skip
        # each rejected line is kept as it was sent (the loader keeps only rejected lines' text)
        kept = warehouse.execute("SELECT source_file, line_number, raw_line FROM raw.rejected_events").fetchall()
        assert {(f, n, text.encode()) for f, n, text in kept} == {
            (f, n, sent[f.removeprefix(name)][n - 1]) for f, n, _ in rejected
        }
        assert [reason for reason, _ in result.top_reasons] == [
            "conflicting event: same sessionId, itemInSession and ts as another line, with other values",
            "duplicate event: same sessionId, itemInSession and ts and values as an earlier line",
        ]
    assert verdicts[0] == verdicts[1]


def test_the_event_id_is_the_vaults_hash_of_the_identity(tmp_path, warehouse):
    landing = tmp_path / "landing"
    _write(day_folder(landing, LISTENS.name, DAY) / "events.json", [line(sessionId=12, itemInSession=3)])
    _load(warehouse, landing, 0.0)
    ((event_id, ts),) = warehouse.execute('SELECT event_id, "ts" FROM raw.listen_events').fetchall()
    assert event_id == hashlib.md5(f"12||3||{ts}".encode()).hexdigest().upper()


def test_a_file_cut_short_counts_every_line_it_holds_against_the_threshold(tmp_path, warehouse):
    """Half a day's listens in a truncated gzip is half the day lost, not one bad line: at the default
    1 % the day fails naming the file, and the day loaded before stays; with a threshold above the
    loss the other file loads and the lost lines are on record."""
    landing = tmp_path / "landing"
    folder = day_folder(landing, LISTENS.name, DAY)
    _write(folder / "whole.json", [line(sessionId=n) for n in range(100)])
    _load(warehouse, landing, 0.01)
    complete = gzip.compress(b"".join(line(sessionId=n) + b"\n" for n in range(1000, 1200)))
    (folder / "cut.json.gz").write_bytes(complete[: len(complete) * 3 // 4])
    with pytest.raises(RejectedShareTooHigh) as failure:
        _load(warehouse, landing, 0.01)
    message = str(failure.value)
    assert f"listen_events/date={DAY}/cut.json.gz (not read," in message and "lines lost)" in message
    assert "The day was left as it was." in message
    assert warehouse.execute("SELECT count(*) FROM raw.listen_events").fetchall() == [(100,)]
    result = _load(warehouse, landing, 0.9)
    lost = warehouse.execute("SELECT lost_lines FROM raw.rejected_events WHERE line_number IS NULL").fetchall()
    assert result.rows == 100 and 100 <= lost[0][0] < 200, lost  # the lines before the cut: over 100 of 200
    assert result.rejected_share == lost[0][0] / (100 + lost[0][0])
    assert check_rejected_share(warehouse, LISTENS, DAY, 0.01).metadata["lost_lines"].value == lost[0][0]


def test_a_name_of_nothing_but_invisible_characters_is_blank(tmp_path, warehouse):
    landing = tmp_path / "landing"
    blanks = ["\t", "\u200b", " \u00a0\u2028", "\ufeff\u0007"]
    lines = [line(sessionId=n, song=text) for n, text in enumerate(blanks)] + [line(sessionId=9, song="\tUndo\u200b")]
    _write(day_folder(landing, LISTENS.name, DAY) / "events.json", lines)
    result = _load(warehouse, landing, 1.0)
    reasons = warehouse.execute("SELECT DISTINCT reason FROM raw.rejected_events").fetchall()
    assert (result.rows, result.rejected, reasons) == (1, len(blanks), [("song: blank (required)",)])


@pytest.mark.parametrize("padding", [0, 9_950], ids=["short", "longer than the rejects keep"])
def test_a_line_holding_a_backslash_and_a_zero_loads_like_any(tmp_path, warehouse, padding):
    """DuckDB reads lines as one-column CSV whose delimiter is the two characters \\0; a line that
    holds them (a JSON-escaped backslash before a 0, found by the property tests) is still a line,
    also one longer than the part of a rejected line DuckDB keeps (found by the property tests too)."""
    landing = tmp_path / "landing"
    song = "C:\\0 and \\0" + "x" * padding
    lines = [line(sessionId=1, song=song), line(sessionId=2)]
    _write(day_folder(landing, LISTENS.name, DAY) / "events.json", lines)
    result = _load(warehouse, landing, 0.0)
    songs = warehouse.execute("SELECT song, source_line FROM raw.listen_events ORDER BY source_line").fetchall()
    assert (result.rows, songs) == (2, [(song, 1), ("Undo", 2)])
