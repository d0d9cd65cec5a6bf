"""Runs that died: STARTED in the instance while the process that ran them is gone (a SIGKILL, the
out-of-memory killer, a container stop, a power cut). Such a run keeps its place in the "duckdb" pool
for ever, so every later run waits on it: ending it (failed, with the reason) and freeing what it held
lets them go on. Used by the CLI before and while it runs, and by the instance's run launcher, through
which the daemon's run monitoring ends such runs on its own.

A run names its process in its engine events (Dagster's own "pid" metadata), so a run is judged
only on the machine it ran on: the CLI and the launcher tag each run with its host; an untagged run
is judged only on a home's own (SQLite) instance, where every run ran on this machine.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.storage.runs import SqliteRunStorage

# Runs whose process may have died under them.
LIVE_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
HOST_TAG = "audio_dwh/host"
# A process that started this long after the run named it is another process with a recycled id.
PID_REUSE_SLACK_SECONDS = 2.0


def this_host() -> dict[str, str]:
    """The tag that says a run's process runs on this machine."""
    return {HOST_TAG: socket.gethostname()}


def ran_here(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """Whether the run's process ran on this machine, so that its process id means something here."""
    host = run.tags.get(HOST_TAG)
    if host is not None:
        return host == socket.gethostname()
    return isinstance(instance.run_storage, SqliteRunStorage)


def run_process(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The process running the run's steps, as its latest engine event with a pid names it, and
    when it said so (epoch seconds); None before it said."""
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ENGINE_EVENT, ascending=False).records
    for record in records:
        metadata = record.event_log_entry.dagster_event.engine_event_data.metadata
        if "pid" in metadata:
            return int(metadata["pid"].value), record.event_log_entry.timestamp
    return None


def process_gone(pid: int, named_at: float) -> bool:
    """Whether process pid is gone since it was named: ended, a zombie, or its id reused by a newer one."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        boot = next(
            float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
    except (OSError, StopIteration):
        return not _exists(pid)  # no /proc: whether the id exists at all
    if fields[0] in ("Z", "X"):
        return True
    started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # /proc/<pid>/stat field 22, starttime
    return started > named_at + PID_REUSE_SLACK_SECONDS


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe(instance: dg.DagsterInstance, run_id: str) -> str:
    """'run 1a2b3c4d (daily_job, 2026-11-02, started 08:12:03 UTC)', as the CLI and the UI's reasons say it."""
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        return f"run {run_id[:8]} (no longer in the instance)"
    tags = record.dagster_run.tags
    days = tags.get("dagster/partition") or "..".join(
        tags[t] for t in ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end") if t in tags
    )
    started = datetime.fromtimestamp(record.start_time, UTC).strftime("%H:%M:%S UTC") if record.start_time else None
    details = [record.dagster_run.job_name, days or "no partition", f"started {started}" if started else "not started"]
    return f"run {run_id[:8]} ({', '.join(details)})"


@dataclass(frozen=True)
class Ended:
    run_id: str
    what: str  # one line for the person: which run, what was wrong, what was done


def end_dead_runs(instance: dg.DagsterInstance) -> list[Ended]:
    """End every run of the instance whose process is gone (failed, or canceled if it was being
    canceled, with the reason), and free pool slots held by runs that are finished or gone."""
    ended = []
    for run in instance.get_runs(dg.RunsFilter(statuses=LIVE_STATUSES)):
        if not ran_here(instance, run):
            continue
        process = run_process(instance, run.run_id)
        if process is None or not process_gone(*process):
            continue
        what = describe(instance, run.run_id)
        reason = f"Its process {process[0]} is gone (killed, out of memory or a power cut): ended by audio-dwh."
        if run.status == dg.DagsterRunStatus.CANCELING:
            instance.report_run_canceled(run, reason)
        else:
            instance.report_run_failed(run, reason)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        ended.append(Ended(run.run_id, f"{what} had died (its process {process[0]} is gone): marked "
                                        f"{'canceled' if run.status == dg.DagsterRunStatus.CANCELING else 'failed'}, "
                                        "its pool slots freed"))  # fmt: skip
    storage = instance.event_log_storage
    holders = {
        entry.run_id
        for pool in storage.get_concurrency_keys()
        for info in [storage.get_concurrency_info(pool)]
        for entry in [*info.claimed_slots, *info.pending_steps]
    }
    for run_id in sorted(holders - {e.run_id for e in ended}):
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
            ended.append(Ended(run_id, f"{describe(instance, run_id)} had finished but still held a pool slot: freed"))
    return ended
