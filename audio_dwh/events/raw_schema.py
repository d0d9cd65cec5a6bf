"""The raw layer's tables as the event contract makes them: one table per topic holding the contract's
fields in its SQL types plus the load columns, and the table of rejected lines. The loaders, the raw
checks and dbt's source docs all read them from here."""

from __future__ import annotations

from audio_dwh.events.contract import FieldType, Topic
from audio_dwh.warehouse.sql import quote

RAW_SCHEMA = "raw"
REJECTED_TABLE = f"{RAW_SCHEMA}.rejected_events"

SQL_TYPES = {
    FieldType.LONG: "BIGINT",
    FieldType.INT: "INTEGER",
    FieldType.DOUBLE: "DOUBLE",
    FieldType.STRING: "VARCHAR",
    FieldType.BOOLEAN: "BOOLEAN",
}
LOAD_COLUMNS = (
    (
        "event_id",
        "VARCHAR",
        "The event's identity (sessionId, itemInSession, ts) hashed as the vault hashes keys: the hash key of "
        "the event in every layer.",
    ),
    ("source_file", "VARCHAR", "Landing file the event came from, relative to the landing folder."),
    ("source_line", "BIGINT", "Line number in that file, from 1."),
    ("loaded_at", "TIMESTAMP", "When the load ran (UTC)."),
    ("partition_date", "DATE", "The UTC day of ts: the Dagster partition."),
)
REJECTED_COLUMNS = (
    ("topic", "VARCHAR"),
    ("partition_date", "DATE"),
    ("source_file", "VARCHAR"),
    ("line_number", "BIGINT"),
    ("raw_line", "VARCHAR"),
    ("reason", "VARCHAR"),
    ("rejected_at", "TIMESTAMP"),
    # How many lines the entry stands for against the threshold: 1 for a line; for a file that could
    # not be read (truncated, corrupt), the lines it holds, so lost data is counted as lost.
    ("lost_lines", "BIGINT"),
)


def table_name(topic: Topic) -> str:
    """The topic's raw table, quoted: raw."<topic>"."""
    return f"{RAW_SCHEMA}.{quote(topic.name)}"
