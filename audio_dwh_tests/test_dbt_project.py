"""The dbt project parses, its raw sources are exactly the event contract, and a new day reuses the
last parse."""

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


def _parse(tmp_path: Path, **env: str) -> str:
    """`dbt parse` into tmp_path (its target keeps the parse state); dbt's debug log of the parse."""
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run(
        [str(dbt), "--log-format-file", "text", "--log-level-file", "debug", "parse", "--profiles-dir", ".",
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=DBT_PROJECT, env={**os.environ, "AUDIO_DWH_HOME": str(tmp_path), **env}, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    log = tmp_path / "logs" / "dbt.log"
    text = log.read_text()
    log.unlink()
    return text


def test_dbt_parses_the_project_and_maps_sources_to_raw_assets(tmp_path):
    _parse(tmp_path)
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    sources = {s["name"]: s for s in manifest["sources"].values()}
    assert set(sources) == set(TOPICS)
    for name, source in sources.items():
        assert source["meta"]["dagster"]["asset_key"] == ["raw", name]
        assert list(source["columns"])[: len(TOPICS[name].fields)] == list(TOPICS[name].field_names)


def test_the_next_days_run_reuses_the_parse(tmp_path):
    """Dagster passes a run's days in the environment; the models read them only when they run, so
    a new day changes no parsed file and dbt skips parsing (it re-parsed 13 files, ~2 s, when the
    window was read at parse time)."""
    _parse(tmp_path, AUDIO_DWH_MIN_DATE="2026-10-01", AUDIO_DWH_MAX_DATE="2026-10-01")
    log = _parse(tmp_path, AUDIO_DWH_MIN_DATE="2026-10-02", AUDIO_DWH_MAX_DATE="2026-10-02")
    assert "Partial parsing enabled: 0 files deleted, 0 files added, 0 files changed." in log, log[-3000:]
    assert "Nothing changed, skipping partial parsing." in log
