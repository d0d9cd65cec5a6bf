"""The warehouse's Dagster resources: the DuckDB file, and dagster-gcp's BigQuery and GCS resources made lazy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import TYPE_CHECKING

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

if TYPE_CHECKING:
    from google.cloud import bigquery, storage

    from audio_dwh.warehouse.reading import WarehouseReader


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse. Unlike its parent, closes the connection when the work inside fails too,
    so a failed load never leaves the file open in a long-lived process (the CLI, tests).

    target names the warehouse the layers above raw live in: "duckdb" (this file) or "bigquery"
    (where the DuckDB loader validates in memory and publishes to BigQuery)."""

    target: str = "duckdb"
    # What dbt's profile reads for the BigQuery target (Settings.dbt_profile_environment).
    dbt_profile: dict[str, str] = {}

    @property
    def dbt_database(self) -> str | None:
        """The database name dbt's profile gives the DuckDB target (dbt-duckdb names it after the
        file); None for BigQuery, whose parse dbt checks itself."""
        return PurePath(self.database).stem if self.target == "duckdb" else None

    @property
    def memory_limit(self) -> str | None:
        """DuckDB's memory_limit for this warehouse (Settings.duckdb_memory_limit), dbt's too."""
        return self.connection_config.get("memory_limit")

    @contextmanager
    def raw_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Where a raw load validates: the warehouse file, or for BigQuery a scratch in-memory DuckDB."""
        if self.target == "duckdb":
            with self.get_connection() as con:
                yield con
        else:
            con = duckdb.connect(":memory:", config=self.connection_config)
            try:
                yield con
            finally:
                con.close()

    @contextmanager
    def reader(self, bigquery: LazyBigQueryResource) -> Iterator[WarehouseReader]:
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


class LazyBigQueryResource(dg.ConfigurableResource):
    """dagster-gcp's BigQueryResource, built (and the Google stack imported) only when a step asks for a
    client: the DuckDB target never pays for either, and needs no Google credentials."""

    project: str | None = None
    location: str | None = None

    @contextmanager
    def get_client(self) -> Iterator[bigquery.Client]:
        from dagster_gcp import BigQueryResource

        with BigQueryResource(project=self.project, location=self.location).get_client() as client:
            try:
                yield client
            finally:
                client.close()


class LazyGCSResource(dg.ConfigurableResource):
    """dagster-gcp's GCSResource, built only when a step asks for a client (see LazyBigQueryResource)."""

    project: str | None = None

    def get_client(self) -> storage.Client:
        from dagster_gcp import GCSResource

        return GCSResource(project=self.project).get_client()
