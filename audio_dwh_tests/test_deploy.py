"""deploy/dagster.yaml against a real PostgreSQL server (Debian's), started by the test."""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from audio_dwh.resources import build_resources
from audio_dwh_tests.conftest import LAYERS, free_port, require

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]
# Debian installs the server's programs under /usr/lib/postgresql/<major>/bin; take the newest.
POSTGRES_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), default=Path("/none"))


def _as_postgres(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the postgres user the Debian package creates."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@pytest.fixture
def postgres():
    require(
        POSTGRES_BIN / "initdb", f"PostgreSQL not found in {POSTGRES_BIN}: `make test` installs Debian's postgresql"
    )
    # Not under pytest's tmp_path: the postgres user must be able to reach the folder.
    folder = Path(tempfile.mkdtemp(prefix="audio-dwh-postgres-"))
    data, sockets = folder / "pgdata", folder / "pgsock"
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in (folder, sockets):
            shutil.chown(path, "postgres")
    subprocess.run(_as_postgres(str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", "dagster", "--auth=trust"),
                   check=True, capture_output=True)  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        _as_postgres(str(POSTGRES_BIN / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
                     "-k", str(sockets)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg2.connect(host="127.0.0.1", port=port, user="dagster", dbname="postgres").close()
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        con = psycopg2.connect(host="127.0.0.1", port=port, user="dagster", dbname="postgres")
        con.autocommit = True
        con.cursor().execute("CREATE DATABASE dagster")
        con.close()
        yield {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(port), "DAGSTER_PG_USER": "dagster",
               "DAGSTER_PG_PASSWORD": "unused-with-trust", "DAGSTER_PG_DB": "dagster"}  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def test_the_production_instance_keeps_runs_events_and_schedules_in_postgres(postgres, settings, monkeypatch, tmp_path):
    for name, value in postgres.items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        result = dg.materialize(
            [LAYERS.landing, *LAYERS.raw], partition_key="2026-11-02", resources=build_resources(settings),
            instance=instance,
        )  # fmt: skip
        assert result.success
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert instance.get_materialized_partitions(dg.AssetKey(["raw", "listen_events"])) == {"2026-11-02"}
    finally:
        instance.dispose()
    con = psycopg2.connect(host="127.0.0.1", port=int(postgres["DAGSTER_PG_PORT"]), user="dagster", dbname="dagster")
    cursor = con.cursor()
    cursor.execute("SELECT count(*) FROM runs WHERE run_id = %s AND status = 'SUCCESS'", [result.run_id])
    assert cursor.fetchone() == (1,)
    cursor.execute("SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
                   [result.run_id])  # fmt: skip
    assert cursor.fetchone()[0] == 5  # landing + four raw tables
    con.close()
