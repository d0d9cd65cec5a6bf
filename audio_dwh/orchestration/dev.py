"""`audio-dwh dev`: `dagster dev` watched so that a stop is over within seconds. Left alone, dagster
dev stops its webserver and daemon in turn, each allowed a minute, and its code servers stop their
gRPC servers after that; on a busy machine a code server outlived the stop by many seconds. Here
dagster dev gets Ctrl-C or SIGTERM as before, and whatever of it still runs STOP_GRACE_SECONDS later
is killed. A run still in flight then ends as a crashed one does: the next `make dev`'s run
monitoring marks it failed and frees its slot, its tables as before it or as after it."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STOP_GRACE_SECONDS = 3.0  # dagster dev's own orderly stop; every process is gone within 5 s (issue 33)
_PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


class _Stop(Exception):
    def __init__(self, signum: int):
        self.signum = signum


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signum)


def serve(command: list[str]) -> int:
    """Run command (dagster dev) until it exits, or until this process gets SIGINT or SIGTERM; then
    stop it and every process it started. Returns its exit code, or 128 + the signal after a stop."""
    _adopt_orphans()
    # Caught here, so the command starts with both at their defaults even where this process was
    # started with SIGINT ignored (a shell without job control does that to background commands).
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, _raise_stop)
    child = subprocess.Popen(command)  # in this process group: a terminal's Ctrl-C reaches all of it
    try:
        return child.wait()
    except _Stop as stop:
        signum = stop.signum
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)  # a second Ctrl-C does not cut the stop short
    if signum == signal.SIGTERM:  # only this process got it; Ctrl-C has reached the whole group
        child.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while _descendants() and time.monotonic() < deadline:
        child.poll()
        time.sleep(0.1)
    for pid in _descendants():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    child.wait()
    _reap_adopted()
    return 128 + signum


def _adopt_orphans() -> None:
    """Linux: a process whose parent exits is handed to this one rather than to init, so that the
    stop still finds a code server whose dagster dev has gone."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _descendants() -> list[int]:
    """Every live process below this one. A process counts as live while any of its threads is: DuckDB's
    threads may outlive the main thread, holding the warehouse open."""
    parents: dict[int, int] = {}
    live: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/task/[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rpartition(")")[2].split()[:2]
        except (OSError, ValueError):  # the thread ended while we looked
            continue
        pid = int(stat.parent.parent.parent.name)
        parents[pid] = int(parent)
        if state not in ("Z", "X"):
            live.add(pid)
    below, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - below
        below |= frontier
    return sorted(below & live)


def _reap_adopted() -> None:
    """Wait for the killed orphans handed to this process, so that none is left a zombie."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
