"""The job every trigger launches: all layers for one day (partitions inferred from the assets)."""

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

DAILY_JOB = "daily_job"


def build_daily_job(freshness_checks: list[dg.AssetChecksDefinition]) -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        DAILY_JOB,
        # Freshness checks judge "now", not the day being run: their own sensor evaluates them.
        selection=dg.AssetSelection.all() - dg.AssetSelection.checks(*freshness_checks),
        description="Every layer for one day: landing -> raw -> staging -> vault -> marts -> dashboard.",
    )
