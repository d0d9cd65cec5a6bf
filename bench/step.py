"""One benchmark step, run in a child process by bench/run.py (which measures its time and memory).
Each prints a JSON object with its own figures as its last line.

    python -m bench.step simulate LANDING FIRST_DAY LAST_DAY USERS
    python -m bench.step dagster HOME LANDING FIRST_DAY LAST_DAY raw|dbt|dashboard
    python -m bench.step floor LANDING DAY DATABASE
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from audio_dwh.dates import parse_day

FLOOR_SQL = Path(__file__).with_name("floor.sql")


def simulate(landing: str, first: str, last: str, users: str) -> dict:
    from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, write_day

    simulator = DaySimulator(SimulatorConfig(users=int(users)))
    start, end = parse_day(first), parse_day(last)
    events, started = 0, time.perf_counter()
    for offset in range((end - start).days + 1):
        events += sum(write_day(simulator, start + timedelta(days=offset), Path(landing)).values())
    return {"events": events, "seconds": time.perf_counter() - started}


def dagster(home: str, landing: str, first: str, last: str, layer: str) -> dict:
    """Materialize one layer for a day range, in one run, as the daily job does: the raw layer
    (landing inventory + the four raw loads and their checks), the dbt models (build + tests), or the
    dashboard's assets (the serving copy's publication and the day's report)."""
    os.environ.update(AUDIO_DWH_HOME=home, AUDIO_DWH_LANDING=landing, AUDIO_DWH_SOURCE="files")
    started = time.perf_counter()
    import dagster as dg

    from audio_dwh.definitions import build_layers
    from audio_dwh.partitions import range_tags
    from audio_dwh.resources import build_resources
    from audio_dwh.settings import load_settings

    settings = load_settings()
    built = build_layers(settings)
    # Building the assets belongs with the imports: it was done at import before, and is the same fixed cost.
    imported = time.perf_counter()
    assets = {"raw": [built.landing, *built.raw], "dbt": [built.dbt], "dashboard": built.dashboard}[layer]
    result = dg.materialize(
        assets,
        resources=build_resources(settings),
        instance=dg.DagsterInstance.ephemeral(),
        tags=range_tags(parse_day(first), parse_day(last)),
    )
    evaluations = result.get_asset_check_evaluations()
    return {
        "seconds": time.perf_counter() - imported,
        "import_seconds": imported - started,
        "checks": len(evaluations),
        "checks_failed": sorted({e.check_name for e in evaluations if not e.passed}),
        "node_seconds": _node_seconds(result),
    }


def _node_seconds(result) -> dict[str, float]:
    """dbt's own time per asset, its model and its tests (dagster-dbt's "Execution Duration"), by asset key."""
    materializations = [e.materialization for e in result.get_asset_materialization_events()]
    recorded = [(m.asset_key, m.metadata) for m in materializations]
    recorded += [(e.asset_key, e.metadata) for e in result.get_asset_check_evaluations()]
    seconds: dict[str, float] = {}
    for key, metadata in recorded:
        if "Execution Duration" in metadata:
            name = key.to_user_string()
            seconds[name] = seconds.get(name, 0.0) + metadata["Execution Duration"].value
    return seconds


def floor(landing: str, day: str, database: str) -> dict:
    import duckdb

    script = FLOOR_SQL.read_text().replace("__LANDING__", landing).replace("__DAY__", parse_day(day).isoformat())
    started = time.perf_counter()
    con = duckdb.connect(database)
    con.execute(script)
    con.close()
    return {"seconds": time.perf_counter() - started}


STEPS = {"simulate": simulate, "dagster": dagster, "floor": floor}

if __name__ == "__main__":
    print(json.dumps(STEPS[sys.argv[1]](*sys.argv[2:])))
