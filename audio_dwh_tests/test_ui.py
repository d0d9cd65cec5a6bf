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

from audio_dwh_tests.test_cli import ROOT, audio_dwh

LAUNCH = """mutation {
  launchRun(executionParams: {
    selector: {repositoryLocationName: "audio_dwh", repositoryName: "__repository__", jobName: "daily_job"},
    executionMetadata: {tags: [{key: "dagster/partition", value: "2026-11-03"}]}
  }) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}"""
QUERY = """{
  assetNodes { assetKey { path } groupName dependencyKeys { path } }
  runsOrError { ... on Runs { results { jobName status tags { key value } } } }
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_dev_serves_the_assets_and_the_cli_runs_on_loopback(tmp_path: Path):
    done = audio_dwh(tmp_path, "run", "--start", "2026-11-02", "--end", "2026-11-02", "--users", "200")
    assert done.returncode == 0, done.stdout + done.stderr
    port = _free_port()
    env = {**os.environ, "AUDIO_DWH_HOME": str(tmp_path)}
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
        runs = data["runsOrError"]["results"]
        assert [(r["jobName"], r["status"]) for r in runs] == [("daily_job", "SUCCESS")]
        assert {"key": "dagster/partition", "value": "2026-11-02"} in runs[0]["tags"]
        assert f"-h 127.0.0.1 -p {port}" in (tmp_path / "dev.log").read_text(), "bound to loopback only"

        # A run launched from the UI goes through the queue and the multiprocess executor: the
        # "duckdb" pool must keep its four raw loads from fighting over the warehouse file.
        launched = _graphql(port, LAUNCH)["data"]["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        status_query = f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ status }} }} }}'
        deadline, status = time.monotonic() + 180, None
        while time.monotonic() < deadline:
            status = _graphql(port, status_query)["data"]["runOrError"]["status"]
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                break
            time.sleep(2)
        assert status == "SUCCESS", (tmp_path / "dev.log").read_text()[-3000:]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
