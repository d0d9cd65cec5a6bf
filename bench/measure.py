"""Run one benchmark step as a child process: its wall time, its output and the peak memory (RSS,
summed over the child and every process it starts, e.g. dbt under Dagster) sampled while it runs."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

SAMPLE_EVERY_S = 0.02


@dataclass
class Measured:
    seconds: float
    peak_rss_mib: float
    report: dict[str, Any] = field(default_factory=dict)


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:  # the process ended between listing and reading
            pass
    return total


def run(command: list[str], env: dict[str, str], cwd: str | None = None) -> Measured:
    """Run command; a step that prints a JSON object as its last line reports figures through it."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        process = psutil.Process(child.pid)
        while not done.is_set():
            try:
                peak = max(peak, _tree_rss(process))
            except psutil.NoSuchProcess:
                return
            time.sleep(SAMPLE_EVERY_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if child.returncode != 0:
        sys.stderr.write(stdout[-4000:] + stderr[-4000:])
        raise SystemExit(f"bench: step failed ({child.returncode}): {' '.join(command)}")
    lines = stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return Measured(seconds=seconds, peak_rss_mib=peak / 2**20, report=report)
