"""`make dev`: the Dagster UI on 127.0.0.1 shows the assets and the runs the CLI made (real webserver)."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from audio_dwh.events.contract import TOPICS
from audio_dwh.quality.raw_checks import RAW_CHECKS
from audio_dwh_tests.conftest import DEFS, free_port
from audio_dwh_tests.test_alerts import Receiver
from audio_dwh_tests.test_cli import ROOT, audio_dwh

pytestmark = [pytest.mark.browser, pytest.mark.slow]

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
  assetNodes {
    assetKey { path } groupName dependencyKeys { path }
    backfillPolicy { policyType maxPartitionsPerRun }
  }
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


def stop_dev(server: subprocess.Popen) -> None:
    """Stop a `dagster dev` started in its own session: SIGTERM to its group, SIGKILL if it lingers."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


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
        checks = {(k.asset_key.to_user_string(), k.name) for k in DEFS.resolve_asset_graph().asset_check_keys}
        missing = {c for c in checks if c[1] != "freshness_check"} - {(a, c) for a, c, _ in evaluated}
        assert not missing, sorted(missing)
        print(f"backfill {backfill_id}: {len(runs)} run(s), {len(evaluated)} check evaluations")
        return runs
    finally:
        instance.dispose()


CHECK_STATUSES = ["Execution Failed", "Failed", "In Progress", "Missing", "Skipped", "Passed"]
BROWSER_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def _open(page, url: str) -> None:
    page.goto(url, wait_until="networkidle", timeout=120_000)
    # A first-visit newsletter dialog covers the page; it appears a moment after it.
    dialog = page.locator("text=Join the Dagster community")
    try:
        dialog.wait_for(timeout=5_000)
        page.locator("button:has-text('Skip')").first.click()
        dialog.wait_for(state="hidden", timeout=15_000)
    except PlaywrightTimeout:
        pass  # no dialog this time


def _check_partitions(page, port: int, asset: str, check: str, status: str, shot: str) -> tuple[dict, list[str]]:
    """A check's Partitions view as the UI shows it: the count of each status, and the days listed
    when only `status` is ticked."""
    _open(page, f"http://127.0.0.1:{port}/assets/{asset}?view=checks&checkDetail={check}")
    page.get_by_role("tab", name="Partitions").last.click()
    page.get_by_text(re.compile(r"^Passed \(\d+\)$")).wait_for(timeout=60_000)
    counts = {
        name: int(page.get_by_text(re.compile(rf"^{name} \((\d+)\)$")).inner_text().rsplit("(", 1)[1][:-1])
        for name in CHECK_STATUSES
    }
    for name in CHECK_STATUSES:
        if name != status:
            page.get_by_text(re.compile(rf"^{name} \(\d+\)$")).click()  # untick it
    page.wait_for_timeout(500)
    text = page.inner_text("body")
    listed = sorted(set(re.findall(r"\b\d{4}-\d\d-\d\d\b", text[text.index("Partitions Selected") :])))
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    return counts, listed


def _check_list(page, port: int, asset: str) -> str:
    """The Checks tab of an asset: each check's name and latest status."""
    _open(page, f"http://127.0.0.1:{port}/assets/{asset}?view=checks")
    page.get_by_text("Execute all").wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    text = page.inner_text("body")
    start = text.index("Execute all")
    return text[start : text.index("Execution history", start)]


def _wait_for_freshness_checks(home: Path, timeout_s: float = 180) -> None:
    """Until the freshness sensor's run has judged every freshness check once."""
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        expected = {k for k in DEFS.resolve_asset_graph().asset_check_keys if k.name == "freshness_check"}
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(expected))
            judged = {key for key, record in latest.items() if record.status.value in ("SUCCEEDED", "FAILED")}
            if judged == expected:
                return
            time.sleep(3)
        raise AssertionError(f"freshness checks not judged: {sorted(k.to_user_string() for k in expected - judged)}")
    finally:
        instance.dispose()


def _what_the_ui_shows_per_day(page, port: int, home: Path, raw_days: list[str], built_days: list[str], alerts) -> None:
    """Each check's Partitions view says Passed for each day it judged; a day broken on purpose shows
    Failed for that day only, with its failing rows; the mart's Columns list every column and type;
    the alert of the failed day links to this UI."""
    raw = ("raw/listen_events", "contract")
    counts, passed = _check_partitions(page, port, *raw, "Passed", "raw-check-partitions.png")
    assert passed == sorted(raw_days) and counts["Failed"] == counts["Skipped"] == 0, counts
    check = "primary_key_hub_user_user_pk"
    counts, passed = _check_partitions(page, port, "vault/hub_user", check, "Passed", "dbt-check-partitions.png")
    assert passed == sorted(built_days) and counts["Failed"] == counts["Skipped"] == 0, counts
    page.get_by_role("tab", name="Overview").last.click()  # the check's own Overview: what it asserts
    page.get_by_text("is the primary key of hub_user").wait_for(timeout=30_000)
    assert "No description provided" not in page.inner_text("body")

    # One day made to fail the test: a user key that an earlier day loaded, loaded again that day.
    broken = "2026-11-21"
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    (user_pk,) = con.execute(
        f"INSERT INTO vault.hub_user SELECT * REPLACE (DATE '{broken}' AS load_date) FROM vault.hub_user "
        "ORDER BY user_pk LIMIT 1 RETURNING user_pk"
    ).fetchone()
    con.close()
    done = audio_dwh(home, "run", "--start", broken, "--end", broken, "--users", "150")
    assert done.returncode == 1, done.stdout + done.stderr
    counts, failed = _check_partitions(page, port, "vault/hub_user", check, "Failed", "dbt-check-failed-day.png")
    assert failed == [broken] and counts["Passed"] == len(built_days), counts
    page.locator(f'span:text-is("{broken}")').first.click()  # the day's row: its latest result
    page.get_by_text("failing_rows").wait_for(timeout=30_000)
    page.get_by_text("[Show Markdown]").first.click()  # the failing rows, a markdown table
    assert user_pk in page.get_by_role("dialog").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dbt-check-failing-rows.png"), full_page=True)

    # The mart's Columns: every column of the built table, with its type.
    _open(page, f"http://127.0.0.1:{port}/assets/marts/mart_song_play")
    page.get_by_text("Column name").wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "mart-columns.png"), full_page=True)
    text = page.inner_text("body")
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'marts' AND table_name = 'mart_song_play' ORDER BY ordinal_position"
    ).fetchall()
    con.close()
    shown = text[text.index("Column name") :]
    assert len(columns) == 16 and all(re.search(rf"\b{name}\s+{data_type}\b", shown) for name, data_type in columns)
    assert "unserializable" not in text

    # The alert the failed day raised (from the daemon `make dev` started) links to this UI's port.
    deadline = time.monotonic() + 120
    while not any(f"127.0.0.1:{port}/runs/" in json.dumps(body) for _, body in alerts.received):
        assert time.monotonic() < deadline, alerts.received
        time.sleep(2)


def _screenshot_asset_graph(page, port: int) -> None:
    page.set_viewport_size({"width": 1600, "height": 1000})
    _open(page, f"http://127.0.0.1:{port}/asset-groups")
    page.wait_for_selector("text=raw", timeout=60_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "asset-graph.png"), full_page=True)
    text = page.inner_text("body")
    assert all(group in text for group in ("landing", "raw", "staging", "vault", "marts", "dashboard"))
    assert "Join the Dagster community" not in text
    assert (ARTIFACTS / "asset-graph.png").stat().st_size > 20_000


def test_dev_serves_the_assets_and_the_cli_runs_on_loopback(tmp_path: Path, reliability):
    # `make run` as a newcomer runs it: the default days, the most recent complete ones.
    done = audio_dwh(tmp_path, "run", "--users", "150")
    assert done.returncode == 0, done.stdout + done.stderr
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    default_days = [(yesterday - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    port = free_port()
    alerts = Receiver()
    env = {**os.environ, "AUDIO_DWH_HOME": str(tmp_path), "AUDIO_DWH_USERS": "150",
           "AUDIO_DWH_ALERT_WEBHOOK_URL": alerts.url}  # fmt: skip
    env.pop("DAGSTER_HOME", None)
    env.pop("AUDIO_DWH_UI_URL", None)
    log = open(tmp_path / "dev.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "audio_dwh.cli", "dev", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    browser_context = sync_playwright().start()
    browser = browser_context.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_FLAGS)
    page = browser.new_page(viewport={"width": 1600, "height": 3000})  # tall: every partition row is drawn
    ARTIFACTS.mkdir(exist_ok=True)
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
        assert [r["status"] for r in runs] == ["SUCCESS"] * 3
        assert sorted(t["value"] for r in runs for t in r["tags"] if t["key"] == "dagster/partition") == default_days
        # One backfill policy for every asset (the dialog still says "varying": docs/orchestration.md, Backfills).
        assert {json.dumps(n["backfillPolicy"]) for n in data["assetNodes"]} == {
            json.dumps({"policyType": "SINGLE_RUN", "maxPartitionsPerRun": None})
        }
        assert f"-h 127.0.0.1 -p {port}" in (tmp_path / "dev.log").read_text(), "bound to loopback only"

        # Every asset's upstream edges: the lineage runs unbroken landing -> raw -> ... -> dashboard.
        assert nodes["staging/stg_listen_events"]["dependencyKeys"] == [{"path": ["raw", "listen_events"]}]
        assert {"path": ["marts", "mart_song_play"]} in nodes["reports/daily_dashboard"]["dependencyKeys"]
        assert all(n["dependencyKeys"] for k, n in nodes.items() if not k.startswith("landing/"))

        # First contact: once the freshness sensor has judged the default days, no check is red.
        _wait_for_freshness_checks(tmp_path)
        for asset in ("raw/listen_events", "marts/mart_song_play"):
            listed = _check_list(page, port, asset)
            assert "freshness_check" in listed and "Failed" not in listed, (asset, listed)
        page.screenshot(path=str(ARTIFACTS / "first-contact-checks.png"), full_page=True)

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
        seven_days = [f"2026-11-{d:02d}" for d in range(14, 21)]
        for day in seven_days:
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
        _what_the_ui_shows_per_day(page, port, tmp_path, raw_days=default_days + days + week + seven_days,
                                   built_days=default_days + days + week, alerts=alerts)  # fmt: skip
        _screenshot_asset_graph(page, port)
    finally:
        browser.close()
        browser_context.stop()
        alerts.shutdown()
        stop_dev(server)
        log.close()
