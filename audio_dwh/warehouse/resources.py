"""The warehouse's Dagster resources: the DuckDB file, and dagster-gcp's BigQuery and GCS resources made lazy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster_duckdb import DuckDBResource
from dagster_gcp import BigQueryResource, GCSResource

from audio_dwh.warehouse.reading import WarehouseReader


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse. Unlike its parent, closes the connection when the work inside fails too,
    so a failed load never leaves the file open in a long-lived process (the CLI, tests).

    target names the warehouse the layers above raw live in: "duckdb" (this file) or "bigquery"
    (where the DuckDB loader validates in memory and publishes to BigQuery)."""

    target: str = "duckdb"
    # What dbt's profile reads for the BigQuery target (Settings.dbt_profile_environment).
    dbt_profile: dict[str, str] = {}

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
    def reader(self, bigquery: BigQueryResource) -> Iterator[WarehouseReader]:
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
