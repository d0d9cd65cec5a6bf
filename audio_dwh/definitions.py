"""The code location: one Definitions for every asset, check, job, schedule, sensor and resource,
built from one Settings when Dagster (or the CLI, or a test) asks for it, never at import."""

import warnings
from dataclasses import dataclass

import dagster as dg

from audio_dwh.alerts.sensor import alert_sensor
from audio_dwh.dashboard.assets import dashboard_assets
from audio_dwh.dbt.assets import build_dbt_assets
from audio_dwh.events.assets import build_landing_asset
from audio_dwh.orchestration import pool_wait
from audio_dwh.orchestration.jobs import DAILY_JOB, build_daily_job
from audio_dwh.orchestration.schedules import build_daily_schedule
from audio_dwh.orchestration.sensors import build_landing_sensor
from audio_dwh.partitions import daily_partitions
from audio_dwh.quality.freshness import build_freshness_checks, daily_freshness_policy
from audio_dwh.raw.assets import build_raw_assets
from audio_dwh.resources import build_resources
from audio_dwh.settings import Settings, load_settings

__all__ = ["DAILY_JOB", "Layers", "build_definitions", "build_layers", "defs"]


@dataclass(frozen=True)
class Layers:
    """The assets of each layer, over one calendar of daily partitions."""

    partitions: dg.DailyPartitionsDefinition
    landing: dg.AssetsDefinition
    raw: list[dg.AssetsDefinition]
    dbt: dg.AssetsDefinition
    dashboard: list[dg.AssetsDefinition]

    @property
    def all(self) -> list[dg.AssetsDefinition]:
        return [self.landing, *self.raw, self.dbt, *self.dashboard]


def build_layers(settings: Settings) -> Layers:
    """Every asset, from the settings it depends on: the first day, the freshness deadline, the target."""
    partitions = daily_partitions(settings.first_partition)
    freshness = daily_freshness_policy(settings.freshness_deadline_hour)
    with warnings.catch_warnings():
        # `backfill_policy` on @asset is beta in Dagster 1.13; every asset depends on it knowingly.
        warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)
        return Layers(
            partitions=partitions,
            landing=build_landing_asset(partitions),
            raw=build_raw_assets(partitions, freshness),
            dbt=build_dbt_assets(partitions, freshness),
            dashboard=dashboard_assets(settings, partitions),
        )


def build_definitions(settings: Settings) -> dg.Definitions:
    pool_wait.install()  # every process that runs these definitions' steps builds them first
    layers = build_layers(settings)
    freshness_checks, freshness_checks_sensor = build_freshness_checks(settings.freshness_deadline_hour)
    return dg.Definitions(
        assets=layers.all,
        asset_checks=freshness_checks,
        jobs=[build_daily_job(freshness_checks)],
        schedules=[build_daily_schedule(settings.schedule_hour)],
        sensors=[build_landing_sensor(layers.partitions), freshness_checks_sensor, alert_sensor],
        resources=build_resources(settings),
        # One process per run, its steps in order: the DuckDB writers take turns through the "duckdb"
        # pool anyway, and a subprocess per step pays the imports again for every step.
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev -m audio_dwh.definitions` loads: the definitions of the environment's settings."""
    return build_definitions(load_settings())
