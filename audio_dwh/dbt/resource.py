"""The dbt resource: `dbt build` in the run's own process (dbt-core's programmatic dbtRunner) on the
parse the project keeps, with the same selection and the same Dagster events as dagster-dbt's
`dbt.cli(...).stream()`.

dagster-dbt starts dbt as a subprocess: a second Python start and dbt's imports, then a parse of the
whole project whenever the profile differs from the last parse's (the DuckDB profile holds the
warehouse file's path). In this process dbt's modules are already imported (the asset graph needs
them) and the kept parse is read, not made again (project.kept_parse). The hooks this uses are
dagster-dbt's own (pinned <0.30); test_dbt_resource.py fails if they change.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_EXCLUDE_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    DAGSTER_DBT_SELECTOR_METADATA_KEY,
    get_manifest_and_translator_from_dbt_assets,
    get_subset_selection_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from audio_dwh.dbt.project import DBT_PROJECT_DIR, keep_partial_parse, kept_parse, kept_state, seed_partial_parse

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult
    from dbt.contracts.graph.manifest import Manifest


@dataclass(frozen=True)
class DbtBuild:
    """What a `dbt build` gave: its Dagster events (an Output per model built, an AssetCheckResult per
    test), its target folder (dbt.log, compiled SQL), run_results.json as read, and whether it held."""

    events: list[Any]
    target_path: Path
    run_results: dict[str, Any]
    success: bool


class DbtCli(DbtCliResource):
    def build(
        self, args: Sequence[str], context: dg.AssetExecutionContext, target: str, database: str | None
    ) -> DbtBuild:
        """`dbt build <args>` on the profile's `target` over the context's selected models and tests.
        `database` is the name the profile gives the warehouse: with it, dbt runs on the kept parse if
        that parse was made for it; without it (or with no such parse) dbt parses as it would on its
        own, and that parse is kept for the target's next run."""
        from dbt_common.events.functions import msg_to_dict

        manifest, translator, project = get_manifest_and_translator_from_dbt_assets([context.assets_def])
        selection, indirect = get_subset_selection_for_context(
            context=context,
            manifest=manifest,
            select=context.op.tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
            exclude=context.op.tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY),
            selector=context.op.tags.get(DAGSTER_DBT_SELECTOR_METADATA_KEY),
            dagster_dbt_translator=translator,
            current_dbt_indirect_selection_env=os.getenv("DBT_INDIRECT_SELECTION"),
        )
        project_dir = Path(self.project_dir)
        target_path = project_dir / self._get_unique_target_path(context=context)
        results: list[dict[str, Any]] = []

        def keep_results(event: Any) -> None:  # dbt calls it for each of its events, from its threads
            if event.info.name in ("LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult"):
                results.append(msg_to_dict(event))

        command = ["build", *args, "--target", target, *selection,
                   *(["--indirect-selection", indirect] if indirect else []), "--no-version-check"]  # fmt: skip
        parsed = kept_parse(database) if database else None
        kept = kept_state(target)
        if parsed is None:
            seed_partial_parse(target_path, kept)
        context.log.info(f"dbt {' '.join(command)} ({'on the kept parse' if parsed else 'parsing first'})")
        outcome = invoke_dbt(command, target_path, target_path, parsed, [keep_results], project_dir,
                             Path(self.profiles_dir or project_dir))  # fmt: skip
        if outcome.exception is not None and not isinstance(outcome.exception, Exception):
            raise outcome.exception  # an interrupt (Ctrl-C, SIGTERM through Dagster): the run stops here
        if outcome.exception is not None:  # dbt stopped before its nodes' results: say why
            context.log.error(f"dbt: {outcome.exception}")
        if parsed is None:
            keep_partial_parse(target_path, kept)
        run_results_path = target_path / "run_results.json"
        run_results = json.loads(run_results_path.read_bytes()) if run_results_path.exists() else {}
        events = [
            event
            for raw in results
            for event in DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={}).to_default_asset_events(
                manifest=manifest, dagster_dbt_translator=translator, context=context, target_path=target_path,
                project=project,
            )
        ]  # fmt: skip
        return DbtBuild(events, target_path, run_results, outcome.success)


NODE_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot"})


def invoke_dbt(
    args: Sequence[str],
    target_path: Path,
    log_path: Path,
    parsed: Manifest | None = None,
    callbacks: Sequence[Callable[[Any], None]] = (),
    project_dir: Path = DBT_PROJECT_DIR,
    profiles_dir: Path = DBT_PROJECT_DIR,
) -> dbtRunnerResult:
    """`dbt <args>` on the project in this process (dbt-core's dbtRunner), on `parsed` if given (else
    dbt parses), sending no usage statistics; what dbt opened here is closed when it returns.

    A command that runs nodes writes run_results.json but not the manifest: dbt would write the whole
    parsed project again (manifest.json, its graph) after every build, a tenth of a small day's dbt
    time, for a copy of the parse nobody reads."""
    from dbt.artifacts.schemas.run import RunExecutionResult
    from dbt.cli.main import dbtRunner

    runs_nodes = args[0] in NODE_COMMANDS
    command = [*args, "--project-dir", str(project_dir), "--profiles-dir", str(profiles_dir),
               "--target-path", str(target_path), "--log-path", str(log_path),
               "--no-send-anonymous-usage-stats", "--no-use-colors",
               *(["--no-write-json"] if runs_nodes else [])]  # fmt: skip
    try:
        outcome = dbtRunner(manifest=parsed, callbacks=list(callbacks)).invoke(command)
    finally:
        _release_connections()
    if runs_nodes and isinstance(outcome.result, RunExecutionResult):
        target_path.mkdir(parents=True, exist_ok=True)
        outcome.result.write(str(target_path / "run_results.json"))  # dbt's own artifact, as it writes it
    return outcome


@contextmanager
def dbt_environment(values: Mapping[str, str]) -> Iterator[None]:
    """The environment dbt's profile and macros read, set for the length of a dbt invocation in this
    process and restored after it."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _release_connections() -> None:
    """Close what dbt opened in this process: its DuckDB handle would otherwise hold the warehouse
    file (locking out the next run's loads) until the process ends."""
    from dbt.adapters.factory import reset_adapters

    reset_adapters()
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # a BigQuery-only install
        return
    DuckDBConnectionManager.close_all_connections()
    gc.collect()
