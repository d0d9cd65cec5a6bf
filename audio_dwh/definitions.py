"""The code location: one Definitions for every asset, check, job, schedule, sensor and resource."""

import dagster as dg

from audio_dwh.alerts.sensor import alert_sensor
from audio_dwh.dashboard.assets import dashboard_assets
from audio_dwh.dbt.assets import dbt_models
from audio_dwh.events.assets import eventsim_events
from audio_dwh.orchestration.jobs import DAILY_JOB, daily_job
from audio_dwh.orchestration.schedules import daily_schedule
from audio_dwh.orchestration.sensors import landing_sensor
from audio_dwh.quality.freshness import freshness_checks, freshness_checks_sensor
from audio_dwh.raw.assets import raw_assets
from audio_dwh.resources import build_resources
from audio_dwh.settings import load_settings

__all__ = ["DAILY_JOB", "defs"]

settings = load_settings()

defs = dg.Definitions(
    assets=[eventsim_events, *raw_assets, dbt_models, *dashboard_assets(settings)],
    asset_checks=freshness_checks,
    jobs=[daily_job],
    schedules=[daily_schedule],
    sensors=[landing_sensor, freshness_checks_sensor, alert_sensor],
    resources=build_resources(settings),
    # One process per run, its steps in order: the DuckDB writers take turns through the "duckdb"
    # pool anyway, and a subprocess per step costs seconds of imports on a small machine (a one-day
    # landing + raw run: ~100 s multiprocess, mostly waiting, against a few seconds in process).
    executor=dg.in_process_executor,
)
