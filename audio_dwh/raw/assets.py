"""Raw-layer assets: one per eventsim topic, each loading the days of its run from the landing folder or bucket."""

import warnings
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import dagster as dg

from audio_dwh.counts import ROWS_OF_RUN_DAYS, TABLE_ROWS
from audio_dwh.events.assets import LANDING_KEY
from audio_dwh.events.contract import TOPICS, Topic
from audio_dwh.events.raw_schema import LOAD_COLUMNS, SQL_TYPES, table_name
from audio_dwh.events.resources import EventSourceResource
from audio_dwh.partitions import range_backfill, range_metadata, run_days
from audio_dwh.quality.day_checks import check_output, day_evaluations
from audio_dwh.quality.raw_checks import RAW_CHECKS
from audio_dwh.raw.duckdb_loader import LoadResult, load_day
from audio_dwh.warehouse.reading import fetch_rows, table_ref
from audio_dwh.warehouse.resources import LazyBigQueryResource, LazyGCSResource, WarehouseResource
from audio_dwh.warehouse.sql import quote

PREVIEW_ROWS = 5


def column_schema(topic: Topic) -> dg.TableSchema:
    columns = [
        dg.TableColumn(
            f.name,
            SQL_TYPES[f.type],
            description=f.documentation,
            constraints=dg.TableColumnConstraints(nullable=not f.required),
        )
        for f in topic.fields
    ]
    columns += [dg.TableColumn(name, sql_type, description=doc) for name, sql_type, doc in LOAD_COLUMNS]
    return dg.TableSchema(columns=columns)


def _preview(con, topic: Topic, day) -> str:
    columns = ["ts", "sessionId", "itemInSession", "userId", "level"]
    rows = con.execute(
        f"SELECT {', '.join(quote(c) for c in columns)} FROM {table_name(topic)} "
        'WHERE partition_date = ? ORDER BY "ts", "sessionId", "itemInSession" LIMIT ?',
        [day, PREVIEW_ROWS],
    ).fetchall()
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _check_specs(key: dg.AssetKey, partitions_def: dg.PartitionsDefinition) -> list[dg.AssetCheckSpec]:
    # Partitioned check specs are a preview feature of Dagster 1.13; we rely on them so each day's
    # checks show against that day, so their warning is silenced here, knowingly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [
            dg.AssetCheckSpec(
                c.name, asset=key, description=c.description, blocking=c.blocking, partitions_def=partitions_def
            )
            for c in RAW_CHECKS
        ]


def _day_metadata(topic: Topic, result: LoadResult, preview: str, new_values: str) -> dict[str, Any]:
    return {
        ROWS_OF_RUN_DAYS: result.rows,
        "rejected": result.rejected,
        "rejected_share": round(result.rejected_share, 6),
        "top_reject_reasons": dg.MetadataValue.md(
            "\n".join(f"- {reason}: {n}" for reason, n in result.top_reasons) or "none"
        ),
        "rejected_files": dg.MetadataValue.md(
            "\n".join(f"- `{name}`: {reason}" for name, reason in result.rejected_files) or "none"
        ),
        "unknown_fields": ", ".join(result.unknown_fields) or "none",
        "new_categorical_values": new_values,
        "source_files": dg.MetadataValue.md(
            "\n".join(f"- `{f}`" for f in result.files) or "none (no landing files for this day)"
        ),
        "first_event": str(result.min_ts) if result.min_ts else "none",
        "last_event": str(result.max_ts) if result.max_ts else "none",
        "dagster/column_schema": column_schema(topic),
        "preview": dg.MetadataValue.md(preview),
    }


def build_raw_asset(
    topic: Topic, partitions_def: dg.PartitionsDefinition, freshness_policy: dg.FreshnessPolicy
) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", topic.name])

    @dg.asset(
        key=key,
        deps=[LANDING_KEY],
        partitions_def=partitions_def,
        group_name="raw",
        kinds={"duckdb", "python"},
        pool="duckdb",
        freshness_policy=freshness_policy,
        description=f"raw.{topic.name}: {topic.description} Validated against the event contract; "
        "bad lines go to raw.rejected_events.",
        metadata={"dagster/column_schema": column_schema(topic), "dagster/table_name": f"raw.{topic.name}"},
        check_specs=_check_specs(key, partitions_def),
        backfill_policy=range_backfill,
    )
    def load_raw_topic(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        event_source: EventSourceResource,
        bigquery: LazyBigQueryResource,
        gcs: LazyGCSResource,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation | dg.Output]:
        threshold = event_source.reject_threshold
        bucket = event_source.bucket
        if warehouse.target == "bigquery" and bucket is None:
            raise ValueError("the bigquery target loads from the landing bucket: set AUDIO_DWH_GCS_LANDING")
        metadata, results_by_day = {}, {}
        gcs_client = gcs.get_client() if bucket else None
        publishing = bigquery.get_client() if warehouse.target == "bigquery" else nullcontext()
        with warehouse.raw_connection() as con, publishing as client:
            # Days in order, each replaced in its own transaction, so the volume check of a day
            # sees the days before it; a failing day fails the run (days before it stay loaded and
            # a re-run replaces them with the same rows).
            for day in run_days(context):
                if bucket:
                    bucket.download_day(gcs_client, topic.name, day, event_source.landing_path)
                files = event_source.files(topic.name, day)
                result = load_day(con, topic, day, files, event_source.landing_path, threshold)
                if client is not None:
                    from audio_dwh.raw.bigquery_loader import publish_day  # the Google stack: bigquery only

                    publish_day(con, client, gcs_client, bucket, topic, day)
                if result.unknown_fields:
                    context.log.warning(
                        f"{topic.name} {day}: unknown fields ignored: {', '.join(result.unknown_fields)}"
                    )
                for name, reason in result.rejected_files:
                    context.log.warning(f"{topic.name} {day}: rejected the whole file {name}: {reason}")
                results = {check.name: check.run(con, topic, day, threshold) for check in RAW_CHECKS}
                new_values = results["new_categorical_values"].metadata["new_values"].value
                if new_values != "none":
                    context.log.warning(f"{topic.name} {day}: values eventsim does not send, loaded: {new_values}")
                metadata[day] = _day_metadata(topic, result, _preview(con, topic, day), new_values)
                results_by_day[day] = results
        with warehouse.reader(bigquery) as reader:
            table_rows = fetch_rows(reader, f"SELECT count(*) FROM {table_ref(reader, 'raw', topic.name)}")[0][0]
        # The materialization first: each day's check results then target that day's materialization.
        yield dg.MaterializeResult(metadata={**range_metadata(metadata), TABLE_ROWS: table_rows})
        for day, results in results_by_day.items():
            yield from day_evaluations(context, key, [day], {c.name: (results[c.name], c.blocking) for c in RAW_CHECKS})
        for check in RAW_CHECKS:
            yield check_output(context, key, check.name)

    return load_raw_topic


def build_raw_assets(
    partitions_def: dg.PartitionsDefinition, freshness_policy: dg.FreshnessPolicy
) -> list[dg.AssetsDefinition]:
    """raw/<topic> for every topic of the event contract."""
    return [build_raw_asset(topic, partitions_def, freshness_policy) for topic in TOPICS.values()]
