"""dbt models as Dagster assets: staging/, vault/, business_vault/ and marts/<model>, partitioned by day."""

import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster_dbt import DagsterDbtTranslator, dbt_assets
from dagster_dbt.asset_utils import default_description_fn, get_manifest_and_translator_from_dbt_assets

from audio_dwh.counts import ROWS_OF_RUN_DAYS, TABLE_ROWS
from audio_dwh.dbt.checks import describe_test, failing_rows, judges_run_days
from audio_dwh.dbt.failure import failure_message
from audio_dwh.dbt.lineage import Columns, LineageStore, as_markdown, tables_read
from audio_dwh.dbt.planning import BuildPlan, plan_build, topological_order
from audio_dwh.dbt.project import PROJECT_TARGET, dbt_project, prepare_manifest, prune_run_targets
from audio_dwh.dbt.resource import DbtCli, dbt_environment
from audio_dwh.partitions import range_backfill, run_days
from audio_dwh.quality.day_checks import check_output, day_evaluations
from audio_dwh.warehouse.reading import WarehouseReader, columns_of, fetch_rows, table_ref
from audio_dwh.warehouse.resources import LazyBigQueryResource, WarehouseResource

# dagster-dbt's key for the DbtProject object in each asset's metadata
PROJECT_METADATA_KEY = "dagster_dbt/project"
# ... and for the dbt node each asset and check stands for
UNIQUE_ID_KEY = "dagster_dbt/unique_id"

# dbt folder -> Dagster layer (asset key prefix and group).
LAYERS = {"staging": "staging", "raw_vault": "vault", "business_vault": "business_vault", "marts": "marts"}


class AudioDwhTranslator(DagsterDbtTranslator):
    """Keys and groups by layer; sources keep the raw asset keys their meta names. Tests are checks
    partitioned like their models, each saying what it asserts."""

    def __init__(self, partitions_def: dg.PartitionsDefinition, marts_freshness: dg.FreshnessPolicy):
        super().__init__()
        self.partitions_def = partitions_def
        self.marts_freshness = marts_freshness

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        # The DbtProject object is no metadata a person can read (the UI shows it as "unserializable");
        # the dbt resource knows the project without it.
        spec = spec.replace_attributes(metadata={k: v for k, v in spec.metadata.items() if k != PROJECT_METADATA_KEY})
        node = manifest["nodes"].get(unique_id)
        if node is None or node["resource_type"] != "model":
            return spec
        layer = LAYERS[node["fqn"][1]]
        spec = spec.replace_attributes(key=dg.AssetKey([layer, node["name"]]), group_name=layer)
        return spec.replace_attributes(freshness_policy=self.marts_freshness) if layer == "marts" else spec

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        # The model's own description; its SQL is one click away (the dbt docs, the repository), and
        # dagster-dbt's dump of it, Jinja and all, buried the description in the catalog.
        return default_description_fn(dbt_resource_props, display_raw_sql=False)

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        with warnings.catch_warnings():  # partitioned check specs are a preview of Dagster 1.13, used knowingly
            warnings.simplefilter("ignore", dg.PreviewWarning)
            return dg.AssetCheckSpec(
                spec.name,
                asset=spec.asset_key,
                description=describe_test(manifest["nodes"][unique_id]),
                additional_deps=spec.additional_deps,
                metadata=spec.metadata,
                blocking=spec.blocking,
                partitions_def=self.partitions_def,
            )


def _dbt_values(warehouse: WarehouseResource, days: Mapping[str, str]) -> dict[str, str]:
    """What profiles.yml and macros/load_window.sql read: the resource's warehouse file and the run's
    days. Passed in the environment, not as --vars: changed vars make dbt parse the whole project
    again every run; the models read the days only when they run, so a new day re-parses nothing
    (on BigQuery, the marts' partition list re-parses those six files)."""
    return {
        **warehouse.dbt_profile,
        "AUDIO_DWH_WAREHOUSE": warehouse.database,
        **({"AUDIO_DWH_DUCKDB_MEMORY_LIMIT": warehouse.memory_limit} if warehouse.memory_limit else {}),
        "AUDIO_DWH_MIN_DATE": days["min_date"],
        "AUDIO_DWH_MAX_DATE": days["max_date"],
    }


def build_dbt_assets(
    partitions_def: dg.PartitionsDefinition, marts_freshness: dg.FreshnessPolicy
) -> dg.AssetsDefinition:
    """Every dbt model as an asset and every dbt test as its check, over the days partitions_def holds."""

    @dbt_assets(
        manifest=prepare_manifest(dbt_project),
        project=dbt_project,
        dagster_dbt_translator=AudioDwhTranslator(partitions_def, marts_freshness),
        partitions_def=partitions_def,
        # A backfill goes to dbt as one run over its whole range: the vault macros give exactly the
        # result of loading the days one by one (tested), at a fraction of the cost.
        backfill_policy=range_backfill,
        pool="duckdb",
        name="dbt_models",
    )
    def dbt_models(
        context: dg.AssetExecutionContext,
        dbt: DbtCli,
        warehouse: WarehouseResource,
        bigquery: LazyBigQueryResource,
    ):
        """dbt build over the partition range, on the warehouse's target; each model's materialization
        counts its table's rows and those whose day (load_date, or a mart's day column) is in the range."""
        yield from _build_and_record(context, dbt, warehouse, bigquery)

    return dbt_models


def _build_and_record(
    context: dg.AssetExecutionContext, dbt: DbtCli, warehouse: WarehouseResource, bigquery: LazyBigQueryResource
) -> Iterator[Any]:
    """Runs dbt build over the run's days for the models with work to do (audio_dwh/dbt/planning.py)
    and yields its events, each materialization with its row count and columns, each test's result
    recorded for every day it judged; the models left as they are, and their tests, are recorded too."""
    judged = run_days(context)
    days = {"min_date": judged[0].isoformat(), "max_date": judged[-1].isoformat()}
    span = days["min_date"] if len(judged) == 1 else f"{days['min_date']}..{days['max_date']}"
    manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
    selected = {
        spec.metadata[UNIQUE_ID_KEY]: spec.key for spec in context.assets_def.specs
        if spec.key in context.selected_asset_keys
    }  # fmt: skip
    with warehouse.reader(bigquery) as reader:
        plan = plan_build(manifest, set(selected), reader, days)
    build = None
    if plan.build:
        with dbt_environment(_dbt_values(warehouse, days)):
            # dbt's unit tests check the models' code, not a day's data: the test suite runs them.
            args = ["--exclude-resource-type", "unit_test"]
            if plan.unchanged:
                left = sorted(".".join(manifest["nodes"][uid]["fqn"]) for uid in plan.unchanged)
                args += ["--exclude", " ".join(left)]
            build = dbt.build(args, context, warehouse.target, warehouse.dbt_database)
        prune_run_targets()
    nodes = manifest["nodes"]
    events: list[Any] = list(build.events) if build else []
    run_results = build.run_results if build else {}
    compiled = {r["unique_id"]: r.get("compiled_code") for r in run_results.get("results", [])}
    unchanged = f"nothing new for {span}: neither the model nor its inputs hold rows of these days; left as it was"
    for uid in sorted(plan.unchanged):
        output = context.assets_def.get_output_name_for_asset_key(selected[uid])
        events.append(dg.Output(None, output, metadata={"unique_id": uid, "unchanged": unchanged}))
    events += _unjudged_checks(context, manifest, plan, span)
    tables = {
        event.output_name: nodes[event.metadata["unique_id"].value] for event in events if isinstance(event, dg.Output)
    }
    # Read once dbt has exited and released the file (dagster-dbt's fetch_row_counts would open
    # DuckDB inside this process with another configuration, locking out the next loads).
    with warehouse.reader(bigquery) as reader:
        columns = columns_of(reader, tables_read(manifest, [node["unique_id"] for node in tables.values()]))
        table_metadata = _table_metadata(reader, tables, days, columns)
        failing = {
            (event.asset_key, event.check_name): failing_rows(reader, compiled[event.metadata["unique_id"].value])
            for event in events
            if isinstance(event, dg.AssetCheckResult) and not event.passed
            and compiled.get(event.metadata["unique_id"].value)
        }  # fmt: skip
    keys: dict[str, dg.AssetKey] = {}

    def key_of(unique_id: str) -> dg.AssetKey:
        if unique_id not in keys:
            keys[unique_id] = translator.get_asset_spec(manifest, unique_id, dbt_project).key
        return keys[unique_id]

    store = LineageStore(PROJECT_TARGET)
    for output, node in tables.items():
        found = store.lineage(manifest, node["unique_id"], compiled.get(node["unique_id"]), columns, key_of)
        if found is not None:
            table_metadata[output] |= {"dagster/column_lineage": found, "column_lineage": as_markdown(found)}
    store.save()
    checks = [event for event in events if isinstance(event, dg.AssetCheckResult)]
    outputs = [event for event in events if isinstance(event, dg.Output)]
    yield from (event for event in events if not isinstance(event, (dg.Output, dg.AssetCheckResult)))
    # dbt's and the unchanged models' materializations, merged in an order parents first
    order = topological_order(manifest)
    for event in sorted(outputs, key=lambda output: order[output.metadata["unique_id"].value]):
        yield event.with_metadata({**event.metadata, **table_metadata[event.output_name]})
    # Each test judged every day of the run: its result is recorded for each, after the days'
    # materializations it targets.
    by_asset: dict[dg.AssetKey, dict[str, tuple[dg.AssetCheckResult, bool]]] = {}
    for check in checks:
        key = check.asset_key
        extra = {"judged_days": span}
        if (key, check.check_name) in failing:
            extra["failing_rows"] = dg.MetadataValue.md(failing[(key, check.check_name)])
        spec = context.assets_def.get_spec_for_check_key(dg.AssetCheckKey(key, check.check_name))
        judged_result = check.with_metadata({**check.metadata, **extra})
        by_asset.setdefault(key, {})[check.check_name] = (judged_result, spec.blocking)
    for key, results in by_asset.items():
        yield from day_evaluations(context, key, judged, results)
        for name in results:
            yield check_output(context, key, name)
    # What dbt built and tested is recorded above, then the step fails with one readable message.
    if build and not build.success:
        log = build.target_path / "dbt.log"
        raise dg.Failure(description=failure_message(run_results, nodes, LAYERS, span, log), allow_retries=False)


def _unjudged_checks(
    context: dg.AssetExecutionContext, manifest: Mapping[str, Any], plan: BuildPlan, span: str
) -> Iterator[dg.AssetCheckResult]:
    """The selected tests dbt does not run, their models being left as they are. A test judging the
    run's days finds none of their rows, so it holds; any other test finds its table as it was when
    last judged, so its last result stands (none is recorded for a test never judged yet)."""
    specs = {spec.key: spec for spec in context.assets_def.check_specs}
    for key in sorted(context.selected_asset_check_keys, key=lambda k: k.to_user_string()):
        uid = specs[key].metadata[UNIQUE_ID_KEY]
        test = manifest["nodes"][uid]
        if plan.build and plan.runs_test(test):
            continue
        if judges_run_days(test):
            yield dg.AssetCheckResult(
                asset_key=key.asset_key, check_name=key.name, passed=True,
                metadata={"unique_id": uid, "not_run": f"nothing new to judge: no rows of {span}"},
            )  # fmt: skip
            continue
        last = context.instance.event_log_storage.get_asset_check_execution_history(
            key, limit=1, status={AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}
        )
        if last:
            judged_then = last[0].event.asset_check_evaluation.metadata.get("not_run") if last[0].event else None
            reason = judged_then.value if judged_then else (
                f"nothing new to judge: {key.asset_key.to_user_string()} is as it was when judged in run "
                f"{last[0].run_id}" + (f" for {last[0].partition}" if last[0].partition else "")
            )  # fmt: skip
            yield dg.AssetCheckResult(
                asset_key=key.asset_key,
                check_name=key.name,
                passed=last[0].status == AssetCheckExecutionRecordStatus.SUCCEEDED,
                metadata={"unique_id": uid, "not_run": reason},
            )


def _table_metadata(
    reader: WarehouseReader, tables: Mapping[str, Mapping[str, Any]], days: Mapping[str, str], columns: Columns
) -> dict:
    """Per output: the table's rows, those whose day (load_date, or a mart's day column) is one of the
    run's, and the built table's every column with its engine type and its dbt description."""
    found = {}
    for name, node in tables.items():
        day_column = node["config"].get("meta", {}).get("day_column", "load_date")
        table_rows, rows_of_days = fetch_rows(
            reader,
            f"SELECT count(*), coalesce(sum(CASE WHEN {day_column} BETWEEN DATE '{days['min_date']}' "
            f"AND DATE '{days['max_date']}' THEN 1 ELSE 0 END), 0) "  # validated days
            f"FROM {table_ref(reader, node['schema'], node['alias'])}",
        )[0]
        documented = node.get("columns", {})
        schema = dg.TableSchema(
            columns=[
                dg.TableColumn(column, data_type, description=documented.get(column, {}).get("description") or None)
                for column, data_type in columns.get((node["schema"], node["alias"]), [])
            ]
        )
        found[name] = {TABLE_ROWS: table_rows, ROWS_OF_RUN_DAYS: rows_of_days, "dagster/column_schema": schema}
    return found
