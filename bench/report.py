"""docs/performance.md's table, rendered from a bench run's results (bench/results/latest.json).

`make bench` renders it after each run; by hand: python -m bench.report [RESULTS.json]
"""

from __future__ import annotations

import argparse
import json
import string
from pathlib import Path

from audio_dwh.doc_sections import fill_section

RESULTS = Path(__file__).parent / "results"
PAGE = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
SECTION = "performance-table"
EVENTSIM_EVENTS_PER_S = 115_000

# The aims of the bench, by figure: comparison and limit.
TARGETS = {
    "pipeline_over_floor": ("<=", 2.0),
    "day30_over_day1": ("<=", 1.2),
    "peak_rss_mib": ("<=", 2048),
    "simulator_events_per_s": (">=", EVENTSIM_EVENTS_PER_S),
    "empty_day_seconds": ("<", 10),
    "dashboard_first_view_seconds": ("<=", 3),
    "range_change_median_seconds": ("<", 1.0),
}

# Each row of the table: what it is, how its value reads from the results, and the figure it is judged by.
ROWS = [
    ("events on day 1 (users)", "{events:,} ({users:,})", None),
    ("simulator, best of days 1 and 30", "{simulator_events_per_s:,} events/s, peak {simulator_peak_rss_mib:,} MiB",
     "simulator_events_per_s"),
    ("raw load through Dagster: 4 topics validated, 20 checks", "{raw_seconds} s ({events_per_s:,} events/s)", None),
    ("raw → vault → business vault → marts through Dagster (dbt build and its tests)",
     "{dagster_dbt_seconds} s", None),
    ("the same by plain `dbt build`, warmed the same way", "{plain_dbt_seconds} s (Dagster / dbt {dagster_over_dbt})",
     None),
    ("pipeline (raw + dbt) over the floor (`bench/floor.sql`)",
     "**{pipeline_over_floor}**: {pipeline_seconds} s / {floor_seconds} s; attempts {pipeline_over_floor_each}",
     "pipeline_over_floor"),
    ("day 30 (after 28 days of history) over day 1, per event", "{day30_over_day1}", "day30_over_day1"),
    ("peak RSS of any step's process tree", "{peak_rss_mib:,} MiB (raw {raw_peak_rss_mib:,}, dbt {dbt_peak_rss_mib:,}, "
     "floor {floor_peak_rss_mib:,})", "peak_rss_mib"),
    ("empty day end to end (`audio-dwh run`, process start to exit)",
     "{empty_day_seconds} s (attempts {empty_day_seconds_each}; the first, creating the warehouse, "
     "{first_empty_day_seconds} s)", "empty_day_seconds"),
    ("loading the code location (imports + Definitions) / importing dagster alone, fresh interpreters",
     "{code_location_import_seconds} s / {dagster_alone_import_seconds} s ({code_location_over_dagster}x)", None),
    ("storing a run's planned events as one batch, then one event alone: the home's event log / Dagster's SQLite one",
     "{planned_events} events {planned_events_store_seconds} s / {planned_events_store_seconds_dagster} s "
     "({planned_events_dagster_over_ours}x); one event alone {single_event_store_ms} ms / "
     "{single_event_store_ms_dagster} ms", None),
    ("business vault (its 3 models and tests), day 1 / day 30",
     "{day1_business_vault_seconds} s / {day30_business_vault_seconds} s", None),
    ("recomputed marts (KPIs, active users, retention), day 1 / day 30",
     "{day1_recomputed_marts_seconds} s / {day30_recomputed_marts_seconds} s", None),
    ("dashboard assets (serving copy + report), day 1 / day 30",
     "{day1_dashboard_assets_seconds} s / {day30_dashboard_assets_seconds} s", None),
    ("dashboard: first view after a publication", "{dashboard_first_view_seconds} s", "dashboard_first_view_seconds"),
    ("dashboard: a range change in chromium, click to every figure and chart drawn, median of 6",
     "{range_change_median_seconds} s (each {range_change_seconds})", "range_change_median_seconds"),
    ("checks per day (failed)", "{checks_per_day} ({checks_failed})", None),
]  # fmt: skip


def judged(results: dict, figure: str) -> str:
    """'<= 2.0: met' or '... MISSED' for a figure with a target."""
    op, limit = TARGETS[figure]
    value = results[figure]
    met = {"<=": value <= limit, ">=": value >= limit, "<": value < limit}[op]
    return f"{op} {limit:,}: {'met' if met else '**missed**'}"


def _shown(value: object) -> object:
    if isinstance(value, dict):
        return ", ".join(f"{k.split('. ', 1)[-1]} {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return value


def render(results: dict) -> str:
    """The table; a row whose figures this run did not measure says so."""
    when = f"The run of {results['date']}" if "date" in results else "An undated run"
    attempts = results.get("attempts", 1)
    lines = [f"{when} on {results['machine']}; best of {attempts} attempt(s) per day.", "",
             "| figure | value | target |", "|---|---|---|"]  # fmt: skip
    for label, template, figure in ROWS:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        if names <= results.keys():
            value = template.format_map({name: _shown(results[name]) for name in names})
        else:
            value = "not measured in this run"
        target = judged(results, figure) if figure and figure in results else ""
        lines.append(f"| {label} | {value} | {target} |")
    return "\n".join([*lines, *_scale_table(results.get("scale", {}))]) + "\n"


SCALE_PER_EVENT_LIMIT = 1.2  # a day's cost per event, against the 1M day's
SCALE_PEAK_LIMIT_MIB = 2048


def _scale_table(scale: dict) -> list[str]:
    """How cost grows with the day: a row per size, its cost per event against the 1M day's; the days
    above 1M are judged (per event within 1.2x of the 1M day's, peak within 2 GiB)."""
    if "1M" not in scale:
        return []
    base = scale["1M"]["seconds_per_million_events"]
    lines = ["", "The scale series: one day of each size, raw then dbt through Dagster (the 1M day is day 1's best "
             "attempt, the others one attempt each in a home of their own).", "",
             "| day | events | raw | dbt | seconds per million events (over 1M's) | peak RSS raw / dbt | target |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, point in scale.items():
        ratio = point["seconds_per_million_events"] / base
        peak = max(point["raw_peak_rss_mib"], point["dbt_peak_rss_mib"])
        met = ratio <= SCALE_PER_EVENT_LIMIT and peak <= SCALE_PEAK_LIMIT_MIB
        # A smaller day pays its fixed cost over fewer events; the aim is that a bigger one costs no more.
        bigger = point["events"] > scale["1M"]["events"]
        verdict = "met" if met else "**missed**"
        aim = f"per event <= {SCALE_PER_EVENT_LIMIT}x, peak <= {SCALE_PEAK_LIMIT_MIB:,} MiB"
        target = f"{aim}: {verdict}" if bigger else ""
        lines.append(f"| {name} | {point['events']:,} | {point['raw_seconds']} s | {point['dbt_seconds']} s | "
                     f"{point['seconds_per_million_events']} ({ratio:.2f}x) | {point['raw_peak_rss_mib']:,} / "
                     f"{point['dbt_peak_rss_mib']:,} MiB | {target} |")  # fmt: skip
    return lines


def write(results: dict) -> None:
    """latest.json, the run's dated copy beside it, and the page's table."""
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(results, indent=2) + "\n"
    (RESULTS / "latest.json").write_text(text)
    if "date" in results:
        (RESULTS / f"{results['date']}.json").write_text(text)
    fill_section(PAGE, SECTION, render(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path, default=RESULTS / "latest.json")
    results = json.loads(parser.parse_args().results.read_text())
    table = render(results)
    fill_section(PAGE, SECTION, table)
    print(table)


if __name__ == "__main__":
    main()
