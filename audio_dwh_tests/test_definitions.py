"""The code location as a reviewer reads it: every asset with its group, kinds, partitions, backfill
policy, pool, freshness and parents; every check with its asset and whether it blocks; the jobs,
schedules and sensors. A change to any of them shows as a diff of the snapshot
(`__snapshots__/test_definitions.ambr`); accept one with `pytest --snapshot-update`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from audio_dwh_tests.conftest import DEFS


def _partitions(definition: dg.PartitionsDefinition | None) -> str | None:
    if definition is None:
        return None
    return f"{type(definition).__name__}(start={definition.start.date().isoformat()}, tz={definition.timezone})"


def code_location(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        if not node.is_materializable:
            continue
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "partitions": _partitions(node.partitions_def),
            "backfill_policy": str(node.backfill_policy.policy_type.value) if node.backfill_policy else None,
            "pool": node.pools and sorted(node.pools),
            "freshness": bool(node.freshness_policy),
            "parents": sorted(p.to_user_string() for p in node.parent_keys),
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        check = graph.get_check_spec(check_key)
        checks[f"{check_key.asset_key.to_user_string()}:{check_key.name}"] = {
            "blocking": check.blocking,
            "partitioned": check.partitions_def is not None,
        }
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(job.name for job in defs.jobs or []),
        "schedules": {s.name: [s.cron_schedule, s.execution_timezone, s.default_status.value] for s in defs.schedules},
        "sensors": {s.name: s.default_status.value for s in defs.sensors},
    }


def test_the_code_location_is_the_snapshot(snapshot):
    assert code_location(DEFS) == snapshot


# Stacks a process loading the code location must not pay for: the Google clients (only the bigquery
# target's steps import them) and the charting stack (only the step drawing the report).
DEFERRED_STACKS = ("google.cloud.bigquery", "google.cloud.storage", "dagster_gcp", "altair", "vl_convert")


def test_loading_the_code_location_defers_the_google_and_charting_stacks(tmp_path: Path) -> None:
    loaded = subprocess.run(
        [sys.executable, "-c",
         "import json, sys; from audio_dwh.definitions import build_definitions; "
         "from audio_dwh.settings import load_settings; build_definitions(load_settings()); "
         f"print(json.dumps([m for m in {DEFERRED_STACKS!r} if m in sys.modules]))"],
        env={**os.environ, "AUDIO_DWH_HOME": str(tmp_path)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(loaded.stdout.splitlines()[-1]) == []


def test_the_dashboard_process_imports_neither_dagster_nor_dbt() -> None:
    """The dashboard reads the serving copy; what it imports is paid before its first view."""
    loaded = subprocess.run(
        [sys.executable, "-c",
         "import json, sys; import audio_dwh.cli, audio_dwh.dashboard.server, audio_dwh.dashboard.app; "
         "print(json.dumps([m for m in ('dagster', 'dagster_dbt', 'dbt', 'google.cloud.bigquery', "
         "'google.cloud.storage') if m in sys.modules]))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(loaded.stdout.splitlines()[-1]) == []
