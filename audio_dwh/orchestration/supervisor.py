"""A run of the command line, watched: the job executes in a worker thread while the main thread
ends dead runs that hold the pool (saying so), says what the run waits for, and answers Ctrl-C and
SIGTERM. Dagster's in-process execution, left alone, waits for a pool slot for ever and only notes a
signal (it acts on one inside a step, not while waiting), so the waiting command could not be stopped.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import dagster as dg

from audio_dwh.orchestration.run_health import describe, end_dead_runs

T = TypeVar("T")
CHECK_EVERY_SECONDS = 5  # dead runs and what the run waits for
SAY_WAITING_EVERY_SECONDS = 15  # the same holder is not announced more often
DBT_GRACE_SECONDS = 10  # to cancel its queries on SIGINT; then it is killed


class Interrupted(Exception):
    """The command got SIGINT or SIGTERM: the run was canceled and its pool slots freed."""

    def __init__(self, signum: int, message: str):
        super().__init__(message)
        self.exit_code = 128 + signum


def supervised(instance: dg.DagsterInstance, run_id: str, execute: Callable[[], T], say: Callable[[str], None]) -> T:
    """execute() (which runs run_id) in a worker thread, watched from this one; raises Interrupted."""
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["result"] = execute()
        except BaseException as error:  # handed to the main thread, which raises it
            outcome["error"] = error

    received: list[int] = []
    handlers = {s: signal.signal(s, lambda signum, _: received.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    worker = threading.Thread(target=work, name=f"run {run_id[:8]}", daemon=True)
    watcher = _Watcher(dg.DagsterInstance.from_ref(instance.get_ref()), run_id, say)
    try:
        worker.start()
        while worker.is_alive() and not received:
            worker.join(timeout=1)
            watcher.tick()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    if received:
        raise Interrupted(received[0], _cancel(watcher.instance, run_id, signal.Signals(received[0]).name))
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]


class _Watcher:
    def __init__(self, instance: dg.DagsterInstance, run_id: str, say: Callable[[str], None]):
        self.instance, self.run_id, self.say = instance, run_id, say
        self.last_check = 0.0
        self.said: dict[str, float] = {}  # holder -> when its wait was last announced

    def tick(self) -> None:
        if time.monotonic() - self.last_check < CHECK_EVERY_SECONDS:
            return
        self.last_check = time.monotonic()
        for ended in end_dead_runs(self.instance):
            self.say(ended.what)
        storage = self.instance.event_log_storage
        for pool in sorted(storage.get_concurrency_keys()):
            info = storage.get_concurrency_info(pool)
            waiting = any(p.run_id == self.run_id and p.assigned_timestamp is None for p in info.pending_steps)
            holders = sorted({s.run_id for s in info.claimed_slots if s.run_id != self.run_id})
            for holder in holders if waiting else []:
                if time.monotonic() - self.said.get(holder, -SAY_WAITING_EVERY_SECONDS) >= SAY_WAITING_EVERY_SECONDS:
                    self.said[holder] = time.monotonic()
                    self.say(f"waiting for the {pool} pool: its slot is held by {describe(self.instance, holder)}")


def _cancel(instance: dg.DagsterInstance, run_id: str, signal_name: str) -> str:
    """Stop dbt, mark the run canceled and free its slots; returns what was done."""
    stopped = _stop_dbt()
    run = instance.get_run_by_id(run_id)
    if run is None:
        return f"interrupted ({signal_name}) before the run started; nothing changed"
    if not run.is_finished:
        instance.report_run_canceled(run, f"audio-dwh got {signal_name}: the run was canceled")
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    dbt = f", dbt stopped ({stopped} process(es))" if stopped else ""
    return (
        f"interrupted ({signal_name}): {describe(instance, run_id)} marked canceled, its pool slots freed{dbt}. "
        "Each table is as before or complete; run the day again to complete it."
    )


def _dbt_processes() -> list[int]:
    """This process's descendants that run dbt (Dagster's own helpers end with this process)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[0] not in ("Z", "X"):  # fields: state, parent
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, frontier = [], [os.getpid()]
    while frontier:
        children = parents.get(frontier.pop(), [])
        found += children
        frontier += children
    return [pid for pid in found if _runs_dbt(pid)]


def _runs_dbt(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(Path(arg.decode(errors="replace")).name == "dbt" for arg in argv[:2])


def _stop_dbt() -> int:
    """SIGINT to dbt (it cancels its queries and stops), SIGKILL if it is still there after the grace
    period; returns how many dbt processes there were."""
    found = _dbt_processes()
    for signum in (signal.SIGINT, signal.SIGKILL):
        for pid in _dbt_processes():
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + DBT_GRACE_SECONDS
        while _dbt_processes() and time.monotonic() < deadline:
            time.sleep(0.1)
    return len(found)
