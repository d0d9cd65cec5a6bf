"""The code location: one Definitions for every asset, check, job and resource."""

import dagster as dg

from audio_dwh.dashboard.assets import daily_dashboard
from audio_dwh.dbt.assets import dbt_models
from audio_dwh.events.assets import eventsim_events
from audio_dwh.raw.assets import raw_assets
from audio_dwh.resources import build_resources
from audio_dwh.settings import load_settings

DAILY_JOB = "daily_job"

daily_job = dg.define_asset_job(
    DAILY_JOB,
    selection=dg.AssetSelection.all(),
    description="Every layer for one day: landing -> raw -> staging -> vault -> marts -> dashboard.",
)

defs = dg.Definitions(
    assets=[eventsim_events, *raw_assets, dbt_models, daily_dashboard],
    jobs=[daily_job],
    resources=build_resources(load_settings()),
)
