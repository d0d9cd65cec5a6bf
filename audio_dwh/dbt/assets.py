"""dbt models as Dagster assets: staging/<model> and vault/<model>, partitioned by day."""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_gcp import BigQueryResource

from audio_dwh.dbt.failure import failure_message
from audio_dwh.dbt.project import dbt_project, keep_partial_parse, prepare_manifest, prune_run_targets
from audio_dwh.partitions import daily_partitions, range_backfill
from audio_dwh.quality.freshness import FRESHNESS_POLICY
from audio_dwh.resources import WarehouseResource
from audio_dwh.warehouse_sql import fetch, table

# dbt folder -> Dagster layer (asset key prefix and group).
LAYERS = {"staging": "staging", "raw_vault": "vault", "marts": "marts"}


class AudioDwhTranslator(DagsterDbtTranslator):
    """Keys and groups by layer; sources keep the raw asset keys their meta names."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id)
        if node is None or node["resource_type"] != "model":
            return spec
        layer = LAYERS[node["fqn"][1]]
        spec = spec.replace_attributes(key=dg.AssetKey([layer, node["name"]]), group_name=layer)
        return spec.replace_attributes(freshness_policy=FRESHNESS_POLICY) if layer == "marts" else spec


@contextmanager
def _dbt_environment(warehouse: WarehouseResource, days: Mapping[str, str]) -> Iterator[None]:
    """What profiles.yml and macros/load_window.sql read: the resource's warehouse file and the run's
    days. Passed in the environment, not as --vars: changed vars make dbt parse the whole project
    again (~3 s a run); the models read the days only when they run, so a new day re-parses nothing
    (on BigQuery, the marts' partition list re-parses those six files)."""
    values = {
        "AUDIO_DWH_WAREHOUSE": warehouse.database,
        "AUDIO_DWH_MIN_DATE": days["min_date"],
        "AUDIO_DWH_MAX_DATE": days["max_date"],
    }
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


@dbt_assets(
    manifest=prepare_manifest(dbt_project),
    project=dbt_project,
    dagster_dbt_translator=AudioDwhTranslator(),
    partitions_def=daily_partitions,
    # A backfill goes to dbt as one run over its whole range: the vault macros give exactly the
    # result of loading the days one by one (tested), at a fraction of the cost.
    backfill_policy=range_backfill,
    pool="duckdb",
    name="dbt_models",
)
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, bigquery: BigQueryResource
):
    """dbt build over the partition range, on the warehouse's target; row counts are the rows whose
    day (load_date, or a mart's day column) is in it."""
    window = context.partition_time_window
    days = {
        "min_date": window.start.date().isoformat(),
        "max_date": (window.end - timedelta(days=1)).date().isoformat(),
    }
    with _dbt_environment(warehouse, days):
        invocation = dbt.cli(["build", "--target", warehouse.target], context=context, raise_on_error=False)
        events = list(invocation.stream())
    keep_partial_parse(invocation.target_path)
    prune_run_targets()
    # Counted once dbt has exited and released the file (dagster-dbt's fetch_row_counts would open
    # DuckDB inside this process with another configuration, locking out the next loads).
    nodes = invocation.manifest["nodes"]
    tables = {
        event.output_name: nodes[event.metadata["unique_id"].value]
        for event in events
        if isinstance(event, dg.Output) and "unique_id" in event.metadata
    }
    with warehouse.reader(bigquery) as reader:
        rows = {
            name: fetch(
                reader,
                f"SELECT count(*) FROM {table(reader, node['schema'], node['alias'])} "
                f"WHERE {node['config'].get('meta', {}).get('day_column', 'load_date')} "
                f"BETWEEN DATE '{days['min_date']}' AND DATE '{days['max_date']}'",  # validated partition days
            )[0][0]
            for name, node in tables.items()
        }
    for event in events:
        if isinstance(event, dg.Output) and event.output_name in rows:
            event = event.with_metadata({**event.metadata, "dagster/row_count": rows[event.output_name]})
        yield event
    # What dbt built and tested is recorded above, then the step fails with one readable message.
    if not invocation.is_successful():
        span = days["min_date"] if days["min_date"] == days["max_date"] else f"{days['min_date']}..{days['max_date']}"
        results = invocation.target_path / "run_results.json"
        run_results = invocation.get_artifact("run_results.json") if results.exists() else {}
        log = invocation.target_path / "dbt.log"
        raise dg.Failure(description=failure_message(run_results, nodes, LAYERS, span, log), allow_retries=False)
