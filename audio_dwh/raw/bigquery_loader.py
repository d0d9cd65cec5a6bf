"""The raw layer on BigQuery: a day validated by the DuckDB loader (the one place the event contract
is enforced, line numbers and reasons included) is published to BigQuery.

Per topic and day: the validated rows and the rejected lines are written as JSON lines to the
landing bucket, loaded with an explicit schema from the raw contract into per-day load tables, and
swapped into raw.<topic> (time-partitioned on partition_date, the UTC day of ts) and
raw.rejected_events in one multi-statement transaction: the day's partition is replaced whole or
not at all.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import duckdb
from google.cloud import bigquery, storage

from audio_dwh.events.contract import FieldType, Topic
from audio_dwh.events.gcs_landing import GcsLanding
from audio_dwh.events.landing import day_folder_name
from audio_dwh.events.raw_schema import LOAD_COLUMNS, RAW_SCHEMA, REJECTED_COLUMNS, REJECTED_TABLE, table_name

FIELD_TYPES = {
    FieldType.LONG: "INT64",
    FieldType.INT: "INT64",
    FieldType.DOUBLE: "FLOAT64",
    FieldType.STRING: "STRING",
    FieldType.BOOLEAN: "BOOL",
}
COLUMN_TYPES = {"VARCHAR": "STRING", "BIGINT": "INT64", "TIMESTAMP": "TIMESTAMP", "DATE": "DATE"}
REJECTED_NAME = REJECTED_TABLE.split(".")[1]


def raw_schema(topic: Topic) -> list[bigquery.SchemaField]:
    fields = [
        bigquery.SchemaField(f.name, FIELD_TYPES[f.type], mode="REQUIRED" if f.required else "NULLABLE")
        for f in topic.fields
    ]
    return fields + [bigquery.SchemaField(name, COLUMN_TYPES[t], description=doc) for name, t, doc in LOAD_COLUMNS]


def rejected_schema() -> list[bigquery.SchemaField]:
    return [bigquery.SchemaField(name, COLUMN_TYPES[t]) for name, t in REJECTED_COLUMNS]


def _ensure_table(client: bigquery.Client, table_id: str, schema: list[bigquery.SchemaField]) -> None:
    table = bigquery.Table(table_id, schema=schema)
    table.time_partitioning = bigquery.TimePartitioning(field="partition_date")
    client.create_table(table, exists_ok=True)


def publish_day(
    con: duckdb.DuckDBPyConnection,
    client: bigquery.Client,
    gcs: storage.Client,
    landing: GcsLanding,
    topic: Topic,
    day: date,
) -> None:
    """Replace the day of raw.<topic> and its rejected lines in BigQuery with what `con` validated."""
    dataset = f"{client.project}.{RAW_SCHEMA}"
    client.create_dataset(dataset, exists_ok=True)
    _ensure_table(client, f"{dataset}.{topic.name}", raw_schema(topic))
    _ensure_table(client, f"{dataset}.{REJECTED_NAME}", rejected_schema())
    suffix = f"{topic.name}_{day:%Y%m%d}"
    the_day = f"DATE '{day.isoformat()}'"  # a parsed date: safe as a literal
    loads = {
        f"{dataset}._load_{suffix}": (
            f"SELECT * FROM {table_name(topic)} WHERE partition_date = {the_day}",
            raw_schema(topic),
            "rows.json",
        ),
        f"{dataset}._rejects_{suffix}": (
            f"SELECT * FROM {REJECTED_TABLE} WHERE topic = '{topic.name}' AND partition_date = {the_day}",
            rejected_schema(),
            "rejected.json",
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for load_table, (query, schema, name) in loads.items():
            path = Path(tmp) / name
            # Timestamps as ISO text (UTC) and dates as YYYY-MM-DD: what a BigQuery JSON load reads.
            con.execute(f"COPY ({query}) TO '{path}' (FORMAT JSON, TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S.%f')")
            uri = landing.upload_file(gcs, path, f"_validated/{day_folder_name(topic.name, day)}/{name}")
            job = bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
                schema=schema,
                write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            )
            client.load_table_from_uri(uri, load_table, job_config=job).result()
    load, rejects = list(loads)
    client.query(
        f"""BEGIN TRANSACTION;
DELETE FROM `{dataset}.{topic.name}` WHERE partition_date = {the_day};
INSERT INTO `{dataset}.{topic.name}` SELECT * FROM `{load}`;
DELETE FROM `{dataset}.{REJECTED_NAME}` WHERE topic = '{topic.name}' AND partition_date = {the_day};
INSERT INTO `{dataset}.{REJECTED_NAME}` SELECT * FROM `{rejects}`;
COMMIT TRANSACTION;"""
    ).result()
    for table in loads:
        client.delete_table(table, not_found_ok=True)
