"""A check's result recorded for each day it judged, so the UI's per-partition status of the check
counts it for that day: raw checks judge a day each, dbt tests the whole range of their run.

Dagster counts a partition's check result only when it targets that partition's latest
materialization; a plain AssetCheckResult finds it only in a one-day run, so in a range run (a
backfill) its days would show as skipped. These evaluations name their day and its materialization.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)


def _materialization_of(
    context: dg.AssetExecutionContext, key: dg.AssetKey, day: str
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """This run's materialization of the day, once recorded (the asset's events are yielded first)."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1
    ).records
    if not records or records[0].run_id != context.run_id:
        return None
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=records[0].storage_id, run_id=context.run_id, timestamp=records[0].timestamp
    )


def day_evaluations(
    context: dg.AssetExecutionContext,
    key: dg.AssetKey,
    days: Iterable[date],
    results: Mapping[str, tuple[dg.AssetCheckResult, bool]],
) -> Iterator[dg.AssetCheckEvaluation]:
    """The results of asset `key`'s checks (name -> result, blocking), once for each day they judged;
    each day's materialization is looked up once for all of them."""
    for day in days:
        partition = day.isoformat()
        target = _materialization_of(context, key, partition)
        for name, (result, blocking) in results.items():
            yield dg.AssetCheckEvaluation(
                asset_key=key,
                check_name=name,
                passed=result.passed,
                metadata=result.metadata,
                target_materialization_data=target,
                severity=result.severity,
                description=result.description,
                blocking=blocking,
                partition=partition,
            )


def check_output(context: dg.AssetExecutionContext, key: dg.AssetKey, name: str) -> dg.Output:
    """The check's step output: it carries no value, but steps downstream of a blocking check wait on it."""
    return dg.Output(None, context.assets_def.get_output_name_for_asset_check_key(dg.AssetCheckKey(key, name)))
