"""Every Dagster resource of the code location, built from one Settings; each is defined beside the
layer that uses it."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg

from audio_dwh.dashboard.resources import DashboardResource
from audio_dwh.dbt.project import dbt_project
from audio_dwh.dbt.resource import DbtCli
from audio_dwh.events.resources import EventSourceResource
from audio_dwh.settings import Settings
from audio_dwh.warehouse.resources import LazyBigQueryResource, LazyGCSResource, WarehouseResource


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    # The Google clients take their credentials from the environment (ADC or
    # GOOGLE_APPLICATION_CREDENTIALS); none is passed here, so none can be logged.
    return {
        "warehouse": WarehouseResource(
            database=str(settings.warehouse),
            target=settings.target,
            dbt_profile=settings.dbt_profile_environment(),
            connection_config={"memory_limit": settings.duckdb_memory_limit},
        ),
        "bigquery": LazyBigQueryResource(project=settings.bq_project, location=settings.bq_location),
        "gcs": LazyGCSResource(project=settings.bq_project),
        "dashboard": DashboardResource(
            reports=str(settings.reports), serving=str(settings.serving), url=settings.dashboard_url
        ),
        # The venv's dbt, whether or not the venv is on PATH (make runs .venv/bin/audio-dwh directly).
        "dbt": DbtCli(project_dir=dbt_project, dbt_executable=str(Path(sys.executable).with_name("dbt"))),
        "event_source": EventSourceResource(
            landing=str(settings.landing),
            source=settings.source,
            users=settings.users,
            seed=settings.seed,
            epoch=settings.start_date.isoformat(),
            reject_threshold=settings.reject_threshold,
            gcs_landing=settings.gcs_landing,
        ),
    }
