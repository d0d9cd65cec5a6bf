"""`make dev`: the Dagster UI on 127.0.0.1 shows the assets and the runs the CLI made (real webserver)."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from audio_dwh.definitions import defs
from audio_dwh.events.contract import TOPICS
from audio_dwh.quality.raw_checks import RAW_CHECKS
from audio_dwh_tests.conftest import free_port
from audio_dwh_tests.test_cli import ROOT, audio_dwh

RAW_CHECK_NAMES = [c.name for c in RAW_CHECKS]


BACKFILL = """mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""
LAUNCH_RUN = """mutation($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}"""
LOCATION = "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }"
ARTIFACTS = Path(__file__).parent / "artifacts"
QUERY = """{
  assetNodes { assetKey { path } groupName dependencyKeys { path } }
  runsOrError { ... on Runs { results { jobName status tags { key value } } } }
}"""


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _wait_for_backfill(port: int, backfill_id: str, home: Path) -> None:
    query = f'{{ partitionBackfillOrError(backfillId: "{backfill_id}") {{ ... on PartitionBackfill {{ status }} }} }}'
    deadline, status = time.monotonic() + 420, None
    while time.monotonic() < deadline:
        status = _graphql(port, query)["data"]["partitionBackfillOrError"]["status"]
        if status in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"):
            break
        time.sleep(3)
    assert status in ("COMPLETED", "COMPLETED_SUCCESS"), (status, (home / "dev.log").read_text()[-3000:])


def _wait_for_runs(home: Path, run_ids: list[str]) -> list[str]:
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            runs = [instance.get_run_by_id(run_id) for run_id in run_ids]
            if all(run.is_finished for run in runs):
                break
            time.sleep(3)
        return [run.status.value for run in runs]
    finally:
        instance.dispose()


def _assert_backfill_complete(
    home: Path, backfill_id: str, days: list[str], asset_names: set[str]
) -> list[dg.DagsterRun]:
    """Every run of the backfill succeeded; every asset has every day; every check was evaluated."""
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs), [(r.run_id, r.status) for r in runs]
        for name in asset_names:
            materialized = instance.get_materialized_partitions(dg.AssetKey(name.split("/")))
            assert set(days) <= materialized, (name, sorted(set(days) - materialized))
        evaluated = set()
        for run in runs:
            for record in instance.get_records_for_run(
                run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
            ).records:
                evaluation = record.event_log_entry.dagster_event.event_specific_data
                evaluated.add((evaluation.asset_key.to_user_string(), evaluation.check_name, evaluation.partition))
        assert {(f"raw/{t}", c, d) for t in TOPICS for c in RAW_CHECK_NAMES for d in days} <= evaluated
        # and every other check of the graph (dbt tests judge the run's whole range) but the freshness
        # checks, which judge "now" and run from their own sensor.
        checks = {(k.asset_key.to_user_string(), k.name) for k in defs.resolve_asset_graph().asset_check_keys}
        missing = {c for c in checks if c[1] != "freshness_check"} - {(a, c) for a, c, _ in evaluated}
        assert not missing, sorted(missing)
        print(f"backfill {backfill_id}: {len(runs)} run(s), {len(evaluated)} check evaluations")
        return runs
    finally:
        instance.dispose()


def _screenshot_asset_graph(port: int) -> None:
    with sync_playwright() as p:
        flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}/asset-groups", wait_until="networkidle", timeout=120_000)
        page.wait_for_selector("text=raw", timeout=60_000)
        # A first-visit newsletter dialog covers the graph; it appears a moment after the page.
        dialog = page.locator("text=Join the Dagster community")
        try:
            dialog.wait_for(timeout=15_000)
            page.locator("button:has-text('Skip')").first.click()
            dialog.wait_for(state="hidden", timeout=15_000)
        except PlaywrightTimeout:
            pass  # no dialog this time
        page.wait_for_timeout(1000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "asset-graph.png"), full_page=True)
        text = page.inner_text("body")
        browser.close()
    assert all(group in text for group in ("landing", "raw", "staging", "vault", "marts", "dashboard"))
    assert "Join the Dagster community" not in text
    assert (ARTIFACTS / "asset-graph.png").stat().st_size > 20_000


def test_dev_serves_the_assets_and_the_cli_runs_on_loopback(tmp_path: Path, reliability):
    done = audio_dwh(tmp_path, "run", "--start", "2026-11-02", "--end", "2026-11-02", "--users", "150")
    assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    env = {**os.environ, "AUDIO_DWH_HOME": str(tmp_path), "AUDIO_DWH_USERS": "150"}
    env.pop("DAGSTER_HOME", None)
    log = open(tmp_path / "dev.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "audio_dwh.cli", "dev", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline, data = time.monotonic() + 120, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                data = _graphql(port, QUERY)["data"]
                if data["assetNodes"]:
                    break
            except (OSError, KeyError, TypeError):
                time.sleep(1)
        assert data, (tmp_path / "dev.log").read_text()[-3000:]
        nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
        assert {"landing/eventsim_events", "raw/listen_events", "raw/auth_events"} <= set(nodes)
        assert nodes["raw/listen_events"]["groupName"] == "raw"
        assert nodes["raw/listen_events"]["dependencyKeys"] == [{"path": ["landing", "eventsim_events"]}]
        runs = [r for r in data["runsOrError"]["results"] if r["jobName"] == "daily_job"]  # not the sensors' runs
        assert [(r["jobName"], r["status"]) for r in runs] == [("daily_job", "SUCCESS")]
        assert {"key": "dagster/partition", "value": "2026-11-02"} in runs[0]["tags"]
        assert f"-h 127.0.0.1 -p {port}" in (tmp_path / "dev.log").read_text(), "bound to loopback only"

        # Every asset's upstream edges: the lineage runs unbroken landing -> raw -> ... -> dashboard.
        assert nodes["staging/stg_listen_events"]["dependencyKeys"] == [{"path": ["raw", "listen_events"]}]
        assert {"path": ["marts", "mart_song_play"]} in nodes["reports/daily_dashboard"]["dependencyKeys"]
        assert all(n["dependencyKeys"] for k, n in nodes.items() if not k.startswith("landing/"))

        # A 3-day backfill of every asset launched at once from the UI's API. Every asset backfills a
        # range in one run, so the daemon can launch the whole graph as one run; the "duckdb" pool
        # keeps the writers off each other either way.
        days = ["2026-11-04", "2026-11-05", "2026-11-06"]
        selected = [n["assetKey"]["path"] for n in data["assetNodes"]]
        params = {"partitionNames": days, "assetSelection": [{"path": path} for path in selected]}
        launched = _graphql(port, BACKFILL, {"params": params})["data"]["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]
        _wait_for_backfill(port, backfill_id, tmp_path)
        _assert_backfill_complete(tmp_path, backfill_id, days, {"/".join(path) for path in selected})

        # A 7-day backfill of the daily job, launched at once: Dagster honours the assets' single-run
        # policy for job backfills too, so the week is one run over every layer.
        week = [f"2026-11-{d:02d}" for d in range(7, 14)]
        location = _graphql(port, LOCATION)["data"]["workspaceOrError"]["locationEntries"][0]["name"]
        repository = {"repositoryName": "__repository__", "repositoryLocationName": location}
        selector = {"partitionSetName": "daily_job_partition_set", "repositorySelector": repository}
        launched = _graphql(port, BACKFILL, {"params": {"selector": selector, "partitionNames": week}})
        job_backfill = launched["data"]["launchPartitionBackfill"]
        assert job_backfill["__typename"] == "LaunchBackfillSuccess", job_backfill
        _wait_for_backfill(port, job_backfill["backfillId"], tmp_path)
        runs = _assert_backfill_complete(tmp_path, job_backfill["backfillId"], week, {"/".join(p) for p in selected})
        assert len(runs) == 1

        # Seven one-day runs launched at the same moment (as a catching-up sensor or seven clicks
        # would): the run queue and the "duckdb" pool queue their 28 raw loads; none fails on the lock.
        landing_and_raw = [{"path": p} for p in selected if p[0] in ("landing", "raw")]
        run_ids = []
        for day in [f"2026-11-{d:02d}" for d in range(14, 21)]:
            params = {
                "selector": {**repository, "jobName": "daily_job", "assetSelection": landing_and_raw},
                "mode": "default",
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": day}]},
            }
            launched = _graphql(port, LAUNCH_RUN, {"executionParams": params})["data"]["launchRun"]
            assert launched["__typename"] == "LaunchRunSuccess", launched
            run_ids.append(launched["run"]["runId"])
        statuses = _wait_for_runs(tmp_path, run_ids)
        assert statuses == ["SUCCESS"] * 7, (statuses, (tmp_path / "dev.log").read_text()[-3000:])
        assert "Conflicting lock" not in (tmp_path / "dev.log").read_text()
        reliability(
            what="Concurrency",
            tried="one-day runs of landing + raw for 7 different days launched at the same moment through the UI's API",
            held="all succeeded; the run queue and the duckdb pool queued the loads; no lock error",
            runs_launched_at_once=len(run_ids),
            runs_succeeded=statuses.count("SUCCESS"),
            raw_loads=len(run_ids) * len(TOPICS),
        )
        _screenshot_asset_graph(port)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
