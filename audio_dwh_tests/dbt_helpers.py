"""Running the project's dbt from tests: real dbt subprocesses against a real DuckDB file."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from audio_dwh.dbt.project import DBT_PROJECT_DIR
from audio_dwh_tests.conftest import make_settings

DBT = str(Path(sys.executable).with_name("dbt"))


def run_dbt(
    args: list[str], warehouse: Path, tmp: Path, env: dict[str, str] | None = None, failing_tests_ok: bool = False
) -> str:
    """dbt's output; it must exit 0 (or 1, dbt's code for failed data tests, when failing_tests_ok)."""
    done = subprocess.run(
        [DBT, *args, "--profiles-dir", ".", "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "AUDIO_DWH_WAREHOUSE": str(warehouse), **(env or {})},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode in ((0, 1) if failing_tests_ok else (0,)), done.stdout[-6000:] + done.stderr[-3000:]
    return done.stdout


def run_days(warehouse: Path, tmp: Path, first: str, last: str | None = None) -> None:
    """`dbt run` over the days (the data tests run in the Dagster tests, as asset checks)."""
    run_dbt(["run", "--vars", json.dumps({"min_date": first, "max_date": last or first})], warehouse, tmp)


def throwaway_service_account_key(path: Path, project: str, token_uri: str) -> Path:
    """A service-account key no Google server knows: the client signs with it and asks token_uri."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": project, "private_key_id": "0", "private_key": pem,
        "client_email": f"tests@{project}.iam.gserviceaccount.com", "client_id": "0", "token_uri": token_uri,
    }))  # fmt: skip
    return path


def offline_bigquery_env(tmp: Path) -> dict[str, str]:
    """A BigQuery target that compiles offline: a throwaway service-account key no server knows."""
    path = throwaway_service_account_key(
        tmp / "offline-service-account.json", "audio-dwh-offline", "https://oauth2.googleapis.com/token"
    )
    profile = dataclasses.replace(make_settings(tmp), bq_auth_method="service-account").dbt_profile_environment()
    return {**profile, "AUDIO_DWH_TARGET": "bigquery", "GOOGLE_APPLICATION_CREDENTIALS": str(path)}


def compile_inline(sql: str, warehouse: Path, tmp: Path, env: dict[str, str] | None = None) -> str:
    """The SQL dbt compiles from an inline query (Jinja and the project's macros)."""
    out = run_dbt(
        ["compile", "--no-populate-cache", "--quiet", "--output", "json", "--inline", sql], warehouse, tmp, env
    )
    return json.loads(out[out.index("{") :])["compiled"]
