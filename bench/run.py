"""`make bench`: what a day of data costs, against the physical floor, measured in one run.

Steps, each a child process timed from here, with its peak memory (RSS of its whole process tree):
  1. simulate the big day (day 1, about a million events at the default scale), the history (days
     2-29, --history-users) and day 30 (big again);
  2. empty days end to end: `audio-dwh run` for days with no landing files, one after the other (the
     first creates the tables and parses the dbt project in full; the others are a daily run's
     steady state);
  3. day 1 through Dagster: the raw layer (landing inventory + the four loads + their checks), then
     raw -> vault -> marts (the dbt models + tests as Dagster assets); the same dbt work by plain
     `dbt build` on a copy of the warehouse taken between the two (the orchestration overhead);
  4. the floor: bench/floor.sql, one hand-written DuckDB script doing the same work on the same files;
  5. days 2-29 through Dagster as one range run each layer, then day 30 like day 1: does a day get
     slower as history grows? (compared per event, since the two days differ a little in size);
  6. the dashboard over the 30 days (bench/dashboard.py): from a click on a range to the page drawn;
  7. the code location's load (imports and Definitions, what every run, sensor tick and code server
     pays first) against importing dagster alone, each a fresh interpreter, best of --repeats;
  8. storing a run's events, a batch of planned ones and single ones, on the home's event log against
     Dagster's own SQLite event log (bench/events.py), best of --repeats;
  9. what day 1 would store and read on BigQuery, in its logical bytes (bench/bigquery_bytes.py);
 10. the scale series: one day of each --scale-millions size (default 0.1 and 10 million events; the
     10-million-event day adds about 8 minutes, `--scale-millions 0.1` leaves it out) in a home of its
     own, raw then dbt through Dagster, once each, beside day 1's best attempt as the 1-million point:
     seconds per million events and peak RSS per step, as the day grows.

Each day's dashboard assets (the serving copy's publication, the day's report) are timed apart from
the pipeline, which the floor's work matches (raw -> vault -> marts).

This machine's speed drifts within minutes, so steps 3-4 run as --repeats attempts in turn, each on
the warehouse as it was before the day, and so does day 30; each figure is its best attempt (noise
only ever adds time), and the ratio of every day-1 attempt is kept beside it to show the spread.

Writes bench/results/latest.json and its dated copy, and renders docs/performance.md's table.
Usage: python -m bench.run [--users N] [--history-users N] [--repeats N] [--scale-millions 0.1,10]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import psutil

from audio_dwh.events.contract import TOPICS
from audio_dwh.events.landing import day_folder
from bench import bigquery_bytes, dashboard, events, report
from bench.measure import Measured, run

RESULTS = Path(__file__).parent / "results"
PROJECT = Path(__file__).resolve().parents[1]
# Partitions end yesterday: benchmark days lie in the past, Monday day 1 to Tuesday day 30.
START_DATE = date(2026, 9, 28)
EMPTY_DAY = date(2026, 10, 4)
DAY_1 = date(2026, 10, 5)
HISTORY_DAYS = 28


def _step(env: dict[str, str], *args: object) -> Measured:
    return run([sys.executable, "-m", "bench.step", *map(str, args)], env=env, cwd=str(PROJECT))


def _dagster_day(env: dict[str, str], home: Path, landing: Path, day: date, copy_to: Path | None = None) -> dict:
    raw = _step(env, "dagster", home, landing, day, day, "raw")
    if copy_to:
        shutil.copy(home / "warehouse.duckdb", copy_to)
    dbt = _step(env, "dagster", home, landing, day, day, "dbt")
    dashboard = _step(env, "dagster", home, landing, day, day, "dashboard")
    return {"raw": raw, "dbt": dbt, "dashboard": dashboard}


def _plain_dbt(env: dict[str, str], warehouse: Path, day: date, target: Path) -> Measured:
    """`dbt build` for the day as a person would run it, warmed like Dagster's: an untimed `dbt parse`
    for this warehouse first, so both builds parse only partially (the profile names the file)."""
    dbt = [str(Path(sys.executable).with_name("dbt")), "--quiet"]
    env = {**env, "AUDIO_DWH_WAREHOUSE": str(warehouse), "AUDIO_DWH_MIN_DATE": day.isoformat()}
    folders = ["--target-path", str(target), "--log-path", str(target / "logs")]
    run([*dbt, "parse", *folders], env=env, cwd=str(PROJECT / "dbt_project"))
    return run(
        [*dbt, "build", "--exclude-resource-type", "unit_test", *folders], env=env, cwd=str(PROJECT / "dbt_project")
    )


# What loading the code location costs a process, and what dagster alone costs the same interpreter.
CODE_LOCATION = (
    "from audio_dwh.definitions import build_definitions; from audio_dwh.settings import load_settings; "
    "build_definitions(load_settings())"
)
DAGSTER_ALONE = "import dagster"


def _load_seconds(env: dict[str, str], statement: str, repeats: int) -> float:
    return min(run([sys.executable, "-c", statement], env=env, cwd=str(PROJECT)).seconds for _ in range(repeats))


def _remove_database(database: Path) -> None:
    for path in (database, database.with_name(database.name + ".wal")):
        path.unlink(missing_ok=True)


def _attempts(repeats: int, home: Path, work: Path, attempt: Callable[[], dict]) -> list[dict]:
    """Run attempt() repeats times, each on the warehouse as it was before the first: the same day
    on the same history. The last attempt's load stays, as the history of what follows."""
    before = work / "before_attempts.duckdb"
    shutil.copy(home / "warehouse.duckdb", before)
    runs = []
    for _ in range(repeats):
        _remove_database(home / "warehouse.duckdb")
        shutil.copy(before, home / "warehouse.duckdb")
        runs.append(attempt())
    before.unlink()
    return runs


def _seconds(step: Measured) -> float:
    """The step's own figure when it reports one (a Dagster step's leaves out its imports), else its wall time."""
    return step.report.get("seconds", step.seconds)


def _best(days: list[dict], step: str) -> float:
    return min(_seconds(day[step]) for day in days)


def _pipeline_seconds(day: dict) -> float:
    return _seconds(day["raw"]) + _seconds(day["dbt"])


RECOMPUTED_MARTS = ("marts/mart_daily_kpis", "marts/mart_active_users", "marts/mart_retention")


def _dbt_parts(days: list[dict]) -> dict:
    """Of the best attempt's dbt step: dbt's own seconds per layer (models and their tests), what the
    step spent outside dbt's nodes (dbt's start, Dagster's events, row counts), the business vault's
    seconds and share, and the marts that read other days than their own."""
    best = min(days, key=lambda day: _seconds(day["dbt"]))
    nodes = best["dbt"].report["node_seconds"]
    business_vault = sum(s for name, s in nodes.items() if name.startswith("business_vault/"))
    by_layer: dict[str, float] = {}
    for name, seconds in nodes.items():  # an asset's model and its tests, under the asset's layer
        layer = name.split("/")[0]
        by_layer[layer] = by_layer.get(layer, 0.0) + seconds
    return {
        "dbt_node_seconds_by_layer": {layer: round(s, 2) for layer, s in sorted(by_layer.items())},
        "dbt_outside_nodes_seconds": round(_seconds(best["dbt"]) - sum(nodes.values()), 2),
        "business_vault_seconds": round(business_vault, 2),
        "business_vault_share_of_dbt": round(business_vault / _seconds(best["dbt"]), 3),
        "recomputed_marts_seconds": round(sum(nodes.get(name, 0.0) for name in RECOMPUTED_MARTS), 2),
    }


# The simulator's events per registered user on a weekday (day 1: 961,563 events of 670,000 users).
EVENTS_PER_USER = 1.435


def _scale_point(events: int, raw: Measured, dbt: Measured) -> dict:
    seconds = _seconds(raw) + _seconds(dbt)
    return {
        "events": events,
        "raw_seconds": round(_seconds(raw), 2),
        "dbt_seconds": round(_seconds(dbt), 2),
        "seconds_per_million_events": round(seconds / (events / 1e6), 2),
        "raw_peak_rss_mib": round(raw.peak_rss_mib),
        "dbt_peak_rss_mib": round(dbt.peak_rss_mib),
    }


def _scale_day(env: dict[str, str], work: Path, millions: float) -> dict:
    """A day of about `millions` million events in a new home: the raw layer, then dbt, once."""
    folder = work / f"scale-{millions:g}M"
    shutil.rmtree(folder, ignore_errors=True)
    landing, home = folder / "landing", folder / "home"
    home.mkdir(parents=True)
    simulated = _step(env, "simulate", landing, DAY_1, DAY_1, round(millions * 1e6 / EVENTS_PER_USER))
    point = _scale_point(
        simulated.report["events"],
        _step(env, "dagster", home, landing, DAY_1, DAY_1, "raw"),
        _step(env, "dagster", home, landing, DAY_1, DAY_1, "dbt"),
    )
    shutil.rmtree(folder)
    return point


def _millions(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=670_000, help="users on days 1 and 30 (~1.5 events each)")
    parser.add_argument("--history-users", type=int, default=67_000, help="simulated users on days 2-29")
    parser.add_argument("--repeats", type=int, default=3, help="attempts of each timed day (the best counts)")
    parser.add_argument("--workdir", help="keep the landing files and warehouses here (default: a temp folder)")
    parser.add_argument("--scale-millions", type=_millions, default=[0.1, 10],
                        help="the scale series' other days, in million events (day 1 is the 1M point); "
                        "the 10M day takes about 8 minutes, '0.1' leaves it out")  # fmt: skip
    args = parser.parse_args()
    if not 1 <= args.repeats <= (EMPTY_DAY - START_DATE).days:  # one empty day per attempt, plus the first
        parser.error(f"--repeats: 1 to {(EMPTY_DAY - START_DATE).days}")
    day_30 = DAY_1 + timedelta(days=HISTORY_DAYS + 1)
    history = (DAY_1 + timedelta(days=1), day_30 - timedelta(days=1))
    empty_days = [EMPTY_DAY - timedelta(days=n) for n in range(args.repeats, -1, -1)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        landing, home = work / "landing", work / "home"
        shutil.rmtree(home, ignore_errors=True)
        env = {
            **os.environ,
            "AUDIO_DWH_START_DATE": START_DATE.isoformat(),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "PYTHONWARNINGS": "ignore",
        }
        print(f"bench: simulating in {landing}", flush=True)
        simulated = _step(env, "simulate", landing, DAY_1, DAY_1, args.users)
        _step(env, "simulate", landing, history[0], history[1], args.history_users)
        simulated_30 = _step(env, "simulate", landing, day_30, day_30, args.users)

        print(f"bench: {len(empty_days)} empty days end to end (audio-dwh run), the first makes the tables", flush=True)
        for day in empty_days:  # landed with no events: every topic's day folder, empty
            for topic in TOPICS:
                day_folder(landing, topic, day).mkdir(parents=True, exist_ok=True)
        audio_dwh = Path(sys.executable).with_name("audio-dwh")
        first_empty, *empty = (
            run(
                [str(audio_dwh), "run", "--start", str(day), "--end", str(day), "--source", "files"],
                env={**env, "AUDIO_DWH_HOME": str(home), "AUDIO_DWH_LANDING": str(landing)},
                cwd=str(PROJECT),
            )
            for day in empty_days
        )

        def day_1() -> dict:
            plain_copy, floor_db = work / "plain_dbt.duckdb", work / "floor.duckdb"
            _remove_database(plain_copy)
            _remove_database(floor_db)
            day = _dagster_day(env, home, landing, DAY_1, copy_to=plain_copy)
            day["plain"] = _plain_dbt(env, plain_copy, DAY_1, work / "plain_dbt_target")
            day["floor"] = _step(env, "floor", landing, DAY_1, floor_db)
            return day

        print(f"bench: day 1 through Dagster, plain dbt, the floor; {args.repeats} attempts", flush=True)
        day1 = _attempts(args.repeats, home, work, day_1)
        bigquery_day_1 = bigquery_bytes.measure(home / "warehouse.duckdb")  # the home holds day 1 alone

        print(f"bench: days {history[0]}..{history[1]} as one range run, then day 30", flush=True)
        _step(env, "dagster", home, landing, history[0], history[1], "raw")
        _step(env, "dagster", home, landing, history[0], history[1], "dbt")
        _step(env, "dagster", home, landing, history[0], history[1], "dashboard")
        day30 = _attempts(args.repeats, home, work, lambda: _dagster_day(env, home, landing, day_30))

        print("bench: the dashboard over the 30 days, a range change at a time", flush=True)
        answers = dashboard.measure(home, DAY_1, day_30)

        print("bench: loading the code location, against importing dagster alone", flush=True)
        home_env = {**env, "AUDIO_DWH_HOME": str(home), "AUDIO_DWH_LANDING": str(landing)}
        code_location = _load_seconds(home_env, CODE_LOCATION, args.repeats)
        dagster_alone = _load_seconds(home_env, DAGSTER_ALONE, args.repeats)

        print("bench: storing a run's events, the home's event log against Dagster's", flush=True)
        event_store = events.measure(args.repeats)

        print(f"bench: the scale series, days of {args.scale_millions} million events", flush=True)
        best_day_1 = min(day1, key=_pipeline_seconds)
        scale = {f"{m:g}M": _scale_day(env, work, m) for m in args.scale_millions}
        scale["1M"] = _scale_point(simulated.report["events"], best_day_1["raw"], best_day_1["dbt"])

    events_1, events_30 = simulated.report["events"], simulated_30.report["events"]
    pipeline_1 = min(_pipeline_seconds(d) for d in day1)
    pipeline_30 = min(_pipeline_seconds(d) for d in day30)
    floor = _best(day1, "floor")
    simulated_rates = [s.report["events"] / s.report["seconds"] for s in (simulated, simulated_30)]
    steps = [d[step] for d in day1 + day30 for step in ("raw", "dbt", "dashboard")]
    # Day 1 only: day 30 follows history at a tenth of its size, which the volume check rightly flags.
    day1_checks_failed = {check for d in day1 for step in ("raw", "dbt") for check in d[step].report["checks_failed"]}
    results = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}",
        "users": args.users,
        "events": events_1,
        "attempts": args.repeats,
        "simulator_events_per_s": round(max(simulated_rates)),
        "simulator_peak_rss_mib": round(max(simulated.peak_rss_mib, simulated_30.peak_rss_mib)),
        "events_per_s": round(events_1 / _best(day1, "raw")),
        "raw_seconds": round(_best(day1, "raw"), 2),
        "dagster_dbt_seconds": round(_best(day1, "dbt"), 2),
        "plain_dbt_seconds": round(_best(day1, "plain"), 2),
        "pipeline_seconds": round(pipeline_1, 2),
        "floor_seconds": round(floor, 2),
        "pipeline_over_floor": round(pipeline_1 / floor, 2),
        "pipeline_over_floor_each": [round(_pipeline_seconds(d) / _seconds(d["floor"]), 2) for d in day1],
        "dagster_over_dbt": round(_best(day1, "dbt") / _best(day1, "plain"), 2),
        "code_location_import_seconds": round(code_location, 2),
        "dagster_alone_import_seconds": round(dagster_alone, 2),
        "code_location_over_dagster": round(code_location / dagster_alone, 2),
        **event_store,
        "dagster_import_seconds": round(min(d["dbt"].report["import_seconds"] for d in day1), 2),
        "day30_events": events_30,
        "day30_pipeline_seconds": round(pipeline_30, 2),
        "day30_over_day1": round((pipeline_30 / events_30) / (pipeline_1 / events_1), 2),
        **{f"day1_{name}": value for name, value in _dbt_parts(day1).items()},
        **{f"day30_{name}": value for name, value in _dbt_parts(day30).items()},
        "day1_dashboard_assets_seconds": round(_best(day1, "dashboard"), 2),
        "day30_dashboard_assets_seconds": round(_best(day30, "dashboard"), 2),
        **answers,
        "empty_day_seconds": round(min(e.seconds for e in empty), 2),
        "empty_day_seconds_each": [round(e.seconds, 2) for e in empty],
        "first_empty_day_seconds": round(first_empty.seconds, 2),
        "peak_rss_mib": round(max(s.peak_rss_mib for s in steps)),
        "raw_peak_rss_mib": round(max(d["raw"].peak_rss_mib for d in day1 + day30)),
        "dbt_peak_rss_mib": round(max(d["dbt"].peak_rss_mib for d in day1 + day30)),
        "floor_peak_rss_mib": round(max(d["floor"].peak_rss_mib for d in day1)),
        "checks_per_day": day1[0]["raw"].report["checks"] + day1[0]["dbt"].report["checks"],
        "checks_failed": sorted(day1_checks_failed),
        "bigquery_day_1": bigquery_day_1,
        "scale": dict(sorted(scale.items(), key=lambda item: item[1]["events"])),
    }
    report.write(results)


if __name__ == "__main__":
    main()
