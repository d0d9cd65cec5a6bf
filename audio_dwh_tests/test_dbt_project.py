"""The dbt project parses, and its raw sources are exactly the event contract."""

import json
import os
import subprocess
import sys
from pathlib import Path

from audio_dwh.dbt.sources import SOURCES_FILE, render_sources
from audio_dwh.events.contract import TOPICS

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
