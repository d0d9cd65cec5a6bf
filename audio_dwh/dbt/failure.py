"""What a person needs to read when dbt fails: which asset, which day, which model, dbt's own error
line and where the full log is; one message instead of dbt's output and three stack traces."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# dbt heads its messages with where the error happened ("Runtime Error in model x (models/x.sql)");
# the line after it is the database's own.
WHERE_LINE = re.compile(r"^\w[\w ]* Error in \w+ ")
FAILED = ("error", "fail", "runtime error")
TESTS_SHOWN = 5


def error_line(message: str | None) -> str:
    """dbt's own error line out of a node's message: the first line that is not dbt's heading."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    if len(lines) > 1 and WHERE_LINE.match(lines[0]):
        return lines[1]
    return lines[0] if lines else "no message"


def failure_message(
    run_results: Mapping[str, Any], nodes: Mapping[str, Any], layers: Mapping[str, str], days: str, log: Path
) -> str:
    """One paragraph naming each failed model (asset and table) with dbt's error line, the number of
    failed data tests (their asset checks hold the rows), and the full log."""
    failed = [r for r in run_results.get("results", []) if r.get("status") in FAILED]
    parts = []
    for result in failed:
        node = nodes.get(result["unique_id"], {})
        if node.get("resource_type") != "model":
            continue
        asset = f"{layers[node['fqn'][1]]}/{node['name']}"
        parts.append(f"asset {asset} (dbt model {node['schema']}.{node['alias']}): {error_line(result.get('message'))}")
    tests = [
        nodes[r["unique_id"]]["name"] for r in failed if nodes.get(r["unique_id"], {}).get("resource_type") == "test"
    ]
    if tests:
        shown = ", ".join(tests[:TESTS_SHOWN]) + (
            f" and {len(tests) - TESTS_SHOWN} more" if len(tests) > TESTS_SHOWN else ""
        )
        parts.append(f"{len(tests)} data test(s) failed: {shown} (their asset checks hold the failing rows)")
    skipped = sum(1 for r in run_results.get("results", []) if r.get("status") == "skipped")
    summary = "; ".join(parts).rstrip(".") or "dbt exited with an error before running any node"
    after = f" {skipped} node(s) after it were skipped." if skipped else ""
    return f"dbt build for {days} failed: {summary}.{after} {recovery(days)} Full log: {log}"


def recovery(days: str) -> str:
    """How to get past the failure. Every model commits alone and replaces its days, so a run of the
    days completes whatever was built; but the same files and the same models fail the same way."""
    first, _, last = days.partition("..")
    return (
        "Each table is as before or complete. Running the same files again fails the same way: correct the "
        "day's landing files (with --source files the landing sensor runs the day again once they change) or "
        "the model, then run the day again: audio-dwh run --start "
        f"{first} --end {last or first}; a model whose columns changed says how to rebuild it."
    )
