"""Dagster resources, configured from the environment (see settings.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from dagster_gcp import BigQueryResource, GCSResource

from audio_dwh.dates import parse_day
from audio_dwh.dbt.project import dbt_project
from audio_dwh.dbt.resource import DbtCli
from audio_dwh.events.gcs_landing import GcsLanding
from audio_dwh.events.landing import DayFiles, scan_day
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig
from audio_dwh.settings import Settings
from audio_dwh.warehouse_sql import Reader


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse. Unlike its parent, closes the connection when the work inside fails too,
    so a failed load never leaves the file open in a long-lived process (the CLI, tests).

    target names the warehouse the layers above raw live in: "duckdb" (this file) or "bigquery"
    (where the DuckDB loader validates in memory and publishes to BigQuery)."""

    target: str = "duckdb"

    @contextmanager
    def raw_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Where a raw load validates: the warehouse file, or for BigQuery a scratch in-memory DuckDB."""
        if self.target == "duckdb":
            with self.get_connection() as con:
                yield con
        else:
            con = duckdb.connect(":memory:")
            try:
                yield con
            finally:
                con.close()

    @contextmanager
    def reader(self, bigquery: BigQueryResource) -> Iterator[Reader]:
        """What to read the built layers through: this file, or a client of the BigQuery target."""
        if self.target == "bigquery":
            with bigquery.get_client() as client:
                yield client
        else:
            with self.get_connection() as con:
                yield con

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as con:
            try:
                yield con
            finally:
                con.close()


class LazyBigQueryResource(BigQueryResource):
    """dagster-gcp's BigQueryResource, but a client is built only when a step asks for one: the parent
    builds one for every step, which needs Google credentials even on the DuckDB target."""

    def get_object_to_set_on_execution_context(self) -> LazyBigQueryResource:
        return self


class LazyGCSResource(GCSResource):
    """dagster-gcp's GCSResource, building its client only when asked (see LazyBigQueryResource)."""

    def get_object_to_set_on_execution_context(self) -> LazyGCSResource:
        return self


class DashboardResource(dg.ConfigurableResource):
    """Where the daily HTML reports and the dashboard's serving copy of the marts are written, and
    where the dashboard answers."""

    reports: str
    serving: str
    url: str


class EventSourceResource(dg.ConfigurableResource):
    """Where a day's events come from: the built-in simulator, or files already in the landing folder."""

    landing: str
    source: str = "simulator"
    users: int = 1000
    seed: int = 42
    epoch: str = "2026-11-01"
    reject_threshold: float = 0.01
    gcs_landing: str = ""

    @property
    def landing_path(self) -> Path:
        return Path(self.landing)

    @property
    def bucket(self) -> GcsLanding | None:
        return GcsLanding.parse(self.gcs_landing) if self.gcs_landing else None

    def simulator(self) -> DaySimulator:
        return DaySimulator(SimulatorConfig(seed=self.seed, users=self.users, epoch=parse_day(self.epoch, "epoch")))

    def files(self, topic: str, day: date) -> DayFiles:
        """The landing folder's files of a topic and day, by kind (events, unreadable, skipped)."""
        return scan_day(self.landing_path, topic, day)


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    # The Google clients take their credentials from the environment (ADC or
    # GOOGLE_APPLICATION_CREDENTIALS); none is passed here, so none can be logged.
    return {
        "warehouse": WarehouseResource(database=str(settings.warehouse), target=settings.target),
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
