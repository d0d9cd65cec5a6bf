"""`make bench`: performance figures measured in one run, written to bench/results/latest.{json,md}.

Figures so far: the simulator's events/s (eventsim's own README reports 115k-147k events/s) and the
raw loader's events/s into DuckDB. Usage: python -m bench.run [--users N] [--day YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import duckdb

from audio_dwh.dates import parse_day
from audio_dwh.events.contract import TOPICS
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, write_day
from audio_dwh.raw.duckdb_loader import load_day

RESULTS = Path(__file__).parent / "results"
EVENTSIM_EVENTS_PER_S = 115_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000, help="simulated users (scale)")
    parser.add_argument("--day", default="2026-11-02")
    args = parser.parse_args()
    day = parse_day(args.day)
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        simulator = DaySimulator(SimulatorConfig(users=args.users))
        started = time.perf_counter()
        counts = write_day(simulator, day, landing)
        simulate_s = time.perf_counter() - started
        events = sum(counts.values())
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        started = time.perf_counter()
        for topic in TOPICS.values():
            files = sorted((landing / topic.name / f"date={day}").glob("*.json"))
            load_day(con, topic, day, files, landing, reject_threshold=0.0)
        load_s = time.perf_counter() - started
    results = {
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "users": args.users,
        "events": events,
        "simulator_seconds": round(simulate_s, 3),
        "simulator_events_per_s": round(events / simulate_s),
        "simulator_over_eventsim": round(events / simulate_s / EVENTSIM_EVENTS_PER_S, 2),
        "raw_load_seconds": round(load_s, 3),
        "events_per_s": round(events / load_s),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    table = "\n".join(f"| {k} | {v} |" for k, v in results.items())
    (RESULTS / "latest.md").write_text(f"| figure | value |\n|---|---|\n{table}\n")
    print(table)


if __name__ == "__main__":
    main()
