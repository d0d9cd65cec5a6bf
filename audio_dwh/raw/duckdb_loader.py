"""Load one topic's day of landing JSON lines into the DuckDB raw layer, set-based.

DuckDB reads each file as lines (its CSV reader with no delimiter or quoting), recording lines
that are not valid UTF-8 or too long in its rejects table with their line numbers; SQL generated
from the event contract then validates and types every line. Good lines replace the day in
`raw.<topic>` and bad ones in `raw.rejected_events`, in one transaction; if the bad share passes
the threshold nothing is written and the load fails naming the files and the top reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from audio_dwh.events.contract import EVENT_KEY, MAX_STRING_CHARS, Field, FieldType, Topic
from audio_dwh.sql import quote, sql_string

RAW_SCHEMA = "raw"
REJECTED_TABLE = f"{RAW_SCHEMA}.rejected_events"
MAX_LINE_BYTES = 16 * 1024 * 1024

SQL_TYPES = {
    FieldType.LONG: "BIGINT",
    FieldType.INT: "INTEGER",
    FieldType.DOUBLE: "DOUBLE",
    FieldType.STRING: "VARCHAR",
    FieldType.BOOLEAN: "BOOLEAN",
}
LOAD_COLUMNS = (
    ("event_id", "VARCHAR", "MD5 over sessionId, itemInSession and ts: one id per event."),
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
)


class RejectedShareTooHigh(Exception):
    """The share of bad lines passed the threshold: the day was left as it was."""


@dataclass
class LoadResult:
    topic: str
    day: date
    files: list[str]
    lines: int
    rows: int
    rejected: int
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    unknown_fields: list[str] = field(default_factory=list)
    min_ts: datetime | None = None
    max_ts: datetime | None = None

    @property
    def rejected_share(self) -> float:
        return self.rejected / self.lines if self.lines else 0.0


def table_name(topic: Topic) -> str:
    return f"{RAW_SCHEMA}.{quote(topic.name)}"


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, topics: list[Topic]) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for topic in topics:
        columns = [f"{quote(f.name)} {SQL_TYPES[f.type]}" for f in topic.fields]
        columns += [f"{name} {sql_type}" for name, sql_type, _ in LOAD_COLUMNS]
        con.execute(f"CREATE TABLE IF NOT EXISTS {table_name(topic)} ({', '.join(columns)})")
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in REJECTED_COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS {REJECTED_TABLE} ({columns})")


def _typed(f: Field, text: str, json_type: str) -> str:
    """SQL giving the field's typed value from its JSON text and type, NULL when absent, null or of
    the wrong JSON type (a string "123" is not a long). Casts from text: no JSON parsing here."""
    if f.type in (FieldType.LONG, FieldType.INT):
        target = SQL_TYPES[f.type]
        return (
            f"CASE WHEN {json_type} IN ('BIGINT', 'UBIGINT') THEN TRY_CAST({text} AS {target}) "
            f"WHEN {json_type} = 'DOUBLE' AND TRY_CAST({text} AS DOUBLE) = floor(TRY_CAST({text} AS DOUBLE)) "
            f"THEN TRY_CAST(TRY_CAST({text} AS DOUBLE) AS {target}) END"
        )
    if f.type == FieldType.DOUBLE:
        return f"CASE WHEN {json_type} IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST({text} AS DOUBLE) END"
    if f.type == FieldType.BOOLEAN:
        return f"CASE WHEN {json_type} = 'BOOLEAN' THEN TRY_CAST({text} AS BOOLEAN) END"
    return f"CASE WHEN {json_type} = 'VARCHAR' THEN {text} END"


def _json_type_name(json_type: str) -> str:
    """SQL naming a JSON value's type as a person would: integer, number, string, ..."""
    return (
        f"CASE {json_type} WHEN 'BIGINT' THEN 'integer' WHEN 'UBIGINT' THEN 'integer' WHEN 'DOUBLE' THEN 'number' "
        f"WHEN 'VARCHAR' THEN 'string' ELSE lower({json_type}) END"
    )


def _validation_sql(topic: Topic, day: date) -> str:
    """One SELECT over _numbered lines: typed columns plus the first reason a line is bad.

    Each step is its own CTE so that every field's JSON text, JSON type and typed value is computed
    once per line and then only compared (inlined, the reasons re-parsed each value up to four times).
    """
    paths = ", ".join(sql_string(f"$.{quote(f.name)}") for f in topic.fields)
    values, typed, reasons = [], [], []
    for i, f in enumerate(topic.fields, start=1):
        name, value, json_type = quote(f.name), f"_v{i}", f"_t{i}"
        values.append(f"texts[{i}] AS {value}, types[{i}] AS {json_type}")
        typed.append(f"{_typed(f, value, json_type)} AS {name}")
        absent = f"({value} IS NULL OR {json_type} = 'NULL')"
        if f.required:
            reasons.append(f"WHEN {absent} THEN 'required field {f.name} is missing or null'")
        reasons.append(
            f"WHEN NOT {absent} AND {name} IS NULL "
            f"THEN 'field {f.name}: expected {f.type.value}, got ' || {_json_type_name(json_type)}"
        )
        if f.type == FieldType.STRING:
            reasons.append(
                f"WHEN length({name}) > {MAX_STRING_CHARS} "
                f"THEN 'field {f.name}: ' || length({name}) || ' characters, over the {MAX_STRING_CHARS} limit'"
            )
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    start_ms = int(start.timestamp() * 1000)
    end_ms = int((start + timedelta(days=1)).timestamp() * 1000)
    key = ", ".join(f"CAST({quote(k)} AS VARCHAR)" for k in EVENT_KEY)
    columns = ", ".join(quote(f.name) for f in topic.fields)
    return f"""
        WITH parsed AS (
            SELECT source_file, line_number, line, encoding_error, json_valid(line) AS is_json
            FROM _numbered
        ), objects AS (
            -- two parses per line: every field's JSON type, and its text (strings unescaped)
            SELECT *, CASE WHEN is_object THEN json_type(line, [{paths}]) END AS types,
                      CASE WHEN is_object THEN json_extract_string(line, [{paths}]) END AS texts
            FROM (SELECT *, is_json AND regexp_matches(line, '^\\s*[{{]') AS is_object FROM parsed)
        ), fields AS (
            SELECT source_file, line_number, line, encoding_error, is_json, is_object, {", ".join(values)}
            FROM objects
        ), typed AS (
            SELECT *, {", ".join(typed)}
            FROM fields
        ), judged AS (
            SELECT source_file, line_number, line, {columns},
                   CASE
                       WHEN encoding_error IS NOT NULL THEN encoding_error
                       WHEN line IS NULL OR trim(line) = '' THEN 'blank line'
                       WHEN NOT is_json THEN 'invalid JSON'
                       WHEN NOT is_object THEN 'not a JSON object'
                       {" ".join(reasons)}
                       WHEN "ts" < {start_ms} OR "ts" >= {end_ms}
                       THEN 'ts ' || "ts" || ' outside partition day {day.isoformat()}'
                   END AS reason
            FROM typed
        )
        SELECT *, CASE WHEN reason IS NULL THEN md5(concat_ws('|', {key})) END AS event_id
        FROM judged
    """


def _read_lines(con: duckdb.DuckDBPyConnection, files: list[Path], landing: Path) -> None:
    """Fill _numbered(source_file, line_number, line, encoding_error) from the files."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _numbered "
        "(source_file VARCHAR, line_number BIGINT, line VARCHAR, encoding_error VARCHAR)"
    )
    if not files:
        return
    prefix = str(landing.resolve()) + "/"
    # DuckDB keeps a rejects table until it is dropped: clear the previous scan's.
    con.execute("DROP TABLE IF EXISTS _reject_errors; DROP TABLE IF EXISTS _reject_scans")
    file_list = "[" + ", ".join(sql_string(str(f.resolve())) for f in files) + "]"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _lines AS
            SELECT filename, line FROM read_csv({file_list}, columns = {{'line': 'VARCHAR'}},
                delim = '\\0', quote = '', escape = '', header = false, auto_detect = false,
                filename = true, max_line_size = {MAX_LINE_BYTES},
                store_rejects = true, rejects_table = '_reject_errors', rejects_scan = '_reject_scans')"""
    )
    # Good lines are numbered in file order (read_csv keeps it: files in list order, lines in file
    # order). A good line's real number is its rank among the file's good lines plus the rejected
    # lines before it (reject j of a file precedes line - j good lines); with no rejects, the rank.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _rejects AS
           SELECT *, row_number() OVER (PARTITION BY filename ORDER BY line) AS ordinal
           FROM (SELECT s.file_path AS filename, e.line,
                        first(e.csv_line) AS line_text, first(e.error_type) AS error_type
                 FROM _reject_errors e JOIN _reject_scans s USING (scan_id, file_id)
                 GROUP BY s.file_path, e.line)"""
    )
    has_rejects = con.execute("SELECT count(*) FROM _rejects").fetchall()[0][0] > 0
    rejects_before = (
        "(SELECT count(*) FROM _rejects r WHERE r.filename = g.filename AND r.line - r.ordinal < g.rank)"
        if has_rejects
        else "0"
    )
    con.execute(
        f"""INSERT INTO _numbered
            SELECT replace(g.filename, {sql_string(prefix)}, ''), g.rank + {rejects_before}, g.line, NULL
            FROM (SELECT l.filename, l.line, l.rowid - first_rows.first_row + 1 AS rank
                  FROM _lines l JOIN (SELECT filename, min(rowid) AS first_row FROM _lines GROUP BY filename)
                       AS first_rows USING (filename)) g;
            INSERT INTO _numbered
            SELECT replace(filename, {sql_string(prefix)}, ''), line, ltrim(line_text, chr(13) || chr(10)),
                   CASE error_type WHEN 'INVALID ENCODING' THEN 'invalid UTF-8'
                                   WHEN 'LINE SIZE OVER MAXIMUM' THEN 'line longer than {MAX_LINE_BYTES} bytes'
                                   ELSE 'unreadable line: ' || lower(error_type) END
            FROM _rejects"""
    )


def load_day(
    con: duckdb.DuckDBPyConnection,
    topic: Topic,
    day: date,
    files: list[Path],
    landing: Path,
    reject_threshold: float,
) -> LoadResult:
    """Validate the day's files and replace the day in raw.<topic> atomically."""
    ensure_raw_tables(con, [topic])
    _read_lines(con, files, landing)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _checked AS {_validation_sql(topic, day)}")
    # Each step holds the day's lines: free the earlier copies (a million-event day's peak memory).
    con.execute("DROP TABLE IF EXISTS _lines; DROP TABLE _numbered")
    # An event on more than one line keeps its first line (file order); the others are rejected.
    con.execute(
        """UPDATE _checked SET reason = 'duplicate event: same sessionId, itemInSession and ts as an earlier line'
           FROM (SELECT event_id, min((source_file, line_number)) AS first_line FROM _checked
                 WHERE event_id IS NOT NULL GROUP BY event_id HAVING count(*) > 1) AS repeated
           WHERE _checked.event_id = repeated.event_id
             AND (_checked.source_file, _checked.line_number) <> repeated.first_line"""
    )
    lines, rejected = con.execute("SELECT count(*), count(reason) FROM _checked").fetchall()[0]
    top_reasons = con.execute(
        """SELECT regexp_replace(reason, 'ts -?[0-9]+ outside', 'ts outside') AS r, count(*) FROM _checked
           WHERE reason IS NOT NULL GROUP BY r ORDER BY count(*) DESC, r LIMIT 5"""
    ).fetchall()
    result = LoadResult(
        topic=topic.name,
        day=day,
        files=[str(f) for f in files],
        lines=lines,
        rows=lines - rejected,
        rejected=rejected,
        top_reasons=[(r, n) for r, n in top_reasons],
    )
    if result.rejected_share > reject_threshold:
        reasons = "; ".join(f"{r} ({n})" for r, n in result.top_reasons)
        bad_files = con.execute(
            "SELECT source_file, count(*) FROM _checked WHERE reason IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        raise RejectedShareTooHigh(
            f"{topic.name} {day}: {rejected} of {lines} lines rejected ({result.rejected_share:.1%}, "
            f"threshold {reject_threshold:.1%}) in {', '.join(f'{f} ({n} bad)' for f, n in bad_files)}; "
            f"top reasons: {reasons}. The day was left as it was."
        )
    known = "[" + ", ".join(sql_string(n) for n in topic.field_names) + "]"
    result.unknown_fields = [
        r[0]
        for r in con.execute(
            f"""SELECT DISTINCT k FROM (SELECT unnest(json_keys(line)) AS k FROM _checked WHERE reason IS NULL)
                WHERE NOT list_contains({known}, k) ORDER BY k"""
        ).fetchall()
    ]
    columns = ", ".join(quote(n) for n in topic.field_names)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {table_name(topic)} WHERE partition_date = ?", [day])
        load_columns = ", ".join(name for name, _, _ in LOAD_COLUMNS)
        con.execute(
            f"""INSERT INTO {table_name(topic)} ({columns}, {load_columns})
                SELECT {columns}, event_id, source_file, line_number, now()::TIMESTAMP, ?::DATE
                FROM _checked WHERE reason IS NULL""",
            [day],
        )
        con.execute(f"DELETE FROM {REJECTED_TABLE} WHERE topic = ? AND partition_date = ?", [topic.name, day])
        con.execute(
            f"""INSERT INTO {REJECTED_TABLE}
                SELECT ?, ?::DATE, source_file, line_number, line, reason, now()::TIMESTAMP
                FROM _checked WHERE reason IS NOT NULL""",
            [topic.name, day],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    result.min_ts, result.max_ts = con.execute(
        f"""SELECT make_timestamp(min("ts") * 1000), make_timestamp(max("ts") * 1000)
            FROM {table_name(topic)} WHERE partition_date = ?""",
        [day],
    ).fetchall()[0]
    return result
