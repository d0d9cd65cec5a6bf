"""The dbt project as Dagster sees it, with a manifest kept in step with the project's files."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dagster_dbt import DbtProject

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

PARTIAL_PARSE = "partial_parse.msgpack"
# dagster-dbt writes every run's artifacts (log, manifest, parse state, compiled SQL) to a
# folder of its own under target/ and never removes it: the newest ones are kept for a look after a run.
KEPT_RUN_TARGETS = 20

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Where the project's parse state lives and dagster-dbt makes each run's own target folder.
PROJECT_TARGET = dbt_project.project_dir / dbt_project.target_path


def _newest_source_mtime(project_dir: Path) -> float:
    files = [p for folder in ("models", "macros", "tests") for p in (project_dir / folder).rglob("*") if p.is_file()]
    files += [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    return max(p.stat().st_mtime for p in files)


def prepare_manifest(project: DbtProject = dbt_project) -> Path:
    """Run `dbt parse` when the manifest is missing or older than the project's files.

    A fresh clone has no manifest, and dagster-dbt needs one to build the asset graph. A lock keeps
    the processes that load the code location at once (webserver, daemon, runs) from parsing twice.
    """
    manifest = project.manifest_path
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime(project.project_dir):
            return manifest
        dbt = Path(sys.executable).with_name("dbt")
        done = subprocess.run(
            [str(dbt), "parse", "--profiles-dir", str(project.profiles_dir), "--target-path", str(manifest.parent),
             "--quiet"],
            cwd=project.project_dir,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
            capture_output=True,
            text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"dbt parse failed in {project.project_dir}:\n{done.stdout}{done.stderr}")
    return manifest


def kept_state(target: str, project_target: Path = PROJECT_TARGET) -> Path:
    """Where the project keeps its parse state for a dbt target: one per target, so that a BigQuery
    run between two DuckDB runs (or the other way round) does not make the next one parse in full."""
    return project_target / (PARTIAL_PARSE if target == "duckdb" else f"partial_parse.{target}.msgpack")


def seed_partial_parse(run_target: Path, kept: Path) -> None:
    """Give a run that must parse the kept state, so that dbt parses only what changed (what
    dagster-dbt does before each command)."""
    if kept.exists():
        run_target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, run_target / PARTIAL_PARSE)


def keep_partial_parse(run_target: Path, kept: Path) -> None:
    """Keep the parse state a run's parse wrote, for the next run (each run has a target folder of
    its own). Replaced atomically: another process may be reading it."""
    state = run_target / PARTIAL_PARSE
    if state.exists():
        temporary = kept.with_name(f".{kept.name}.{os.getpid()}")
        shutil.copyfile(state, temporary)
        os.replace(temporary, kept)


def prune_run_targets(project_target: Path = PROJECT_TARGET, keep: int = KEPT_RUN_TARGETS) -> list[Path]:
    """Remove all but the newest `keep` run folders dagster-dbt left in target/ (a daily job would
    otherwise grow it by more than a GB a year). Runs still going have the newest folders; with at most a few
    runs at once, they are among those kept. Returns the folders removed."""
    runs = sorted(
        (folder for folder in project_target.glob("dbt_models-*") if folder.is_dir()),
        key=lambda folder: folder.stat().st_mtime,
        reverse=True,
    )
    for folder in runs[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
    return runs[keep:]


def kept_parse(database: str, project_target: Path = PROJECT_TARGET) -> Manifest | None:
    """The parsed project the last parse kept (its partial_parse.msgpack), for dbt to run on without
    parsing again; None when dbt must parse: no state kept, a project file newer than it, an
    environment variable it read that now reads otherwise, or another database.

    dbt itself would parse the whole project again whenever the profile differs from the one it
    parsed under, and the DuckDB profile holds the warehouse file's path: every home, and each of
    the test suite's warehouses, would pay a full parse on its first run. What the path gives the
    parsed project is only the database name (the file's stem), so that is what is compared.
    """
    from dbt.constants import DEFAULT_ENV_PLACEHOLDER
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder

    state = kept_state("duckdb", project_target)
    try:
        if state.stat().st_mtime < _newest_source_mtime(DBT_PROJECT_DIR):
            return None
        manifest = Manifest.from_msgpack(state.read_bytes(), decoder=extended_mashumuro_decoder)
    except (OSError, ValueError, TypeError, KeyError):  # none kept, half replaced, or another dbt's
        return None
    if any(os.environ.get(name, DEFAULT_ENV_PLACEHOLDER) != value for name, value in manifest.env_vars.items()):
        return None
    databases = {node.database for node in [*manifest.nodes.values(), *manifest.sources.values()]}
    if databases != {database}:
        return None
    manifest.build_parent_and_child_maps()
    manifest.build_group_map()
    manifest.build_flat_graph()
    return manifest
