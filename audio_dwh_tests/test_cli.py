"""The `audio-dwh` command, run as a user runs it: a real process, a real home folder."""

import gzip
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from audio_dwh.definitions import DAILY_JOB, build_definitions
from audio_dwh.events.classic import sparkify_sample
from audio_dwh.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def audio_dwh(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "AUDIO_DWH_HOME": str(home), **env}
    environment.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "audio_dwh.cli", *args],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_run_materializes_each_day_into_the_shared_instance_and_prints_a_summary(tmp_path):
    done = audio_dwh(tmp_path, "run", "--start", "2026-11-02", "--end", "2026-11-03", "--users", "500")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "2026-11-02: ok" in out and "2026-11-03: ok" in out and "landing 1 asset, raw 4 assets" in out
    assert "raw/listen_events" in out and "checks ok" in out and "All 2 days succeeded" in out
    assert (tmp_path / "dagster" / "dagster.yaml").is_file() and (tmp_path / "landing").is_dir()
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    days = con.execute("SELECT count(DISTINCT partition_date) FROM raw.listen_events").fetchall()
    con.close()
    assert days == [(2,)]
    instance = dg.DagsterInstance.from_config(str(tmp_path / "dagster"))
    runs = instance.get_runs(dg.RunsFilter(job_name="daily_job"))
    assert sorted(r.tags["dagster/partition"] for r in runs) == ["2026-11-02", "2026-11-03"]
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    instance.dispose()

    # dbt failing on the next day: one line says which asset, day and model, dbt's error and the log.
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("ALTER TABLE vault.hub_user ADD COLUMN nickname VARCHAR")
    con.close()
    done = audio_dwh(tmp_path, "run", "--start", "2026-11-04", "--end", "2026-11-04", "--users", "500")
    assert done.returncode == 1
    output = done.stdout + done.stderr
    (failure,) = [line for line in output.splitlines() if "dbt build for" in line]
    assert failure.strip().startswith("dbt_models: dbt build for 2026-11-04 failed: asset vault/hub_user (dbt model "
                                      "vault.hub_user): ")  # fmt: skip
    assert "no longer match its table" in failure and "nickname VARCHAR" in failure
    log = Path(failure.rsplit("Full log: ", 1)[1])
    assert log.name == "dbt.log" and log.is_file()
    assert "Traceback" not in output and "Stack Trace" not in output and output.count("nickname VARCHAR") == 1


def test_dates_are_validated_before_anything_runs(tmp_path):
    for bad in ("2026-13-01", "2026-11-02'; DROP TABLE x; --", "yesterday", "2026-11-2"):
        done = audio_dwh(tmp_path, "run", "--start", bad)
        assert done.returncode == 2, bad
        assert "YYYY-MM-DD" in done.stderr or "not a valid day" in done.stderr
    done = audio_dwh(tmp_path, "run", "--start", "2020-01-01", "--end", "2020-01-01")
    assert done.returncode == 2 and "not a daily partition" in done.stderr
    done = audio_dwh(tmp_path, "run", "--start", "2026-11-05", "--end", "2026-11-04")
    assert done.returncode == 2 and "--end 2026-11-04 is before --start 2026-11-05" in done.stderr
    future = date.today() + timedelta(days=3)
    done = audio_dwh(tmp_path, "run", "--start", str(future), "--end", str(future))
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    assert done.returncode == 2 and f"to {yesterday}, yesterday (UTC)" in done.stderr, done.stderr
    assert not (tmp_path / "warehouse.duckdb").exists()


BAD_SETTINGS = [
    ("AUDIO_DWH_REJECT_THRESHOLD", "abc"), ("AUDIO_DWH_REJECT_THRESHOLD", "nan"), ("AUDIO_DWH_REJECT_THRESHOLD", "-1"),
    ("AUDIO_DWH_REJECT_THRESHOLD", "5"), ("AUDIO_DWH_USERS", "0"), ("AUDIO_DWH_USERS", "1.5"), ("AUDIO_DWH_SEED", "x"),
    ("AUDIO_DWH_SCHEDULE_HOUR", "24"), ("AUDIO_DWH_FRESHNESS_DEADLINE_HOUR", "-1"),
    ("AUDIO_DWH_BQ_MAXIMUM_BYTES_BILLED", "lots"), ("AUDIO_DWH_DUCKDB_MEMORY_LIMIT", "lots"),
]  # fmt: skip


def test_every_numeric_setting_is_checked_where_it_is_read_naming_the_variable(tmp_path, monkeypatch):
    for variable, value in BAD_SETTINGS:
        with monkeypatch.context() as env:
            env.setenv(variable, value)
            with pytest.raises(ValueError, match=f"^{variable} must be .*, got {value!r}$"):
                load_settings()
    monkeypatch.setenv("AUDIO_DWH_SMTP_HOST", "localhost")
    monkeypatch.setenv("AUDIO_DWH_SMTP_PORT", "smtp")
    with pytest.raises(ValueError, match="^AUDIO_DWH_SMTP_PORT must be a TCP port, 1-65535, got 'smtp'$"):
        load_settings()
    done = audio_dwh(tmp_path, "run", AUDIO_DWH_REJECT_THRESHOLD="nan")  # the command: exit 2, before anything runs
    assert done.returncode == 2 and done.stderr.startswith("audio-dwh: AUDIO_DWH_REJECT_THRESHOLD must be a share")
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_run_help_says_what_it_does_where_the_data_goes_and_its_exit_codes(tmp_path):
    done = audio_dwh(tmp_path, "run", "--help")
    assert done.returncode == 0
    for words in ("landing -> raw -> staging -> vault -> marts -> dashboard", "warehouse.duckdb", "Exit codes",
                  "2 bad arguments or settings", "130 / 143"):  # fmt: skip
        assert words in done.stdout, words


def test_dev_says_what_its_port_does_and_refuses_one_that_is_none(tmp_path):
    done = audio_dwh(tmp_path, "dev", "--help")
    assert done.returncode == 0 and "port of the UI on 127.0.0.1" in done.stdout and "alert links" in done.stdout
    done = audio_dwh(tmp_path, "dev", "--port", "70000")
    assert done.returncode == 2 and "from 1 to 65535" in done.stderr


def test_a_failed_day_makes_the_command_fail_with_the_reason(tmp_path):
    bad = tmp_path / "landing" / "listen_events" / "date=2026-11-02" / "bad.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{oops\n")
    done = audio_dwh(tmp_path, "run", "--start", "2026-11-02", "--end", "2026-11-02", "--source", "files")
    assert done.returncode == 1
    assert "FAILED" in done.stdout and "1 of 1 lines rejected" in done.stdout and "bad.json" in done.stdout


def test_generate_writes_the_four_topics_per_day(tmp_path):
    done = audio_dwh(tmp_path, "generate", "--start", "2026-11-02", "--end", "2026-11-03", "--users", "300")
    assert done.returncode == 0, done.stderr
    assert "events/s" in done.stdout
    files = sorted(p.relative_to(tmp_path / "landing").as_posix() for p in (tmp_path / "landing").rglob("*.json"))
    assert len(files) == 8 and "listen_events/date=2026-11-03/eventsim.json" in files


def test_import_classic_then_backfill_from_files_in_one_run(tmp_path, monkeypatch):
    done = audio_dwh(tmp_path, "import-classic", "--sample")
    assert done.returncode == 0, done.stderr
    assert "page_view_events: 8,056 events" in done.stdout and "30 days, 2018-11-01 .. 2018-11-30" in done.stdout
    # The imported days are partitions of the home (AUDIO_DWH_START_DATE left as it is), for
    # `audio-dwh run` as for `make dev`'s code location.
    done = audio_dwh(tmp_path, "run", "--start", "2018-11-14", "--end", "2018-11-16", "--source", "files", "--one-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2018-11-14..2018-11-16: ok" in done.stdout
    assert "warning" not in done.stdout, done.stdout  # days without status changes are empty folders, not missing
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    rows = con.execute("SELECT count(*) FROM raw.page_view_events").fetchall()[0][0]
    days = con.execute("SELECT count(DISTINCT play_start_date) FROM marts.mart_song_play").fetchall()[0][0]
    retention = con.execute("SELECT count(*) FROM marts.mart_retention").fetchall()[0][0]
    con.close()
    wanted = ("2018-11-14", "2018-11-15", "2018-11-16")
    expected = sum(1 for f in sparkify_sample() if f.name.startswith(wanted) for _ in gzip.open(f))
    assert rows == expected and days == 3 and retention > 0
    # Each count says what it counts and is true for it: the days' rows, the table's, files.
    summary = {line.split()[0]: line.split()[1:4] for line in done.stdout.splitlines() if "/" in line[:30]}
    assert summary["raw/page_view_events"][:2] == [f"{expected:,}", f"{expected:,}"], done.stdout
    assert summary["marts/mart_retention"][1] == f"{retention:,}", done.stdout
    landed = len(list((tmp_path / "landing").glob("*/date=2018-11-1[456]/*.json")))
    assert summary["landing/eventsim_events"] == ["-", "-", str(landed)] and landed >= 3, done.stdout
    assert summary["reports/daily_dashboard"] == ["-", "-", "4"], done.stdout  # 3 pages and index.html
    monkeypatch.setenv("AUDIO_DWH_HOME", str(tmp_path))
    monkeypatch.delenv("AUDIO_DWH_START_DATE", raising=False)
    job = build_definitions(load_settings()).resolve_job_def(DAILY_JOB)  # what `make dev` loads on the home
    assert job.partitions_def.get_first_partition_key() == "2018-11-01"
    instance = dg.DagsterInstance.from_config(str(tmp_path / "dagster"))
    (run,) = instance.get_runs(dg.RunsFilter(job_name="daily_job"))
    assert (run.tags["dagster/asset_partition_range_start"], run.tags["dagster/asset_partition_range_end"]) == (
        "2018-11-14",
        "2018-11-16",
    )
    assert instance.get_materialized_partitions(dg.AssetKey(["marts", "mart_song_play"])) >= set(wanted)
    instance.dispose()


def test_missing_classic_file_is_a_clear_error(tmp_path):
    done = audio_dwh(tmp_path, "import-classic", str(tmp_path / "nope.json"))
    assert done.returncode == 2 and "nope.json" in done.stderr
