"""Reading the warehouse on either engine: the same SQL through a DuckDB connection or a BigQuery client."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import duckdb

from audio_dwh.warehouse.sql import quote, sql_string

if TYPE_CHECKING:
    from google.cloud import bigquery

# A string, so that reading DuckDB never imports the Google stack (only the bigquery target pays it).
WarehouseReader: TypeAlias = "duckdb.DuckDBPyConnection | bigquery.Client"


def table_ref(reader: WarehouseReader, schema: str, name: str) -> str:
    """A table's name as the engine wants it: "schema"."name", or `project.schema.name`."""
    if isinstance(reader, duckdb.DuckDBPyConnection):
        return f"{quote(schema)}.{quote(name)}"
    return f"`{reader.project}.{schema}.{name}`"


def fetch_rows(reader: WarehouseReader, sql: str) -> list[tuple]:
    """All rows of a query, as tuples."""
    return fetch_rows_with_header(reader, sql)[1]


def fetch_rows_with_header(reader: WarehouseReader, sql: str) -> tuple[list[str], list[tuple]]:
    """A query's column names and all its rows, as tuples."""
    if isinstance(reader, duckdb.DuckDBPyConnection):
        cursor = reader.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()
    result = reader.query(sql).result()
    return [f.name for f in result.schema], [tuple(row.values()) for row in result]


def columns_of(reader: WarehouseReader, tables: list[tuple[str, str]]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Each (schema, table)'s columns and their engine types, in table order, in one query per schema."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema in sorted({s for s, _ in tables}):
        names = ", ".join(sql_string(t) for s, t in tables if s == schema)
        where = f"table_name IN ({names})"
        source = (
            f"information_schema.columns WHERE table_schema = {sql_string(schema)} AND {where}"
            if isinstance(reader, duckdb.DuckDBPyConnection)
            else f"`{reader.project}.{schema}`.INFORMATION_SCHEMA.COLUMNS WHERE {where}"
        )
        for name, column, data_type in fetch_rows(
            reader, f"SELECT table_name, column_name, data_type FROM {source} ORDER BY table_name, ordinal_position"
        ):
            found.setdefault((schema, name), []).append((column, data_type))
    return found
