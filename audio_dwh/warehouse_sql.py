"""Reading the warehouse on either engine: the same SQL through a DuckDB connection or a BigQuery client."""

from __future__ import annotations

import duckdb
from google.cloud import bigquery

from audio_dwh.sql import quote

Reader = duckdb.DuckDBPyConnection | bigquery.Client


def table(reader: Reader, schema: str, name: str) -> str:
    """A table's name as the engine wants it: "schema"."name", or `project.schema.name`."""
    if isinstance(reader, duckdb.DuckDBPyConnection):
        return f"{quote(schema)}.{quote(name)}"
    return f"`{reader.project}.{schema}.{name}`"


def fetch(reader: Reader, sql: str) -> list[tuple]:
    """All rows of a query, as tuples."""
    if isinstance(reader, duckdb.DuckDBPyConnection):
        return reader.execute(sql).fetchall()
    return [tuple(row.values()) for row in reader.query(sql).result()]
