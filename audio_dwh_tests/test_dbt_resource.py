"""The dbt resource's shortcuts are truthful, a run leaves its parse state for the next one, and old
runs' target folders do not pile up."""

import os
import re
import subprocess
from pathlib import Path

from dagster_dbt import DbtCliResource
from packaging import version

from audio_dwh.dbt.project import PARTIAL_PARSE, keep_partial_parse, prune_run_targets
from audio_dwh.dbt.resource import DbtCli
from audio_dwh.resources import build_resources


def test_the_known_dbt_version_is_what_the_dbt_executable_reports(settings):
    resource = build_resources(settings)["dbt"]
    assert isinstance(resource, DbtCli)
    output = subprocess.run([resource.dbt_executable, "--version"], capture_output=True, text=True, check=True).stdout
    assert resource._cli_version == version.parse(re.search(r"(\d+\.\d+\.\d+)", output).group(1))
    assert resource._cli_version.major < 2  # dbt Core, not Fusion


def test_the_hooks_it_overrides_still_exist_in_dagster_dbt():
    """If dagster-dbt renames them, the overrides would silently stop saving time: fail instead."""
    assert "_cli_version" in vars(DbtCliResource)
    assert callable(vars(DbtCliResource)["_initialize_dbt_core_adapter"])


def test_a_runs_parse_state_replaces_the_projects(tmp_path: Path):
    run_target = tmp_path / "run-target"
    run_target.mkdir()
    (run_target / PARTIAL_PARSE).write_bytes(b"state of the last run")
    project = tmp_path / "project"
    (project / "target").mkdir(parents=True)
    (project / "target" / PARTIAL_PARSE).write_bytes(b"older state")
    keep_partial_parse(run_target, project / "target")
    assert (project / "target" / PARTIAL_PARSE).read_bytes() == b"state of the last run"
    assert [p.name for p in (project / "target").iterdir()] == [PARTIAL_PARSE]  # no temporary left
    keep_partial_parse(tmp_path / "a run that wrote none", project / "target")  # nothing to keep: unchanged
    assert (project / "target" / PARTIAL_PARSE).read_bytes() == b"state of the last run"


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
