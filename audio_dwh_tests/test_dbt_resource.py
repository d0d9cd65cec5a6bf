"""dbt builds in the run's own process on the kept parse and leaves the warehouse file free; the kept
parse is refused whenever it could be stale; a run leaves its parse state for the next one, and old
runs' target folders do not pile up."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dbt.parser.manifest import extended_mashumaro_encoder

from audio_dwh.dbt.project import (
    DBT_PROJECT_DIR,
    PARTIAL_PARSE,
    PROJECT_TARGET,
    keep_partial_parse,
    kept_parse,
    kept_state,
    prune_run_targets,
    seed_partial_parse,
)
from audio_dwh.resources import build_resources
from audio_dwh_tests.conftest import LAYERS

DBT = str(Path(sys.executable).with_name("dbt"))


def test_dbt_builds_in_the_runs_process_on_the_kept_parse_and_leaves_the_file_free(settings):
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([LAYERS.landing, *LAYERS.raw, LAYERS.dbt], partition_key="2026-11-02",
                            resources=build_resources(settings), instance=instance)  # fmt: skip
    assert result.success
    said = [entry.user_message for entry in instance.all_logs(result.run_id) if entry.user_message.startswith("dbt ")]
    assert len(said) == 1 and said[0].endswith("(on the kept parse)"), said
    (target,) = PROJECT_TARGET.glob(f"dbt_models-{result.run_id[:7]}-*")
    # dbt ran (its results are there) and parsed nothing (a parse writes its state there)
    assert (target / "run_results.json").is_file() and not (target / PARTIAL_PARSE).exists()
    built = {e.asset_key.path[0] for e in result.get_asset_materialization_events()}
    assert {"staging", "vault", "marts"} <= built
    # Another process can write the warehouse at once: dbt's handle in this process is closed.
    opened = subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).close()",
                             str(settings.warehouse)], capture_output=True, text=True)  # fmt: skip
    assert opened.returncode == 0, opened.stderr


@pytest.fixture(scope="module")
def parse_state(tmp_path_factory) -> Path:
    """A target folder holding what `dbt parse` keeps for a warehouse named "warehouse"."""
    target = tmp_path_factory.mktemp("parsed")
    env = {
        **os.environ,
        "AUDIO_DWH_WAREHOUSE": str(target / "warehouse.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    subprocess.run([DBT, "parse", "--profiles-dir", ".", "--target-path", str(target), "--quiet"],
                   cwd=DBT_PROJECT_DIR, env=env, check=True)  # fmt: skip
    return target


def test_the_kept_parse_serves_only_the_database_and_environment_it_was_made_for(parse_state, tmp_path, monkeypatch):
    manifest = kept_parse("warehouse", parse_state)
    assert manifest is not None and sum(n.resource_type == "model" for n in manifest.nodes.values()) > 40
    assert kept_parse("another_warehouse", parse_state) is None  # dbt would name every relation after it

    # A parse that read an environment variable serves only while it reads the same.
    manifest.env_vars["AUDIO_DWH_SOME_SETTING"] = "a"
    state = tmp_path / PARTIAL_PARSE
    state.write_bytes(manifest.to_msgpack(extended_mashumaro_encoder))
    monkeypatch.delenv("AUDIO_DWH_SOME_SETTING", raising=False)
    assert kept_parse("warehouse", tmp_path) is None
    monkeypatch.setenv("AUDIO_DWH_SOME_SETTING", "a")
    assert kept_parse("warehouse", tmp_path) is not None
    monkeypatch.setenv("AUDIO_DWH_SOME_SETTING", "b")
    assert kept_parse("warehouse", tmp_path) is None

    # Older than a project file: the project changed since.
    os.utime(state, (1_000_000_000, 1_000_000_000))
    monkeypatch.setenv("AUDIO_DWH_SOME_SETTING", "a")
    assert kept_parse("warehouse", tmp_path) is None
    # Cut short, or none at all.
    state.write_bytes(manifest.to_msgpack(extended_mashumaro_encoder)[:5000])
    assert kept_parse("warehouse", tmp_path) is None
    assert kept_parse("warehouse", tmp_path / "none") is None


def test_a_runs_parse_state_replaces_the_one_kept_for_its_target(tmp_path: Path):
    run_target = tmp_path / "run-target"
    run_target.mkdir()
    (run_target / PARTIAL_PARSE).write_bytes(b"state of the last run")
    project_target = tmp_path / "project" / "target"
    project_target.mkdir(parents=True)
    kept = kept_state("duckdb", project_target)
    kept.write_bytes(b"older state")
    keep_partial_parse(run_target, kept)
    assert kept.read_bytes() == b"state of the last run"
    assert [p.name for p in project_target.iterdir()] == [PARTIAL_PARSE]  # no temporary left
    keep_partial_parse(tmp_path / "a run that wrote none", kept)  # nothing to keep: unchanged
    assert kept.read_bytes() == b"state of the last run"
    # BigQuery's parse is kept apart: a run on one target leaves the other's state alone.
    keep_partial_parse(run_target, kept_state("bigquery", project_target))
    assert len(list(project_target.iterdir())) == 2
    seeded = tmp_path / "next-run"
    seed_partial_parse(seeded, kept_state("bigquery", project_target))
    assert (seeded / PARTIAL_PARSE).read_bytes() == b"state of the last run"


def test_only_the_newest_run_folders_stay(tmp_path: Path):
    target = tmp_path / "target"
    runs = [target / f"dbt_models-run{n:02d}-abc" for n in range(25)]
    for age, folder in enumerate(reversed(runs)):  # run24 is the newest
        (folder / "compiled").mkdir(parents=True)
        (folder / "dbt.log").write_text("log")
        os.utime(folder, (1_700_000_000 - age, 1_700_000_000 - age))
    (target / PARTIAL_PARSE).write_bytes(b"state")
    (target / "manifest.json").write_text("{}")
    removed = prune_run_targets(target, keep=20)
    assert sorted(removed) == runs[:5]
    assert sorted(p.name for p in target.iterdir()) == sorted(
        [PARTIAL_PARSE, "manifest.json", *(folder.name for folder in runs[5:])]
    )
