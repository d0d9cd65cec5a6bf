"""Reliability, through Dagster on real DuckDB files: re-runs, order, kills, hostile input, schema
drift, injection, secrets. Each test records what it tried and what held (docs/reliability.md).

Table contents are compared as checksums: per table its row count and the sum of a hash of each row
(order-independent), load-time columns (loaded_at, rejected_at) left out.
"""

import bz2
import dataclasses
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from audio_dwh.events.contract import TOPICS
from audio_dwh.events.landing import day_folder, scan_day
from audio_dwh.events.simulator import SIMULATOR_FILE, DaySimulator, SimulatorConfig, write_day
from audio_dwh.orchestration.instance import prepare_home
from audio_dwh.orchestration.jobs import DAILY_JOB
from audio_dwh.orchestration.sensors import SETTLE_SECONDS
from audio_dwh.partitions import range_tags
from audio_dwh.raw.duckdb_loader import load_day
from audio_dwh.resources import build_resources
from audio_dwh.warehouse.sql import quote
from audio_dwh_tests.conftest import DAY, DEFS, LAYERS, comparable_columns, make_settings
from audio_dwh_tests.dbt_helpers import assert_same_as_final, warehouse_tables
from audio_dwh_tests.hostile import BAD_LINES, DOMAIN_LINES, NEW_VALUE_LINES, line
from audio_dwh_tests.test_alerts import SMTP_PASSWORD, WEBHOOK_TOKEN, _failures, _tick, sinks  # noqa: F401
from audio_dwh_tests.test_cli import ROOT, audio_dwh

pytestmark = pytest.mark.slow

LANDING_AND_RAW = [LAYERS.landing, *LAYERS.raw]
EVERYTHING = [*LANDING_AND_RAW, LAYERS.dbt]


def checksums(warehouse: Path, schemas: tuple[str, ...] = ("raw", "staging", "vault", "marts")) -> dict:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            table: _count_and_row_hash_sum(con, table, columns)
            for table, columns in comparable_columns(con, schemas, views=False).items()
        }
    finally:
        con.close()


def _count_and_row_hash_sum(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> tuple:
    quoted = ", ".join(f'"{c}"' for c in columns)
    return con.execute(f"SELECT count(*), coalesce(sum(hash({quoted})::HUGEINT), 0)::VARCHAR FROM {table}").fetchall()[
        0
    ]


def _materialize(settings, assets, first: date, last: date | None = None, selection=None) -> dg.ExecuteInProcessResult:
    last = last or first
    partition = {"partition_key": first.isoformat()} if first == last else {"tags": range_tags(first, last)}
    return dg.materialize(
        assets,
        resources=build_resources(settings),
        instance=dg.DagsterInstance.ephemeral(),
        selection=selection,
        **partition,
    )


def test_rerunning_a_day_three_times_changes_no_table(tmp_path, reliability):
    settings = dataclasses.replace(make_settings(tmp_path), users=300)
    runs = [checksums(settings.warehouse) for _ in range(3) if _materialize(settings, EVERYTHING, DAY).success]
    assert len(runs) == 3
    assert runs[0] == runs[1] == runs[2]
    assert sum(count > 0 for count, _ in runs[0].values()) >= 30, runs[0]  # the comparison compares data
    reliability(
        what="Re-run",
        tried="the same day materialized 3 times through Dagster (landing, raw, dbt)",
        held="every raw, staging, vault and mart table identical after each run (row-hash checksums)",
        runs=3,
        tables_compared=len(runs[0]),
        rows_compared=sum(count for count, _ in runs[0].values()),
    )


def test_ten_days_in_shuffled_order_give_the_vault_and_marts_of_loading_them_in_order(tmp_path, reliability):
    days = [DAY + timedelta(days=i) for i in range(10)]
    in_order = dataclasses.replace(make_settings(tmp_path / "in_order"), users=150)
    shuffled = dataclasses.replace(make_settings(tmp_path / "shuffled"), users=150)
    in_order.home.mkdir()
    shuffled.home.mkdir()
    # In order: the ten days as one range run (a range equals day-by-day in order: test_vault).
    assert _materialize(in_order, EVERYTHING, days[0], days[-1]).success
    # Shuffled: raw for the ten days, then the dbt models day by day in a shuffled order, one run each.
    assert _materialize(shuffled, LANDING_AND_RAW, days[0], days[-1]).success
    order = days[:]
    random.Random(8).shuffle(order)
    assert order != days
    # The models without their tests (dbt run, not build): tests change no data, and save ~3 s a run.
    models_only = dg.AssetSelection.all().without_checks()
    assert all(_materialize(shuffled, [LAYERS.dbt], day, selection=models_only).success for day in order)
    expected = checksums(in_order.warehouse, ("raw", "vault", "marts"))
    assert checksums(shuffled.warehouse, ("raw", "vault", "marts")) == expected
    reliability(
        what="Order",
        tried="10 days loaded in a shuffled order, one dbt run per day: " + ", ".join(d.strftime("%d") for d in order),
        held="raw, vault and marts identical to loading the 10 days in order",
        days=len(days),
        runs=len(order),
        tables_compared=len(expected),
        rows_compared=sum(count for count, _ in expected.values()),
    )


def _hostile_day(landing: Path) -> dict[str, int]:
    """The corpus as landing files for DAY: every bad-line kind among good lines in listen events, a
    file that is not JSON at all, empty files, and no status change events at all (a missing topic)."""
    good = [line(sessionId=1), line(sessionId=2, userId=..., firstName=..., lastName=..., gender=...,
                                   registration=..., extra_field="ignored")]  # fmt: skip
    listens = day_folder(landing, "listen_events", DAY)
    listens.mkdir(parents=True)
    (listens / "events.json").write_bytes(b"\n".join(good[:1] + [b for b, _ in BAD_LINES] + good[1:]) + b"\n")
    (listens / "not-json.json").write_bytes(b"\x1f\x8b\x08\x00 not json at all\n<html><body>503</body></html>\n")
    for topic in ("page_view_events", "auth_events"):
        folder = day_folder(landing, topic, DAY)
        folder.mkdir(parents=True)
        (folder / "empty.json").write_bytes(b"")
    return {"good": len(good), "bad": len(BAD_LINES) + 2}


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    for each in [path, *path.rglob("*")]:
        os.utime(each, (past, past))


def _metadata(result: dg.ExecuteInProcessResult, key: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_hostile_files_through_dagster_every_bad_line_accounted_every_good_line_loaded(tmp_path, reliability):
    home = tmp_path / "home"
    settings = dataclasses.replace(make_settings(home), source="files", reject_threshold=1.0)
    counts = _hostile_day(settings.landing)
    result = _materialize(settings, LANDING_AND_RAW, DAY)
    assert result.success
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    rejected = con.execute(
        "SELECT source_file, line_number, reason FROM raw.rejected_events ORDER BY source_file, line_number"
    ).fetchall()
    loaded = con.execute("SELECT count(*) FROM raw.listen_events").fetchall()[0][0]
    others = ("page_view_events", "auth_events", "status_change_events")
    empty = [con.execute(f"SELECT count(*) FROM raw.{t}").fetchall()[0][0] for t in others]
    con.close()
    assert loaded == counts["good"] and empty == [0, 0, 0]
    events = [r for r in rejected if r[0].endswith("events.json")]
    assert [n for _, n, _ in events] == list(range(2, 2 + len(BAD_LINES)))
    for (_, number, reason), (_, expected) in zip(events, BAD_LINES, strict=True):
        assert expected in reason, (number, reason, expected)
    not_json = [(n, r) for f, n, r in rejected if f.endswith("not-json.json")]
    assert not_json == [(1, "invalid UTF-8"), (2, "invalid JSON")]  # gzip magic bytes, then HTML
    assert len(rejected) == counts["bad"]
    assert _metadata(result, "landing/eventsim_events")["missing_topics"] == "status_change_events"
    assert _metadata(result, "raw/listen_events")["unknown_fields"] == "extra_field"
    reliability(
        what="Hostile input",
        tried=f"{len(BAD_LINES)} kinds of bad lines (truncated JSON, not JSON, arrays, blank, invalid UTF-8, "
        "missing/null required fields, wrong types, BIGINT overflow, ts outside the day, far-future and "
        "epoch-zero ts, 1 MB strings, duplicates, raw NUL) among good lines, a file that is not JSON at all, "
        "two empty files and a missing topic, through Dagster",
        held="no crash; every bad line rejected with its file, line number and reason; every good line loaded",
        kinds=len(BAD_LINES) + 3,
        bad_lines_rejected=len(rejected),
        good_lines_loaded=loaded,
    )


def test_values_outside_their_domain_are_rejected_and_every_day_still_builds(tmp_path, reliability):
    """The issue's trial: valid JSON of the contract's types holding values no real event can (NaN,
    Infinity, 1e300, a registration of 9e18, lat 1e308, ...) among a real day, and the day after."""
    settings = dataclasses.replace(make_settings(tmp_path / "home"), source="files")
    days = [DAY, DAY + timedelta(days=1)]
    for day in days:
        write_day(DaySimulator(SimulatorConfig(seed=4, users=5000)), day, settings.landing)
    for topic in ("listen_events", "page_view_events"):
        extra = [text for t, text, _ in DOMAIN_LINES if t == topic] + [
            text for t, text in NEW_VALUE_LINES if t == topic
        ]
        (day_folder(settings.landing, topic, DAY) / "late-producer.json").write_bytes(b"\n".join(extra) + b"\n")
    result = _materialize(settings, EVERYTHING, days[0], days[-1])
    assert result.success
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    rejected = con.execute("SELECT topic, reason FROM raw.rejected_events ORDER BY topic, line_number").fetchall()
    loaded = con.execute("SELECT count(*) FROM raw.listen_events WHERE partition_date = ?", [DAY]).fetchall()[0][0]
    built = con.execute("SELECT count(DISTINCT play_start_date) FROM marts.mart_song_play").fetchall()[0][0]
    premium = con.execute("SELECT count(*) FROM staging.stg_listen_events WHERE level = 'premium'").fetchall()[0][0]
    con.close()
    assert sorted(rejected) == sorted((topic, reason) for topic, _, reason in DOMAIN_LINES)
    simulated = len((day_folder(settings.landing, "listen_events", DAY) / SIMULATOR_FILE).read_text().splitlines())
    new_listens = sum(t == "listen_events" for t, _ in NEW_VALUE_LINES)
    assert loaded == simulated + new_listens and built == 2 and premium == 1
    warnings = {(e.asset_key.path[1], e.partition) for e in result.get_asset_check_evaluations()
                if e.check_name == "new_categorical_values" and not e.passed}  # fmt: skip
    assert warnings == {("listen_events", str(DAY)), ("page_view_events", str(DAY))}
    reliability(
        what="Value domains",
        tried=f"{len(DOMAIN_LINES)} kinds of values no real event holds, valid JSON of the contract's types (NaN, "
        "Infinity, -Infinity, 1e400, 1e300 and 0 and negative durations, a registration of 9e18 and one after the "
        "event, lat 1e308, lon past 180, negative ids, HTTP status 700 and 99, a method FETCH or get, blank song, "
        "level and page), and 4 new categorical values (a premium level, a Suspended auth, a Podcast page, gender X), "
        "in a real day of 5,000 users, then the day after, through Dagster with the default 1% threshold",
        held="each bad value rejected naming its field and rule; every good line loaded, the new values loaded and "
        "counted by the warning check; both days built through staging, vault and marts",
        kinds=len(DOMAIN_LINES),
        lines_rejected=len(rejected),
        good_lines_loaded=loaded,
        new_values_loaded=len(NEW_VALUE_LINES),
        days_built=built,
    )


def test_the_loader_reads_only_what_a_producer_meant_to_land(tmp_path, reliability):
    settings = dataclasses.replace(make_settings(tmp_path / "home"), source="files", reject_threshold=0.05)
    write_day(DaySimulator(SimulatorConfig(seed=6, users=300)), DAY, settings.landing)
    folder = day_folder(settings.landing, "listen_events", DAY)
    real = (folder / SIMULATOR_FILE).read_bytes()
    extra = [line(sessionId=900 + i) for i in range(3)]
    skipped = {".eventsim.json.Xy12Ab": real, "eventsim.json.tmp": real, "eventsim.json.bak": real,
               "eventsim.json~": real, "README.txt": b"what this folder is\n"}  # fmt: skip
    for name, data in skipped.items():  # copies of the real file: read, each would reject its lines as duplicates
        (folder / name).write_bytes(data)
    (folder / "more.json.gz").write_bytes(gzip.compress(extra[0] + b"\n"))
    (folder / "more.json.bz2").write_bytes(bz2.compress(extra[1] + b"\n"))
    (folder / "cut.json.gz").write_bytes(gzip.compress(extra[2] + b"\n")[:20])  # a copy cut short
    outside = tmp_path / "producer" / "linked.json"
    outside.parent.mkdir()
    outside.write_bytes(line(sessionId=950) + b"\n")
    (folder / "linked.json").symlink_to(outside)
    result = _materialize(settings, LANDING_AND_RAW, DAY)
    assert result.success
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    rejected = con.execute("SELECT source_file, line_number, reason FROM raw.rejected_events ORDER BY 1").fetchall()
    files = dict(con.execute("SELECT source_file, count(*) FROM raw.listen_events GROUP BY 1").fetchall())
    con.close()
    prefix = f"listen_events/date={DAY}/"
    assert files == {prefix + SIMULATOR_FILE: len(real.splitlines()), prefix + "more.json.gz": 1,
                     prefix + "linked.json": 1}  # fmt: skip
    assert [(f, n) for f, n, _ in rejected] == [(prefix + "cut.json.gz", None), (prefix + "more.json.bz2", None)]
    assert "Unexpected end of GZIP stream" in rejected[0][2] and "bzip2, which the loader cannot read" in rejected[1][2]
    listed = _metadata(result, "landing/eventsim_events")["skipped_files"]
    assert all(prefix + name in listed for name in skipped)
    reliability(
        what="Landing hygiene",
        tried="a day folder holding, beside the real file, an rsync partial copy (.eventsim.json.Xy12Ab), .tmp, .bak "
        "and ~ copies of it, a README, a gzip file, a bzip2 file, a gzip file cut short and a symlink to a file "
        "outside the landing folder, through Dagster",
        held="the copies and the README skipped and listed (no line of the real file rejected as their duplicate); "
        "the gzip and linked files loaded, the link under its own name; the bzip2 and the cut file one rejected "
        "entry each, with the reason",
        files_in_the_folder=len(skipped) + 5,
        skipped=len(skipped),
        files_rejected=len(rejected),
        lines_loaded=sum(files.values()),
    )


def _raw_rows(warehouse: Path, day: date) -> dict[str, tuple]:
    """Each raw table's day (and its rejected lines) as a checksum, load times left out."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = comparable_columns(con, ("raw",), views=False)
        return {
            table: con.execute(
                f"SELECT count(*), coalesce(sum(hash({', '.join(quote(c) for c in columns)})::HUGEINT), 0)::VARCHAR "
                f"FROM {table} WHERE partition_date = ?",
                [day],
            ).fetchall()[0]
            for table, columns in tables.items()
        }
    finally:
        con.close()


def _clean_load(tmp: Path, landing: Path, day: date) -> dict[str, tuple]:
    """What loading the day's files as they are now into an empty warehouse gives."""
    warehouse = tmp / f"clean-{time.monotonic_ns()}.duckdb"
    con = duckdb.connect(str(warehouse))
    for name, topic in TOPICS.items():
        load_day(con, topic, day, scan_day(landing, name, day), landing, reject_threshold=1.0)
    con.close()
    return _raw_rows(warehouse, day)


def test_late_and_partial_days_are_loaded_by_the_landing_sensor_and_nothing_is_lost(tmp_path, monkeypatch, reliability):
    """The landing sensor ticking against the home's own instance, each run it asks for executed on that
    instance as the daemon would; after every run the day's raw tables equal a clean load of its files."""
    settings = dataclasses.replace(make_settings(tmp_path / "home"), source="files")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))  # prepare_home sets it; restored after
    prepare_home(settings)
    landing = settings.landing
    simulator = DaySimulator(SimulatorConfig(users=150))
    days = [DAY + timedelta(days=i) for i in range(4)]
    day1, day2, day3, day4 = (d.isoformat() for d in days)
    for day in days:
        write_day(simulator, day, landing)
    shutil.rmtree(day_folder(landing, "status_change_events", days[1]))  # a real day without status changes
    (landing / "listen_events" / "date=not-a-day").mkdir()  # foreign folders are ignored
    _age(landing, SETTLE_SECONDS + 5)
    copying = day_folder(landing, "auth_events", days[0]) / ".eventsim.json.x1y2"
    copying.write_text("{")  # rsync's copy in progress: the day waits for it
    os.utime(day_folder(landing, "page_view_events", days[2]) / SIMULATOR_FILE)  # still being written
    resources = build_resources(settings)
    job = dg.Definitions(assets=LANDING_AND_RAW, jobs=[dg.define_asset_job(DAILY_JOB)], resources=resources)
    job = job.resolve_job_def(DAILY_JOB)
    sensor_resources = {"event_source": resources["event_source"], "gcs": resources["gcs"]}
    run_keys, lost = [], 0

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:

        def tick(cursor: str | None) -> tuple[list[str], str]:
            nonlocal lost
            with dg.build_sensor_context(instance=instance, cursor=cursor, resources=sensor_resources) as context:
                result = DEFS.resolve_sensor_def("landing_sensor")(context)
            for request in result.run_requests:
                run = job.execute_in_process(partition_key=request.partition_key, instance=instance, tags=request.tags)
                assert run.success
                run_keys.append(request.run_key)
                day = date.fromisoformat(request.partition_key)
                expected = _clean_load(tmp_path, landing, day)
                lost += sum(count for count, _ in expected.values()) - sum(
                    c for c, _ in _raw_rows(settings.warehouse, day).values()
                )
                assert _raw_rows(settings.warehouse, day) == expected
            return [r.partition_key for r in result.run_requests], result.cursor

        launched, cursor = tick(None)
        assert launched == [day2, day4]  # day 2 has no status change at all: loaded, its day long over
        copying.unlink()
        assert tick(cursor)[0] == [day1]
        assert tick(cursor)[0] == []  # never twice
        assert tick(None)[0] == []  # a new cursor: the instance knows these very files were loaded
        original = _raw_rows(settings.warehouse, days[0])

        late = day_folder(landing, "listen_events", days[0]) / "late.json"
        first = json.loads(simulator.simulate(days[0])["listen_events"][0])
        late.write_text(json.dumps({**first, "sessionId": 10**9}) + "\n")
        _age(late, SETTLE_SECONDS + 5)
        launched, cursor = tick(cursor)
        assert launched == [day1]  # a file landed late: the day again, once
        assert tick(cursor)[0] == []
        assert _raw_rows(settings.warehouse, days[0])["raw.listen_events"][0] == original["raw.listen_events"][0] + 1
        late.unlink()  # a file removed: the day again, back to exactly what it was
        launched, cursor = tick(cursor)
        assert launched == [day1] and _raw_rows(settings.warehouse, days[0]) == original
        resent = day_folder(landing, "auth_events", days[1]) / SIMULATOR_FILE
        resent.write_bytes(resent.read_bytes())  # the producer sends the file again
        _age(resent, SETTLE_SECONDS + 5)
        assert tick(cursor)[0] == [day2]
        _age(day_folder(landing, "page_view_events", days[2]), SETTLE_SECONDS + 5)
        launched, cursor = tick(cursor)
        assert launched == [day3]  # settled now
    assert len(set(run_keys)) == len(run_keys) == 7 and lost == 0
    assert sorted(json.loads(cursor)) == [day1, day2, day3, day4]
    reliability(
        what="Late and partial days",
        tried="the landing sensor ticking against the home's instance over 4 days: one without status changes, "
        "one waiting on an rsync copy in progress, one still being written; then a file landed late, the same "
        "file removed, a file re-sent; each run the sensor asked for executed on that instance",
        held="every day launched once per state of its files and never again for the same files, also with a new "
        "cursor; each run left the day's raw tables equal to a clean load of its files",
        days=len(days),
        files_landed_late=1,
        files_removed=1,
        files_resent=1,
        runs=len(run_keys),
        days_reloaded=3,
        rows_lost=lost,
    )


def test_schema_drift_extra_field_reported_missing_optional_field_null(tmp_path, reliability):
    settings = dataclasses.replace(make_settings(tmp_path), source="files")
    listens = day_folder(settings.landing, "listen_events", DAY)
    listens.mkdir(parents=True)
    drifted = [line(sessionId=1, mood="happy", bitrate_kbps=320), line(sessionId=2, firstName=..., gender=...)]
    (listens / "events.json").write_bytes(b"\n".join(drifted) + b"\n")
    result = _materialize(settings, LANDING_AND_RAW, DAY)
    assert result.success
    assert _metadata(result, "raw/listen_events")["unknown_fields"] == "bitrate_kbps, mood"
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    rows = con.execute('SELECT "sessionId", "firstName", gender FROM raw.listen_events ORDER BY 1').fetchall()
    rejected = con.execute("SELECT count(*) FROM raw.rejected_events").fetchall()[0][0]
    con.close()
    assert rows == [(1, "Ann", "F"), (2, None, None)] and rejected == 0
    reliability(
        what="Schema drift",
        tried="lines with two fields the contract does not know, and a line without two optional fields",
        held="extra fields ignored and reported (materialization metadata and a warning); missing optional "
        "fields loaded as NULL; nothing rejected",
        unknown_fields_reported=2,
        lines_loaded=len(rows),
    )


NASTY = "'; drop table x; --"


def test_injection_is_refused_before_sql_or_lands_as_data(tmp_path, reliability):
    settings = dataclasses.replace(make_settings(tmp_path / "home"), source="files")
    refused = 0
    for key in ["2026-11-2", f"2026-11-02{NASTY}"]:
        with pytest.raises(Exception, match="YYYY-MM-DD|partition"):
            dg.materialize(LANDING_AND_RAW, partition_key=key, resources=build_resources(settings),
                           instance=dg.DagsterInstance.ephemeral())  # fmt: skip
        refused += 1
    assert not settings.warehouse.exists(), "no SQL may run for a refused partition key"
    cli_home = tmp_path / "cli"
    done = audio_dwh(cli_home, "run", "--start", f"2026-11-02{NASTY}")
    assert done.returncode == 2 and "YYYY-MM-DD" in done.stderr, done.stderr
    assert not (cli_home / "warehouse.duckdb").exists()
    refused += 1
    window = {"AUDIO_DWH_HOME": str(tmp_path), "AUDIO_DWH_MIN_DATE": f"2026-11-02{NASTY}"}
    dbt = subprocess.run([str(Path(sys.executable).with_name("dbt")), "compile", "--select", "stg_listen_events"],
                         capture_output=True, text=True, cwd=ROOT / "dbt_project", timeout=300,
                         env={**os.environ, **window})  # fmt: skip
    assert dbt.returncode != 0 and "must be YYYY-MM-DD" in dbt.stdout, dbt.stdout[-2000:]
    refused += 1
    # Text fields and even a field *name* full of SQL: data, and a reported unknown field.
    strings = {f: NASTY for f in ("artist", "song", "auth", "city", "zip", "state", "userAgent", "lastName",
                                  "firstName", "gender")}  # fmt: skip
    listens = day_folder(settings.landing, "listen_events", DAY)
    listens.mkdir(parents=True)
    nasty = json.loads(line(**strings))
    nasty[f'"{NASTY}'] = 1
    (listens / "events.json").write_text(json.dumps(nasty) + "\n")
    result = _materialize(dataclasses.replace(settings, reject_threshold=1.0), LANDING_AND_RAW, DAY)
    assert result.success
    assert _metadata(result, "raw/listen_events")["unknown_fields"] == f'"{NASTY}'
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    columns = ", ".join(f'"{name}"' for name in strings)
    stored = con.execute(f"SELECT {columns} FROM raw.listen_events").fetchall()
    tables = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()[0][0]
    con.close()
    assert stored == [tuple(NASTY for _ in strings)] and tables == 5
    reliability(
        what="Injection",
        tried=f"partition keys and CLI/dbt dates other than YYYY-MM-DD (e.g. `2026-11-02{NASTY}`); the same text "
        "in every string field of an event and as a field name",
        held="dates refused before any SQL ran (no warehouse file created); the text stored as data, the "
        "field name reported as unknown; every table still there",
        dates_refused=refused,
        fields_with_sql_text_stored=len(strings),
    )


def test_secrets_never_reach_logs_run_metadata_or_alerts(settings, sinks, capfd, monkeypatch, reliability):  # noqa: F811
    key_path = "/run/secrets/bq-key-7f3c1d.json"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", key_path)
    receiver, mailbox = sinks
    with dg.instance_for_test() as instance:
        _failures(settings, instance)
        _tick(instance, None)
        records = [str(entry) for run in instance.get_runs() for entry in instance.all_logs(run.run_id)]
        runs = [json.dumps({"tags": run.tags, "config": run.run_config}, default=str) for run in instance.get_runs()]
        stored = [p.read_text(errors="replace") for p in Path(instance.root_directory).rglob("*") if p.is_file()
                  and p.suffix in (".log", ".out", ".err", ".txt", ".json")]  # fmt: skip
    output = "".join(capfd.readouterr())
    # The token is in the URL the receiver was called at, by design; payloads and mails must not carry it.
    alerts = json.dumps([body for _, body in receiver.received]) + "".join(mailbox.messages)
    assert receiver.received and mailbox.messages, "alerts were sent"
    everything = "".join(records + runs + stored) + output + alerts
    for secret in (key_path, WEBHOOK_TOKEN, SMTP_PASSWORD):
        assert secret not in everything
    reliability(
        what="Secrets",
        tried="a BigQuery key path, an SMTP password and a webhook token in the environment during failing runs "
        "that send alerts to a real HTTP receiver and a real SMTP server",
        held="none of the three appears in the event log, run tags/config, stored logs, console output, "
        "webhook payloads or mails",
        event_records_scanned=len(records),
        alerts_scanned=len(receiver.received) + len(mailbox.messages),
    )


def _serving_copy(home: Path) -> dict[str, list[tuple]]:
    """Every mart of the serving copy's current version, as sorted rows: what the dashboard reads."""
    current = home / "serving" / "current"
    con = duckdb.connect()
    try:
        return {
            mart.name: sorted(con.execute(f"SELECT * FROM read_parquet('{mart}/*.parquet')").fetchall(), key=repr)
            for mart in sorted(current.iterdir())
        }
    finally:
        con.close()


def _listens(path: Path) -> list[dict]:
    return [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]


def _write_lines(path: Path, events: list[dict]) -> None:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")


def test_a_day_sent_again_corrected_is_replaced_exactly_and_a_cut_file_fails_it(tmp_path, reliability):
    """As the source sends it, with `audio-dwh run --source files`: a day loaded, then its listens sent
    again with a song corrected (same identity), two plays of one user and session in one millisecond,
    events taken back, and names written the ways sources write them; the run succeeds and the home
    equals one that only saw the final files (raw, vault but what shared hubs keep, business vault,
    marts, serving copy). Then a truncated gzip of half the listens fails the day, naming the file and
    how to go on, and the day stays as it was; then the listens removed: no mart counts them."""
    day = DAY.isoformat()
    run = ("run", "--source", "files", "--start", day, "--end", day)
    sent_again, final_only = tmp_path / "sent_again", tmp_path / "final_only"
    write_day(DaySimulator(SimulatorConfig(users=300)), DAY, sent_again / "landing")
    first = audio_dwh(sent_again, *run)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]

    listen_file = day_folder(sent_again / "landing", "listen_events", DAY) / SIMULATOR_FILE
    views_file = day_folder(sent_again / "landing", "page_view_events", DAY) / SIMULATOR_FILE
    listens, views = _listens(listen_file), _listens(views_file)
    users = [e for e in listens if e.get("userId")]
    corrected = {**users[0], "song": users[0]["song"] + " (Remastered)"}  # same identity, corrected song
    taken_back = {(e["sessionId"], e["itemInSession"], e["ts"]) for e in users[1:6]}
    one_millisecond = [
        {**users[6], "itemInSession": 9_000, "song": "Crazy in Love", "artist": "Beyonce\u0301"},  # NFD
        {**users[6], "itemInSession": 9_001, "song": "Yellow", "artist": "  Coldplay\t"},
    ]
    names = [
        {**users[7], "itemInSession": 9_002, "song": "Halo", "artist": "Beyonc\u00e9"},  # NFC
        {**users[7], "itemInSession": 9_003, "song": "Yellow", "artist": "Coldplay", "firstName": "\u200b"},
        {**users[7], "itemInSession": 9_004, "song": "\u200b\t", "artist": "Coldplay"},  # blank: rejected
        {**users[7], "itemInSession": 9_005, "song": "Umbrella", "artist": "\u0000Rihanna"},  # a NUL is invisible
    ]
    kept = [corrected if e is users[0] else e for e in listens if (e["sessionId"], e["itemInSession"], e["ts"])
            not in taken_back]  # fmt: skip
    _write_lines(listen_file, kept + one_millisecond + names)
    _write_lines(views_file, [e for e in views if (e["sessionId"], e["itemInSession"], e["ts"]) not in taken_back])
    again = audio_dwh(sent_again, *run)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]

    shutil.copytree(sent_again / "landing", final_only / "landing")
    only = audio_dwh(final_only, *run)
    assert only.returncode == 0, only.stdout[-3000:] + only.stderr[-3000:]
    homes = {
        home: warehouse_tables(home / "warehouse.duckdb", with_raw=True, first_seen=False)
        for home in (sent_again, final_only)
    }
    assert_same_as_final(homes[final_only], homes[sent_again])
    assert _serving_copy(sent_again) == _serving_copy(final_only)
    con = duckdb.connect(str(sent_again / "warehouse.duckdb"), read_only=True)
    plays, first_names, rejected = (
        con.execute(sql).fetchall()
        for sql in (
            f"SELECT count(*) FROM marts.mart_song_play WHERE play_start_date = '{day}'",
            f"SELECT count(*) FROM staging.stg_listen_events WHERE user_id = {users[7]['userId']} "
            "AND first_name IS NULL AND item_in_session = 9003",
            "SELECT reason FROM raw.rejected_events",
        )
    )
    written = ["Beyonc\u00e9", "Beyonce\u0301", "Coldplay", "  Coldplay\t", "Coldplay\t", "Rihanna"]
    artists = con.execute(
        "SELECT artist_name FROM vault.hub_artist WHERE list_contains(?, artist_name) ORDER BY 1", [written]
    ).fetchall()
    con.close()
    assert plays == [(len(kept) + len(one_millisecond) + len(names) - 1,)]  # every play once; the blank song out
    assert artists == [("Beyonc\u00e9",), ("Coldplay",), ("Rihanna",)]  # NFD and NFC, tab and spaces, a NUL: one each
    assert first_names == [(1,)] and rejected == [("song: blank (required)",)]
    tables = checksums(sent_again / "warehouse.duckdb")

    whole = listen_file.read_bytes()
    listen_file.unlink()
    cut = listen_file.with_name("eventsim.json.gz")
    packed = gzip.compress(whole)
    cut.write_bytes(packed[: len(packed) // 2])  # half a day of listens, cut in transit
    failed = audio_dwh(sent_again, *run)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output[-3000:]
    assert f"listen_events/date={day}/eventsim.json.gz (not read, " in output and "lines lost)" in output
    assert "The day was left as it was" in output and "AUDIO_DWH_REJECT_THRESHOLD" in output
    assert checksums(sent_again / "warehouse.duckdb") == tables  # nothing of the good day lost

    cut.unlink()  # the listens taken back: an empty topic folder is "nothing today"
    removed = audio_dwh(sent_again, *run)
    assert removed.returncode == 0, removed.stdout[-3000:] + removed.stderr[-3000:]
    con = duckdb.connect(str(sent_again / "warehouse.duckdb"), read_only=True)
    left = [
        con.execute(f"SELECT count(*) FROM {table} WHERE {column} = '{day}'").fetchall()[0][0]
        for table, column in (
            ("vault.hub_song_play", "load_date"),
            ("vault.link_song_play_context", "load_date"),
            ("business_vault.bridge_song_play", "cast(play_start_ts as date)"),
            ("marts.mart_song_play", "play_start_date"),
            ("marts.mart_artist_daily", "play_date"),
        )
    ]
    kpis = con.execute(f"SELECT listens FROM marts.mart_daily_kpis WHERE activity_date = '{day}'").fetchall()
    con.close()
    assert left == [0] * 5 and kpis == [(0,)]
    reliability(
        what="A day sent again",
        tried="through `audio-dwh run --source files` (300 users a day): a day loaded, then its listens and page "
        "views sent again with a song corrected under the same identity, 5 events taken back, two plays of one "
        "user and session in one millisecond, artists written NFD and NFC, with a tab and spaces, a zero-width "
        "first name, a NUL before an artist and a blank song; beside it a home that only saw the final files; "
        "then the listens as a gzip cut in half; then the listens removed",
        held="the run succeeded and the home equals the final-only home (raw, every vault table of events or "
        "their states, business vault, marts, serving copy; shared hubs hold what they saw besides); every play "
        "once, each artist once; the cut file failed the day naming it and its lost lines, the day unchanged; the "
        "removed listens counted by no table of plays",
        kinds_tried=7,
        days_replaced_exactly=2,
        tables_compared=len(homes[final_only]),
        rows_compared=sum(len(rows) for rows in homes[final_only].values()),
        rows_lost=0,
    )
