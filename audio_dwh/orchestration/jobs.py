"""The job every trigger launches: all layers for one day (partitions inferred from the assets)."""

import dagster as dg

from audio_dwh.quality.freshness import freshness_checks

DAILY_JOB = "daily_job"

daily_job = dg.define_asset_job(
    DAILY_JOB,
    # Freshness checks judge "now", not the day being run: their own sensor evaluates them.
    selection=dg.AssetSelection.all() - dg.AssetSelection.checks(*freshness_checks),
    description="Every layer for one day: landing -> raw -> staging -> vault -> marts -> dashboard.",
)
