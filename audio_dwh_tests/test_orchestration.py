"""The schedule, the landing sensor and freshness, evaluated for real against Dagster's APIs."""

import json
import os
import time
from datetime import UTC, datetime, timedelta

import dagster as dg

from audio_dwh.definitions import defs
from audio_dwh.events.contract import TOPICS
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, day_folder, write_day
from audio_dwh.orchestration.schedules import build_daily_schedule, daily_schedule
from audio_dwh.orchestration.sensors import SETTLE_SECONDS, landing_sensor
from audio_dwh.quality.freshness import FRESHNESS_POLICY, MART_KEYS, RAW_KEYS
from audio_dwh.resources import EventSourceResource, LazyGCSResource


def test_the_schedule_runs_yesterday_at_the_configured_hour():
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 5, 2, tzinfo=UTC), repository_def=defs.get_repository_def()
    )
    request = daily_schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == "2026-11-04" and request.run_key == "schedule-2026-11-04"
    assert daily_schedule.cron_schedule == "0 2 * * *" and daily_schedule.execution_timezone == "UTC"
    assert build_daily_schedule(7).cron_schedule == "0 7 * * *"
    assert daily_schedule.job_name == "daily_job"


def _age(folder, seconds: float) -> None:
    for path in folder.rglob("*.json"):
        past = time.time() - seconds
        os.utime(path, (past, past))


def test_the_landing_sensor_launches_complete_days_once(tmp_path):
    landing = tmp_path / "landing"
    simulator = DaySimulator(SimulatorConfig(users=100))
    for day in ("2026-11-02", "2026-11-03", "2026-11-04"):
        write_day(simulator, datetime.fromisoformat(day).date(), landing)
    for path in day_folder(landing, "auth_events", datetime(2026, 11, 3).date()).glob("*.json"):
        path.unlink()  # a topic still missing
    _age(landing, SETTLE_SECONDS + 5)
    for path in day_folder(landing, "page_view_events", datetime(2026, 11, 4).date()).glob("*.json"):
        os.utime(path)  # still being written
    (landing / "listen_events" / "date=not-a-day").mkdir()  # foreign folders are ignored
    source = EventSourceResource(landing=str(landing), source="files")

    def tick(cursor):
        resources = {"event_source": source, "gcs": LazyGCSResource(project="unused-without-a-bucket")}
        with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
            result = landing_sensor(context)
        return [r.partition_key for r in result.run_requests], result.cursor

    launched, cursor = tick(None)
    assert launched == ["2026-11-02"]
    assert tick(cursor)[0] == []  # never twice
    write_day(simulator, datetime(2026, 11, 3).date(), landing)
    _age(landing, SETTLE_SECONDS + 5)
    launched, cursor = tick(cursor)
    assert launched == ["2026-11-03", "2026-11-04"]
    assert json.loads(cursor) == ["2026-11-02", "2026-11-03", "2026-11-04"]


def test_raw_tables_and_marts_carry_a_freshness_policy_and_a_freshness_check():
    graph = defs.resolve_asset_graph()
    for key in RAW_KEYS + MART_KEYS:
        assert graph.get(key).freshness_policy == FRESHNESS_POLICY, key
    assert FRESHNESS_POLICY.fail_window.to_timedelta() == timedelta(hours=30)
    checked = {k.asset_key for checks in defs.asset_checks for k in checks.check_keys}
    assert set(RAW_KEYS + MART_KEYS) <= checked
    assert {s.name for s in defs.sensors} >= {"freshness_checks_sensor", "alert_sensor", "landing_sensor"}


def test_a_late_day_fails_its_freshness_check(settings):
    """Only an old day materialized, yesterday's past its deadline: every freshness check fails."""
    raw_freshness = [c for c in defs.asset_checks if any(k.asset_key in RAW_KEYS for k in c.check_keys)]
    from audio_dwh.events.assets import eventsim_events
    from audio_dwh.raw.assets import raw_assets
    from audio_dwh.resources import build_resources

    result = dg.materialize(
        [eventsim_events, *raw_assets, *raw_freshness],
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
