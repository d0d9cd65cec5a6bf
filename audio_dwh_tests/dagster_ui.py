"""`make dev` as the tests meet it: the server started the way people start it on a home, its GraphQL
API, the runs and backfills launched through it, and chromium pages of its UI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from audio_dwh.events.contract import TOPICS
from audio_dwh.quality.raw_checks import RAW_CHECKS
from audio_dwh_tests.conftest import DEFS, free_port
from audio_dwh_tests.test_cli import ROOT

ARTIFACTS = Path(__file__).parent / "artifacts"
STOP_SECONDS = 5  # issue 33: `make dev` stops within 5 s, its daemon and code servers too
BROWSER_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

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
ASSET_NODES = "{ assetNodes { assetKey { path } } }"


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def stop_dev(server: subprocess.Popen, ctrl_c: bool = False) -> float:
    """Stop `make dev` as a person does, `kill PID` (SIGTERM to the command) or Ctrl-C (SIGINT to its
    whole process group, as a terminal sends it); returns the seconds until every process of the group
    (webserver, daemon, code servers) has exited. Fails if any is left after STOP_SECONDS (then killed)."""
    started = time.monotonic()
    if ctrl_c:
        os.killpg(server.pid, signal.SIGINT)
    else:
        server.terminate()
    while time.monotonic() - started < STOP_SECONDS:
        server.poll()  # reaps the command itself; its children are reparented and reaped elsewhere
        if not live_in_group(server.pid):
            return time.monotonic() - started
        time.sleep(0.1)
    left = live_in_group(server.pid)
    commands = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:100].decode() for pid in left]
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    raise AssertionError(
        f"`make dev` still running {STOP_SECONDS} s after {'Ctrl-C' if ctrl_c else 'SIGTERM'}: {commands}"
    )


def live_in_group(group: int) -> list[int]:
    """The processes of a process group still alive. A process counts as gone once every one of its
    threads has: its main thread turns zombie first, while DuckDB's threads may still hold the open
    warehouse file and its lock."""
    alive = set()
    for stat in Path("/proc").glob("[0-9]*/task/[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the thread ended while we looked
            continue
        if int(fields[2]) == group and fields[0] not in ("Z", "X"):  # fields: state, parent, process group
            alive.add(int(stat.parent.parent.parent.name))
    return sorted(alive)


def dev_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment `make dev` gets on this home: the home, nothing of the session's own instance."""
    env = {**os.environ, "AUDIO_DWH_HOME": str(home), **extra}
    env.pop("DAGSTER_HOME", None)
    env.pop("AUDIO_DWH_UI_URL", None)
    return env


def start_dev(home: Path, port: int, env: dict[str, str]) -> subprocess.Popen:
    """`audio-dwh dev` on the port, in a session of its own, logging to home/dev.log; returned once its
    code location is loaded."""
    log = open(home / "dev.log", "a")
    # Started as a shell without job control starts a command in the background: SIGINT ignored.
    server = subprocess.Popen([sys.executable, "-m", "audio_dwh.cli", "dev", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # fmt: skip
    log.close()  # the child holds its own descriptor
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if graphql(port, ASSET_NODES)["data"]["assetNodes"]:
                return server
        except (OSError, KeyError, TypeError):
            pass
        time.sleep(1)
    stop_dev(server)
    raise AssertionError((home / "dev.log").read_text()[-3000:])


@contextmanager
def running_dev(home: Path, ctrl_c: bool = False, **extra_env: str) -> Iterator[int]:
    """`make dev` on this home on a free port; yields the port once the assets are served, then stops
    it (stop_dev)."""
    port = free_port()
    server = start_dev(home, port, dev_env(home, **extra_env))
    try:
        yield port
    finally:
        stop_dev(server, ctrl_c)


def repository(port: int) -> dict[str, str]:
    location = graphql(port, LOCATION)["data"]["workspaceOrError"]["locationEntries"][0]["name"]
    return {"repositoryName": "__repository__", "repositoryLocationName": location}


def launch_day(port: int, day: str, asset_selection: list[dict] | None = None) -> str:
    """A daily_job run of one day launched as the UI's Launchpad launches it; its run id."""
    selector = {**repository(port), "jobName": "daily_job"}
    if asset_selection is not None:
        selector["assetSelection"] = asset_selection
    params = {
        "selector": selector,
        "mode": "default",
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": day}]},
    }
    launched = graphql(port, LAUNCH_RUN, {"executionParams": params})["data"]["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def launch_backfill(port: int, params: dict) -> str:
    launched = graphql(port, BACKFILL, {"params": params})["data"]["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def wait_for_backfill(port: int, backfill_id: str, home: Path) -> None:
    query = f'{{ partitionBackfillOrError(backfillId: "{backfill_id}") {{ ... on PartitionBackfill {{ status }} }} }}'
    deadline, status = time.monotonic() + 420, None
    while time.monotonic() < deadline:
        status = graphql(port, query)["data"]["partitionBackfillOrError"]["status"]
        if status in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"):
            break
        time.sleep(2)
    assert status in ("COMPLETED", "COMPLETED_SUCCESS"), (status, (home / "dev.log").read_text()[-3000:])


def wait_for_runs(home: Path, run_ids: list[str]) -> list[str]:
    """Each run's final status, once all have finished (at most 5 minutes)."""
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            runs = [instance.get_run_by_id(run_id) for run_id in run_ids]
            if all(run.is_finished for run in runs):
                break
            time.sleep(2)
        return [run.status.value for run in runs]
    finally:
        instance.dispose()


def assert_backfill_complete(home: Path, backfill_id: str, days: list[str], asset_names: set[str]) -> list:
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
        raw_checks = [c.name for c in RAW_CHECKS]
        assert {(f"raw/{t}", c, d) for t in TOPICS for c in raw_checks for d in days} <= evaluated
        # and every other check of the graph (dbt tests judge the run's whole range) but the freshness
        # checks, which judge "now" and run from their own sensor.
        checks = {(k.asset_key.to_user_string(), k.name) for k in DEFS.resolve_asset_graph().asset_check_keys}
        missing = {c for c in checks if c[1] != "freshness_check"} - {(a, c) for a, c, _ in evaluated}
        assert not missing, sorted(missing)
        print(f"backfill {backfill_id}: {len(runs)} run(s), {len(evaluated)} check evaluations")
        return runs
    finally:
        instance.dispose()


@contextmanager
def chromium_page(height: int = 3000) -> Iterator:
    """A page in Debian's chromium; tall by default, so every partition row of a check is drawn."""
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_FLAGS)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield browser.new_page(viewport={"width": 1600, "height": height})
    finally:
        browser.close()
        playwright.stop()


def open_page(page, url: str) -> None:
    page.goto(url, wait_until="networkidle", timeout=120_000)
    # A first-visit newsletter dialog covers the page; it appears a moment after it.
    dialog = page.locator("text=Join the Dagster community")
    try:
        dialog.wait_for(timeout=5_000)
        page.locator("button:has-text('Skip')").first.click()
        dialog.wait_for(state="hidden", timeout=15_000)
    except PlaywrightTimeout:
        pass  # no dialog this time
