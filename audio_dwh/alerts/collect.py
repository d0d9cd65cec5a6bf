"""Failures of finished runs, as alerts: failed asset checks (freshness checks included) and failed runs.

Walks runs rather than the whole event log, so it works on every event-log storage (the default
SQLite one is sharded per run). The caller keeps the runs already read (see sensor.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
from dagster._core.events import DagsterEventType

from audio_dwh.alerts.alert import Alert
from audio_dwh.alerts.errors import root_error

MAX_REASON = 600
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]


def _metadata_text(metadata) -> str:
    parts = [f"{key}: {getattr(value, 'value', value)}" for key, value in (metadata or {}).items()]
    return "; ".join(str(p) for p in parts)[:MAX_REASON]


def _first_step_error(instance: dg.DagsterInstance, run_id: str) -> str:
    for record in instance.get_records_for_run(run_id, of_type=DagsterEventType.STEP_FAILURE).records:
        data = record.event_log_entry.dagster_event.step_failure_data
        if data is not None and data.error is not None:
            error = root_error(data.error)
            return f"{record.event_log_entry.step_key}: {error.cls_name}: {error.message.strip()}"[:MAX_REASON]
    return ""


def finished_runs(instance: dg.DagsterInstance, updated_after: float) -> list[dg.DagsterRun]:
    filters = dg.RunsFilter(statuses=FINISHED, updated_after=datetime.fromtimestamp(updated_after, tz=UTC))
    return sorted(instance.get_runs(filters=filters), key=lambda r: r.run_id)


def alerts_for_run(instance: dg.DagsterInstance, run: dg.DagsterRun, ui_base_url: str) -> list[Alert]:
    run_url = f"{ui_base_url}/runs/{run.run_id}"
    alerts = []
    for record in instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        asset = evaluation.asset_key.to_user_string()
        severity = evaluation.severity.value
        partition = evaluation.partition or run.tags.get("dagster/partition")
        alerts.append(Alert(
            id=f"{run.run_id}:{asset}:{evaluation.check_name}:{partition or ''}",
            kind="freshness" if "freshness" in evaluation.check_name else "asset_check",
            title=f"[{severity}] check {evaluation.check_name} failed on {asset}"
            + (f" ({partition})" if partition else ""),
            asset=asset, partition=partition, check=evaluation.check_name, severity=severity,
            reason=evaluation.description or _metadata_text(evaluation.metadata) or "check failed",
            run_id=run.run_id, run_url=run_url,
        ))  # fmt: skip
    if run.status == dg.DagsterRunStatus.FAILURE:
        partition = run.tags.get("dagster/partition")
        alerts.append(Alert(
            id=f"{run.run_id}:run", kind="run_failure",
            title=f"[ERROR] run of {run.job_name} failed" + (f" ({partition})" if partition else ""),
            asset=None, partition=partition, check=None, severity="ERROR",
            reason=_first_step_error(instance, run.run_id) or "run failed",
            run_id=run.run_id, run_url=run_url,
        ))  # fmt: skip
    return alerts
