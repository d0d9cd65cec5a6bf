"""The schedule, the landing sensor and freshness, evaluated for real against Dagster's APIs; the stop
of `make dev` held to its deadline."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from audio_dwh.events.contract import TOPICS
from audio_dwh.events.resources import EventSourceResource
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, write_day
from audio_dwh.orchestration.dev import STOP_GRACE_SECONDS
from audio_dwh.orchestration.schedules import build_daily_schedule
from audio_dwh.orchestration.sensors import SETTLE_SECONDS
from audio_dwh.quality.freshness import MART_KEYS, RAW_KEYS, daily_freshness_policy
from audio_dwh.resources import build_resources
from audio_dwh.warehouse.resources import LazyGCSResource
from audio_dwh_tests.conftest import DEFS, LAYERS
from audio_dwh_tests.dagster_ui import STOP_SECONDS, live_in_group


def test_the_schedule_runs_yesterday_at_the_configured_hour():
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 5, 2, tzinfo=UTC), repository_def=DEFS.get_repository_def()
    )
    schedule = DEFS.resolve_schedule_def("daily_schedule")
    request = schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == "2026-11-04" and request.run_key == "schedule-2026-11-04"
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "UTC"
    assert build_daily_schedule(7).cron_schedule == "0 7 * * *"
    assert schedule.job_name == "daily_job"


def _age(folder, seconds: float) -> None:
    past = time.time() - seconds
    for path in folder.rglob("*"):
        os.utime(path, (past, past))


def test_the_sensor_of_the_first_version_keeps_its_launched_days_without_running_them_again(tmp_path):
    landing = tmp_path / "landing"
    write_day(DaySimulator(SimulatorConfig(users=50)), date(2026, 11, 2), landing)
    _age(landing, SETTLE_SECONDS + 5)
    resources = {"event_source": EventSourceResource(landing=str(landing), source="files"),
                 "gcs": LazyGCSResource(project="unused-without-a-bucket")}  # fmt: skip
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(instance=instance, cursor='["2026-11-02"]', resources=resources)
        result = DEFS.resolve_sensor_def("landing_sensor")(context)
    assert result.run_requests == [] and list(json.loads(result.cursor)) == ["2026-11-02"]


def test_raw_tables_and_marts_carry_a_freshness_policy_and_a_freshness_check():
    graph = DEFS.resolve_asset_graph()
    for key in RAW_KEYS + MART_KEYS:
        assert graph.get(key).freshness_policy == daily_freshness_policy(6), key
    assert daily_freshness_policy(6).fail_window.to_timedelta() == timedelta(hours=30)
    checked = {k.asset_key for checks in DEFS.asset_checks for k in checks.check_keys}
    assert set(RAW_KEYS + MART_KEYS) <= checked
    assert {s.name for s in DEFS.sensors} >= {"freshness_checks_sensor", "alert_sensor", "landing_sensor"}


def test_a_late_day_fails_its_freshness_check(settings):
    """Only an old day materialized, yesterday's past its deadline: every freshness check fails."""
    raw_freshness = [c for c in DEFS.asset_checks if any(k.asset_key in RAW_KEYS for k in c.check_keys)]
    result = dg.materialize(
        [LAYERS.landing, *LAYERS.raw, *raw_freshness],
        partition_key="2026-11-02",
        resources=build_resources(settings),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    evaluations = [e for e in result.get_asset_check_evaluations() if "freshness" in e.check_name]
    assert {e.asset_key for e in evaluations} == set(RAW_KEYS)
    assert not any(e.passed for e in evaluations)
    assert all("freshness" in e.check_name for e in evaluations)
    assert len(TOPICS) == len(evaluations)


STUBBORN = """import signal, subprocess, sys, time
# A code server that outlives its dagster dev: started below it, deaf to Ctrl-C and SIGTERM.
deaf = "[signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)]"
survivor = subprocess.Popen([sys.executable, "-c", f"import signal, time; {deaf}; print(flush=True); time.sleep(600)"],
                            stdout=subprocess.PIPE, text=True)
survivor.stdout.readline()
print(survivor.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("ctrl_c", [False, True], ids=["SIGTERM", "Ctrl-C"])
def test_dev_stops_with_every_process_it_started_even_one_deaf_to_signals(ctrl_c: bool):
    command = [sys.executable, "-c", STUBBORN]
    serve = f"import sys; from audio_dwh.orchestration.dev import serve; sys.exit(serve({command!r}))"
    server = subprocess.Popen(
        [sys.executable, "-c", serve],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as a shell without job control does
    )  # fmt: skip
    survivor = int(server.stdout.readline())
    started = time.monotonic()
    if ctrl_c:
        os.killpg(server.pid, signal.SIGINT)
    else:
        server.terminate()
    assert server.wait(timeout=STOP_SECONDS) == 128 + (signal.SIGINT if ctrl_c else signal.SIGTERM)
    stopped = time.monotonic() - started
    assert STOP_GRACE_SECONDS <= stopped < STOP_SECONDS, stopped  # the deaf one is killed once the grace is over
    assert not live_in_group(server.pid) and not Path(f"/proc/{survivor}").exists()
