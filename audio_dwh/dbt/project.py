"""The dbt project as Dagster sees it, with a manifest kept in step with the project's files."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

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


def keep_partial_parse(run_target: Path, project_target: Path = PROJECT_TARGET) -> None:
    """Keep a finished run's parse state for the next run.

    dagster-dbt gives every run a target folder of its own and seeds it with the project's
    partial_parse.msgpack; the one `dbt parse` wrote above was made under another profile (the
    warehouse file comes from the environment), so without this every run parses the whole project
    again. Replaced atomically: another process may be copying it.
    """
    state = run_target / PARTIAL_PARSE
    if state.exists():
        kept = project_target / PARTIAL_PARSE
        temporary = kept.with_name(f".{PARTIAL_PARSE}.{os.getpid()}")
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
