"""What a day would cost on BigQuery, estimated from a DuckDB warehouse holding that one day.

BigQuery bills storage and on-demand queries by logical bytes: per value, INT64, FLOAT64, DATE and
TIMESTAMP 8 bytes, BOOL 1, STRING 2 plus its UTF-8 length, NULL nothing. This sums those sizes over
every row of every table (`stored_bytes`: what the day adds to storage) and bounds what the daily
build reads (`scanned_bytes_bound`): each dbt model reads its parents in full and each test its model
in full, where BigQuery would read only the columns named, and only the day's partitions.

    python -m bench.bigquery_bytes WAREHOUSE.duckdb [MANIFEST.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

from audio_dwh.warehouse.sql import quote

MANIFEST = Path(__file__).resolve().parents[1] / "dbt_project" / "target" / "manifest.json"
FIXED_WIDTH = {"BIGINT": 8, "INTEGER": 8, "DOUBLE": 8, "DATE": 8, "HUGEINT": 16, "BOOLEAN": 1, "FLOAT": 8}


def _value_bytes(column: str, data_type: str) -> str:
    name = quote(column)
    if data_type == "VARCHAR":
        return f"coalesce(2 + strlen({name}), 0)"
    width = FIXED_WIDTH.get(data_type, 8)  # TIMESTAMP, DECIMAL and the rest: 8 or more; counted as 8
    return f"CASE WHEN {name} IS NULL THEN 0 ELSE {width} END"


def table_bytes(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """BigQuery's logical bytes of each base table, by schema.table."""
    columns = con.execute(
        "SELECT schema_name, table_name, list(column_name ORDER BY column_index), list(data_type ORDER BY column_index)"
        " FROM duckdb_columns() JOIN duckdb_tables() USING (database_name, schema_name, table_name)"
        " WHERE database_name = current_database() GROUP BY ALL"
    ).fetchall()
    sizes = {}
    for schema, table, names, types in columns:
        expression = " + ".join(_value_bytes(n, t) for n, t in zip(names, types, strict=True))
        (total,) = con.execute(f"SELECT coalesce(sum({expression}), 0) FROM {quote(schema)}.{quote(table)}").fetchone()
        sizes[f"{schema}.{table}"] = int(total)
    return sizes


def scanned_bound(sizes: dict[str, int], manifest: dict) -> int:
    """Every model reading its parents whole, every test its model whole (an upper bound)."""

    def relation(unique_id: str) -> str | None:
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id)
        return f"{node['schema']}.{node.get('alias') or node.get('identifier') or node['name']}" if node else None

    total = 0
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "test"):
            total += sum(sizes.get(relation(parent) or "", 0) for parent in node["depends_on"]["nodes"])
    return total


def measure(warehouse: Path, manifest_path: Path = MANIFEST) -> dict:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        sizes = table_bytes(con)
    finally:
        con.close()
    by_layer: dict[str, int] = {}
    for name, size in sizes.items():
        layer = name.split(".")[0]
        by_layer[layer] = by_layer.get(layer, 0) + size
    return {
        "stored_bytes": sum(sizes.values()),
        "stored_bytes_by_layer": by_layer,
        "scanned_bytes_bound": scanned_bound(sizes, json.loads(manifest_path.read_text())),
    }


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), *(Path(a) for a in sys.argv[2:])), indent=2))
