"""`make dev`: the Dagster UI on 127.0.0.1 shows the assets and the runs the CLI made (real webserver)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType
from playwright.sync_api import sync_playwright

from audio_dwh.events.contract import TOPICS
from audio_dwh.quality.raw_checks import RAW_CHECKS
from audio_dwh_tests.test_cli import ROOT, audio_dwh

RAW_CHECK_NAMES = [c.name for c in RAW_CHECKS]


BACKFILL = """mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""
ARTIFACTS = Path(__file__).parent / "artifacts"
QUERY = """{
  assetNodes { assetKey { path } groupName dependencyKeys { path } }
  runsOrError { ... on Runs { results { jobName status tags { key value } } } }
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _assert_backfill_complete(home: Path, backfill_id: str, days: list[str], asset_names: set[str]) -> None:
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
    finally:
        instance.dispose()


def _screenshot_asset_graph(port: int) -> None:
    with sync_playwright() as p:
        flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}/asset-groups", wait_until="networkidle", timeout=120_000)
        page.wait_for_selector("text=raw", timeout=60_000)
        skip = page.locator("button:has-text('Skip')")  # a first-visit newsletter dialog covers the graph
        if skip.count():
            skip.first.click()
        page.wait_for_timeout(1000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "asset-graph.png"), full_page=True)
        text = page.inner_text("body")
        browser.close()
    assert all(group in text for group in ("landing", "raw", "staging", "vault", "marts", "dashboard"))
    assert "Join the Dagster community" not in text
    assert (ARTIFACTS / "asset-graph.png").stat().st_size > 20_000


def test_dev_serves_the_assets_and_the_cli_runs_on_loopback(tmp_path: Path):
    done = audio_dwh(tmp_path, "run", "--start", "2026-11-02", "--end", "2026-11-02", "--users", "150")
    assert done.returncode == 0, done.stdout + done.stderr
    port = _free_port()
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

        # A 3-day backfill of the landing and raw assets launched at once: queued runs whose four raw loads
        # would fight over the DuckDB file but for the "duckdb" pool. (All assets at once: see README.)
        days = ["2026-11-04", "2026-11-05", "2026-11-06"]
        selected = [n["assetKey"]["path"] for n in data["assetNodes"] if n["assetKey"]["path"][0] in ("landing", "raw")]
        params = {"partitionNames": days, "assetSelection": [{"path": path} for path in selected]}
        launched = _graphql(port, BACKFILL, {"params": params})["data"]["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]
        status_query = (
            f'{{ partitionBackfillOrError(backfillId: "{backfill_id}") {{ ... on PartitionBackfill {{ status }} }} }}'
        )
        deadline, status = time.monotonic() + 300, None
        while time.monotonic() < deadline:
            status = _graphql(port, status_query)["data"]["partitionBackfillOrError"]["status"]
            if status in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"):
                break
            time.sleep(3)
        assert status in ("COMPLETED", "COMPLETED_SUCCESS"), (status, (tmp_path / "dev.log").read_text()[-3000:])
        _assert_backfill_complete(tmp_path, launched["backfillId"], days, {"/".join(path) for path in selected})
        _screenshot_asset_graph(port)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
