"""The bench's estimate of what a day costs on BigQuery (bench/bigquery_bytes.py): BigQuery's logical
sizes per value, and the bound on what the daily build reads."""

from __future__ import annotations

import duckdb

from bench.bigquery_bytes import scanned_bound, table_bytes


def test_values_count_as_bigquery_bills_them_and_reads_are_bounded_by_parents_and_models(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA raw; CREATE SCHEMA vault")
    con.execute("CREATE TABLE raw.events (name VARCHAR, n BIGINT, ok BOOLEAN, day DATE)")
    con.execute("INSERT INTO raw.events VALUES ('abc', 1, true, DATE '2026-11-01'), ('é', NULL, NULL, NULL)")
    con.execute("CREATE TABLE vault.hub AS SELECT name FROM raw.events")
    sizes = table_bytes(con)
    con.close()
    # 'abc' 2+3, 1 8, true 1, a date 8; 'é' 2+2 (UTF-8), NULLs nothing
    assert sizes == {"raw.events": 5 + 8 + 1 + 8 + 4, "vault.hub": 5 + 4}
    manifest = {
        "sources": {"source.p.raw.events": {"schema": "raw", "name": "events", "identifier": "events"}},
        "nodes": {
            "model.p.hub": {"resource_type": "model", "schema": "vault", "name": "hub", "alias": "hub",
                            "depends_on": {"nodes": ["source.p.raw.events"]}},
            "test.p.unique_hub": {"resource_type": "test", "schema": "vault", "name": "unique_hub",
                                  "depends_on": {"nodes": ["model.p.hub"]}},
        },
    }  # fmt: skip
    assert scanned_bound(sizes, manifest) == 26 + 9
