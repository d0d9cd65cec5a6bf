"""What storing a run's events costs: the home's event log (audio_dwh/orchestration/event_log.py)
against Dagster's own SQLite event log, in one process, best of the repeats.

Two shapes a run sends: its planned materializations and checks as one batch (before its first step),
and events one at a time (every step's materializations, check results and logs).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable

import dagster as dg
from dagster._core.events import AssetMaterializationPlannedData, DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from audio_dwh.orchestration.event_log import BatchingSqliteEventLogStorage

PLANNED_EVENTS = 156  # a daily run's planned materializations and checks
SINGLE_EVENTS = 100


def planned_events(run_id: str, count: int) -> list[EventLogEntry]:
    """A run's planned materializations, as Dagster reports them before its first step."""
    return [
        EventLogEntry(
            error_info=None,
            level=10,
            user_message="",
            run_id=run_id,
            timestamp=time.time(),
            job_name="daily_job",
            dagster_event=dg.DagsterEvent(
                event_type_value=DagsterEventType.ASSET_MATERIALIZATION_PLANNED.value,
                job_name="daily_job",
                event_specific_data=AssetMaterializationPlannedData(dg.AssetKey(["vault", f"model_{n}"])),
            ),
        )
        for n in range(count)
    ]


def _seconds(make: Callable[[str], SqliteEventLogStorage], store: Callable, count: int, repeats: int) -> float:
    """Best of `repeats`: storing `count` events of a run whose file exists, on a fresh storage."""
    best = float("inf")
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            storage = make(folder)
            storage.store_event(planned_events("run", 1)[0])  # the run's file and the index made
            events = planned_events("run", count)
            start = time.perf_counter()
            store(storage, events)
            best = min(best, time.perf_counter() - start)
            storage.dispose()
    return best


def measure(repeats: int) -> dict:
    def batch(storage: SqliteEventLogStorage, events: list[EventLogEntry]) -> None:
        storage.store_event_batch(events)

    def one_by_one(storage: SqliteEventLogStorage, events: list[EventLogEntry]) -> None:
        for event in events:
            storage.store_event(event)

    ours, dagsters = BatchingSqliteEventLogStorage, SqliteEventLogStorage
    planned = {kind: _seconds(kind, batch, PLANNED_EVENTS, repeats) for kind in (ours, dagsters)}
    single = {kind: _seconds(kind, one_by_one, SINGLE_EVENTS, repeats) / SINGLE_EVENTS for kind in (ours, dagsters)}
    return {
        "planned_events": PLANNED_EVENTS,
        "planned_events_store_seconds": round(planned[ours], 3),
        "planned_events_store_seconds_dagster": round(planned[dagsters], 3),
        "planned_events_dagster_over_ours": round(planned[dagsters] / planned[ours], 1),
        "single_event_store_ms": round(single[ours] * 1000, 2),
        "single_event_store_ms_dagster": round(single[dagsters] * 1000, 2),
    }


if __name__ == "__main__":
    print(measure(3))
