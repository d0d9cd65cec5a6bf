"""The dbt project parses, and its raw sources are exactly the event contract."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audio_dwh.dbt.sources import SOURCES_FILE, render_sources
from audio_dwh.events.contract import TOPICS
from audio_dwh_tests.dbt_helpers import run_dbt

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


def test_committed_sources_are_rendered_from_the_contract():
    assert SOURCES_FILE.read_text(encoding="utf-8") == render_sources(), "run: python -m audio_dwh.dbt.sources"


def test_dbt_parses_the_project_and_maps_sources_to_raw_assets(tmp_path):
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run(
        [str(dbt), "parse", "--profiles-dir", ".", "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path / "logs")],
        cwd=DBT_PROJECT, env={**os.environ, "AUDIO_DWH_HOME": str(tmp_path)}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    sources = {s["name"]: s for s in manifest["sources"].values()}
    assert set(sources) == set(TOPICS)
    for name, source in sources.items():
        assert source["meta"]["dagster"]["asset_key"] == ["raw", name]
        assert list(source["columns"])[: len(TOPICS[name].fields)] == list(TOPICS[name].field_names)


@pytest.mark.parametrize(("limit", "expected"), [("1GB", "953.6 MiB"), ("512MB", "488.2 MiB")])
def test_a_dbt_run_has_the_memory_budget_and_the_in_memory_database_staging_lives_in(
    tmp_path: Path, limit: str, expected: str
):
    """profiles.yml gives each dbt run DuckDB's memory limit (AUDIO_DWH_DBT_MEMORY_LIMIT) and attaches
    the run's in-memory database, where staging lives (spilling past the limit)."""
    query = (
        "select current_setting('memory_limit') as memory_limit, "
        "(select count(*) from duckdb_databases() where database_name = 'run_memory' and path is null) as run_memory"
    )
    out = run_dbt(
        ["show", "--inline", query, "--output", "json"],
        tmp_path / "w.duckdb",
        tmp_path,
        {"AUDIO_DWH_DBT_MEMORY_LIMIT": limit},
    )
    assert json.loads(out[out.index("{") :])["show"] == [{"memory_limit": expected, "run_memory": 1}]
