"""Load one topic's day of landing JSON lines into the DuckDB raw layer, set-based.

DuckDB reads each file as lines (its CSV reader with no delimiter or quoting), recording lines
that are not valid UTF-8 or too long in its rejects table with their line numbers; a file that
cannot be read at all is one rejected entry with the reason. SQL generated from the event contract
then checks every line against each field's type and domain. Good lines replace the day in
`raw.<topic>` and bad ones in `raw.rejected_events`, in one transaction; if the bad share passes
the threshold nothing is written and the load fails naming the files and the top reasons.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from audio_dwh.events.contract import (
    INVISIBLE_CHARACTERS,
    MAX_STRING_CHARS,
    NUMBER_TYPES,
    Field,
    FieldType,
    Topic,
)
from audio_dwh.events.landing import DayFiles, compression
from audio_dwh.events.raw_schema import (
    LOAD_COLUMNS,
    RAW_SCHEMA,
    REJECTED_COLUMNS,
    REJECTED_TABLE,
    SQL_TYPES,
    table_name,
)
from audio_dwh.warehouse.sql import quote, sql_string

MAX_LINE_BYTES = 16 * 1024 * 1024
# By default DuckDB's reader asked for one buffer as big as a million-event day's file (186 MiB), which
# a big day's memory bound cannot give. It needs at least the longest line; two of them (32 MiB) fit a
# 10-million-event day in 1 GB.
READ_BUFFER_BYTES = 2 * MAX_LINE_BYTES
REJECT_TEXT_BYTES = 10_000  # how much of a rejected line DuckDB's rejects table keeps
# Decompressors Python has (gzip's by DuckDB's name for it), to count the lines a lost file held.
DECOMPRESSORS = {
    "gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    ".bz2": bz2.BZ2Decompressor,
    ".xz": lzma.LZMADecompressor,
    ".lzma": lzma.LZMADecompressor,
}
# A reason's text before this names the rule (reasons group by it); after it, the line it refers to.
SEE = "; see "


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
    rejected_files: list[tuple[str, str]] = field(default_factory=list)
    unknown_fields: list[str] = field(default_factory=list)
    min_ts: datetime | None = None
    max_ts: datetime | None = None
    lost_lines: int = 0  # the lines rejected entries stand for: files not read count every line they hold

    @property
    def rejected_share(self) -> float:
        return rejected_share(self.rows, self.lost_lines)


def rejected_share(rows: int, lost_lines: int) -> float:
    """The share of a topic's day that did not load: lost lines over all lines, loaded or lost."""
    return lost_lines / (rows + lost_lines) if rows + lost_lines else 0.0


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, topics: list[Topic]) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for topic in topics:
        columns = [f"{quote(f.name)} {SQL_TYPES[f.type]}" for f in topic.fields]
        columns += [f"{name} {sql_type}" for name, sql_type, _ in LOAD_COLUMNS]
        con.execute(f"CREATE TABLE IF NOT EXISTS {table_name(topic)} ({', '.join(columns)})")
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in REJECTED_COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS {REJECTED_TABLE} ({columns})")
    # a warehouse from before lost_lines: each of its entries stood for one line
    con.execute(f"ALTER TABLE {REJECTED_TABLE} ADD COLUMN IF NOT EXISTS lost_lines BIGINT DEFAULT 1")


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


def _field_reasons(f: Field, text: str, json_type: str) -> list[str]:
    """CASE branches naming the first rule of its type and domain that the field's value breaks, each
    reason '<field>: <rule>' (no values in it, so reasons group). Rules between fields come later."""
    name, absent = quote(f.name), f"({text} IS NULL OR {json_type} = 'NULL')"
    reasons = []
    if f.required:
        reasons.append(f"WHEN {absent} THEN '{f.name}: missing or null (required)'")
    if f.type in NUMBER_TYPES:  # NaN, Infinity and numbers past a double's range (1e400) parse as DOUBLE
        reasons.append(
            f"WHEN {json_type} = 'DOUBLE' AND NOT isfinite(TRY_CAST({text} AS DOUBLE)) "
            f"THEN '{f.name}: not a finite number'"
        )
    got = _json_type_name(json_type)
    reasons.append(f"WHEN NOT {absent} AND {name} IS NULL THEN '{f.name}: expected {f.type.value}, got ' || {got}")
    if f.type == FieldType.STRING:
        if f.required:  # nothing left once cleaned as staging cleans names: no character but these
            visible = f"[^{INVISIBLE_CHARACTERS[1:-1]}\\p{{Z}}]"
            reasons.append(f"WHEN NOT regexp_matches({name}, '{visible}') THEN '{f.name}: blank (required)'")
        reasons.append(f"WHEN length({name}) > {MAX_STRING_CHARS} THEN '{f.name}: over {MAX_STRING_CHARS} characters'")
    if f.choice:
        values = ", ".join(sql_string(v) for v in f.choice.values)
        reasons.append(f"WHEN {name} NOT IN ({values}) THEN '{f.name}: not {f.choice.label}'")
    if f.bounds:
        low = f"{name} {'>' if f.bounds.low_excluded else '>='} {f.bounds.low}"
        reasons.append(f"WHEN NOT ({low} AND {name} <= {f.bounds.high}) THEN '{f.name}: outside {f.bounds.text()}'")
    return reasons


def _known_fields(topic: Topic) -> str:
    """The topic's field names as an SQL list literal."""
    return "[" + ", ".join(sql_string(n) for n in topic.field_names) + "]"


def _validation_sql(topic: Topic, day: date) -> str:
    """One SELECT over _numbered lines: typed columns plus the first reason a line is bad.

    Each step is its own CTE so that every field's JSON text, JSON type and typed value is computed
    once per line and then only compared (inlined, the reasons re-parsed each value up to four times).
    """
    paths = ", ".join(sql_string(f"$.{quote(f.name)}") for f in topic.fields)
    values, typed, reasons = [], [], []  # reasons: each field's own rules, in field order
    for i, f in enumerate(topic.fields, start=1):
        value, json_type = f"_v{i}", f"_t{i}"
        values.append(f"texts[{i}] AS {value}, types[{i}] AS {json_type}")
        typed.append(f"{_typed(f, value, json_type)} AS {quote(f.name)}")
        reasons += _field_reasons(f, value, json_type)
    after = [
        f"WHEN {quote(f.name)} > {quote(f.not_after)} THEN '{f.name}: after {f.not_after}'"
        for f in topic.fields
        if f.not_after
    ]
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    start_ms = int(start.timestamp() * 1000)
    end_ms = int((start + timedelta(days=1)).timestamp() * 1000)
    # the vault's hash key form (vault/README.md): each part as trimmed upper-case text, joined by ||
    parts = " || '||' || ".join(f"upper(trim(CAST({quote(k)} AS VARCHAR)))" for k in topic.identity)
    columns = ", ".join(quote(f.name) for f in topic.fields)
    known = _known_fields(topic)
    return f"""
        WITH parsed AS (
            SELECT source_file, line_number, line, problem, lost_lines,
                   problem IS NULL AND json_valid(line) AS is_json
            FROM _numbered
        ), objects AS (
            -- two parses per line: every field's JSON type, and its text (strings unescaped)
            SELECT *, CASE WHEN is_object THEN json_type(line, [{paths}]) END AS types,
                      CASE WHEN is_object THEN json_extract_string(line, [{paths}]) END AS texts
            FROM (SELECT *, is_json AND regexp_matches(line, '^\\s*[{{]') AS is_object FROM parsed)
        ), fields AS (
            SELECT source_file, line_number, line, problem, lost_lines, is_json, is_object, {", ".join(values)}
            FROM objects
        ), typed AS (
            SELECT *, {", ".join(typed)}
            FROM fields
        ), judged AS (
            SELECT source_file, line_number, line, lost_lines, {columns},
                   CASE
                       WHEN problem IS NOT NULL THEN problem
                       WHEN line IS NULL OR trim(line) = '' THEN 'blank line'
                       WHEN NOT is_json THEN 'invalid JSON'
                       WHEN NOT is_object THEN 'not a JSON object'
                       {" ".join(reasons)}
                       WHEN "ts" < {start_ms} OR "ts" >= {end_ms} THEN 'ts: outside partition day {day.isoformat()}'
                       {" ".join(after)}
                   END AS reason
            FROM typed
        )
        -- A line's text is kept only where it is read again: a rejected line (raw.rejected_events
        -- keeps it) and a loaded one with fields the contract does not name (reported). A day's
        -- text is most of its bytes, and a copy of it is what made a big day spill.
        SELECT * EXCLUDE (line), CASE WHEN reason IS NULL THEN upper(md5({parts})) END AS event_id,
               CASE WHEN reason IS NOT NULL THEN line WHEN NOT list_has_all({known}, json_keys(line)) THEN line
               END AS line
        FROM judged
    """


def source_name(path: Path, landing: Path) -> str:
    """A file's name as raw tables record it: its path in the landing folder (a symlink's own)."""
    try:
        return path.relative_to(landing).as_posix()
    except ValueError:
        return path.absolute().as_posix()


# What the day's lines are read into: a table per file DuckDB read whole (its lines numbered by
# position, never copied), and one for the rest (files with rejected lines, read by Python, not read).
FILE_LINES = "_file_lines_{}"
OTHER_LINES = "_other_lines"


def _read_lines(con: duckdb.DuckDBPyConnection, files: DayFiles, landing: Path) -> list[str]:
    """Make the view _numbered(source_file, line_number, line, problem, lost_lines): every line of the
    day's event files, and one row (no line number) for each file that cannot be read at all, standing
    for the lines it holds. Returns the tables behind it, for _drop_lines."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {OTHER_LINES} "
        "(source_file VARCHAR, line_number BIGINT, line VARCHAR, problem VARCHAR, lost_lines BIGINT)"
    )
    unreadable, whole = list(files.unreadable), {}
    for index, path in enumerate(files.events):
        name, table = source_name(path, landing), FILE_LINES.format(index)
        try:
            if _read_with_duckdb(con, path, name, table):
                whole[name] = table
        except (duckdb.InvalidInputException, LineCutByReaderError):
            # DuckDB's line reader stops at a carriage return inside an LF file (mixed line
            # endings, binary data), and cuts a long rejected line: such a file is read line by line
            # here instead.
            problem = _read_with_python(con, path, name)
            if problem:
                unreadable.append((path, problem))
        except duckdb.IOException as error:  # not the compression its name says, or cut short
            unreadable.append((path, f"unreadable file: {str(error).splitlines()[0]}"))
    parts = [
        f"SELECT {sql_string(name)} AS source_file, rowid + 1 AS line_number, line, NULL::VARCHAR AS problem, "
        f"1::BIGINT AS lost_lines FROM {table}"
        for name, table in whole.items()
    ]
    con.execute(f"CREATE OR REPLACE TEMP VIEW _numbered AS {' UNION ALL '.join([*parts, f'FROM {OTHER_LINES}'])}")
    if unreadable:
        counted = [(path, reason, lines_held(path)) for path, reason in unreadable]
        con.executemany(
            f"INSERT INTO {OTHER_LINES} VALUES (?, NULL, NULL, ?, ?)",
            [(source_name(p, landing), r, n or _lines_by_size(con, p, files, unreadable)) for p, r, n in counted],
        )
    return [*whole.values(), OTHER_LINES]


def _drop_lines(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    con.execute("DROP VIEW _numbered")
    for table in tables:
        con.execute(f"DROP TABLE {table}")


def lines_held(path: Path) -> int | None:
    """How many lines a file that could not be loaded holds: its newlines as far as Python can
    decompress it (a truncated gzip up to the cut); None when nothing of it can be read."""
    kind = compression(path.name)
    make = DECOMPRESSORS.get(kind or "") or DECOMPRESSORS.get(path.suffix.lower())
    if make is None and kind != "none":
        return None
    decompressor = make() if make else None
    newlines, last = 0, b"\n"
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 16):
            try:  # fed piece by piece, so what comes before the damage is counted
                text = decompressor.decompress(chunk) if decompressor else chunk
            except (OSError, EOFError, zlib.error, lzma.LZMAError):
                break
            if text:
                newlines, last = newlines + text.count(b"\n"), text[-1:]
    return newlines + (last != b"\n") or None


def _lines_by_size(
    con: duckdb.DuckDBPyConnection, path: Path, files: DayFiles, unreadable: list[tuple[Path, str]]
) -> int:
    """A file's share of the topic's bytes, in lines: its size over the bytes per line of the files that
    were read (at least 1; with none read, the day has nothing loaded and fails whatever the count)."""
    lost = {p for p, _ in unreadable}
    read_bytes = sum(p.stat().st_size for p in files.events if p not in lost)
    read_lines = con.execute("SELECT count(*) FROM _numbered").fetchall()[0][0]
    if not read_bytes or not read_lines:
        return 1
    return max(1, round(path.stat().st_size * read_lines / read_bytes))


def _read_with_duckdb(con: duckdb.DuckDBPyConnection, path: Path, name: str, table: str) -> bool:
    """A file's lines, read by DuckDB as one-column CSV (no delimiter or quoting) into `table`: True
    when every line was read, so that a line's number is its row's position there. Otherwise the lines
    go to OTHER_LINES numbered, with the lines that are not UTF-8 or too long from DuckDB's rejects."""
    # DuckDB keeps a rejects table until it is dropped: clear the previous scan's.
    con.execute("DROP TABLE IF EXISTS _reject_errors; DROP TABLE IF EXISTS _reject_scans")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT line FROM read_csv({sql_string(str(path.absolute()))}, columns = {{'line': 'VARCHAR'}},
                delim = '\\0', quote = '', escape = '', header = false, auto_detect = false,
                compression = {sql_string(compression(path.name) or "none")},
                max_line_size = {MAX_LINE_BYTES}, buffer_size = {READ_BUFFER_BYTES},
                store_rejects = true, rejects_table = '_reject_errors', rejects_scan = '_reject_scans')"""
    )
    # Good lines are numbered in file order (read_csv keeps it). A good line's real number is its rank
    # among the good lines plus the rejected lines before it (reject j precedes line - j good lines).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _rejects AS
           SELECT *, row_number() OVER (ORDER BY line) AS ordinal
           FROM (SELECT line, first(csv_line) AS line_text, first(error_type) AS error_type
                 FROM _reject_errors GROUP BY line)"""
    )
    has_rejects, cut = con.execute(
        "SELECT count(*) > 0, count(*) FILTER (error_type = 'TOO MANY COLUMNS' "
        # within a character's bytes of the cut: where it falls inside a character is not said
        f"AND strlen(line_text) >= {REJECT_TEXT_BYTES - 3}) > 0 FROM _rejects"
    ).fetchall()[0]
    if cut:
        con.execute(f"DROP TABLE {table}")
        raise LineCutByReaderError(f"{name}: a line holding backslash and 0 is longer than DuckDB's rejects keep")
    if not has_rejects:
        return True
    rejects_before = "(SELECT count(*) FROM _rejects r WHERE r.line - r.ordinal < g.rank)"
    con.execute(
        f"""INSERT INTO {OTHER_LINES}
            SELECT {sql_string(name)}, g.rank + {rejects_before}, g.line, NULL, 1
            FROM (SELECT line, rowid + 1 AS rank FROM {table}) g;
            INSERT INTO {OTHER_LINES}
            SELECT {sql_string(name)}, line, ltrim(line_text, chr(13) || chr(10)),
                   CASE error_type WHEN 'INVALID ENCODING' THEN 'invalid UTF-8'
                                   WHEN 'LINE SIZE OVER MAXIMUM' THEN 'line longer than {MAX_LINE_BYTES} bytes'
                                   -- the "delimiter" (backslash and 0, no real line has one of its
                                   -- own) inside a line: the line is whole here, and judged as any
                                   WHEN 'TOO MANY COLUMNS' THEN NULL
                                   ELSE 'unreadable line: ' || lower(error_type) END, 1
            FROM _rejects;
            DROP TABLE {table}"""
    )
    return False


class LineCutByReaderError(Exception):
    """DuckDB's rejects table keeps a rejected line's first REJECT_TEXT_BYTES bytes only: a long line
    that is rejected for holding the reader's "delimiter" (to be judged whole) must be read another way."""


def _read_with_python(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> str | None:
    """A file's lines split at LF (a CR before it dropped), for the few files DuckDB's reader refuses;
    returns why the file cannot be read, or None."""
    kind = compression(path.name)
    try:
        data = path.read_bytes()
        data = gzip.decompress(data) if kind == "gzip" else data
    except (OSError, EOFError) as error:
        return f"unreadable file: {error}"
    if kind == "zstd":  # Python 3.11 has no zstd: only DuckDB reads these
        return (
            "unreadable file: a zstd file with a carriage return inside a line, or a long line holding "
            "backslash and 0; land it as .json or .json.gz"
        )
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    numbered = []
    for number, raw in enumerate(lines, start=1):
        raw = raw.removesuffix(b"\r")
        try:
            text, problem = raw.decode("utf-8"), None
        except UnicodeDecodeError:
            text, problem = raw.decode("utf-8", "replace"), "invalid UTF-8"
        if len(raw) > MAX_LINE_BYTES:
            text, problem = None, f"line longer than {MAX_LINE_BYTES} bytes"
        numbered.append((name, number, text, problem, 1))
    frame = pd.DataFrame(numbered, columns=["source_file", "line_number", "line", "problem", "lost_lines"])
    con.register("_python_lines", frame)
    try:
        con.execute(f"INSERT INTO {OTHER_LINES} SELECT * FROM _python_lines")
    finally:
        con.unregister("_python_lines")
    return None


def _judge_repeated_events(con: duckdb.DuckDBPyConnection, topic: Topic) -> None:
    """Lines that share an identity (every rule passed): the same payload on every line is one event
    sent twice, loaded once from its first line by file name and number; different payloads are a
    conflict no order can settle, so every one of them is rejected naming another. Either way the
    verdict depends on the lines, not on the order they came in."""
    identity = ", ".join(topic.identity[:-1]) + f" and {topic.identity[-1]}"
    payload = ", ".join(quote(n) for n in topic.field_names)
    first = "repeated.lines[1]"
    is_first = f"(_checked.source_file, _checked.line_number) = ({first}.file, {first}.line)"
    other = f"CASE WHEN {is_first} THEN repeated.lines[2] ELSE {first} END"
    judged = con.execute(
        f"""UPDATE _checked SET reason = CASE
                WHEN repeated.payloads > 1 THEN
                    'conflicting event: same {identity} as another line, with other values{SEE}'
                    || struct_extract({other}, 'file') || ' line ' || struct_extract({other}, 'line')
                ELSE 'duplicate event: same {identity} and values as an earlier line{SEE}'
                    || {first}.file || ' line ' || {first}.line
            END
            FROM (SELECT event_id, count(DISTINCT ({payload})) AS payloads,
                         list({{'file': source_file, 'line': line_number}} ORDER BY source_file, line_number) AS lines
                  FROM _checked
                  -- the ids seen more than once first, by a plain count that spills to disk: the
                  -- lists and distinct payloads are then built for those few ids only
                  SEMI JOIN (SELECT event_id FROM _checked WHERE event_id IS NOT NULL
                             GROUP BY event_id HAVING count(*) > 1) AS ids USING (event_id)
                  GROUP BY event_id) AS repeated
            WHERE _checked.event_id = repeated.event_id
              AND (repeated.payloads > 1 OR NOT {is_first})"""
    ).fetchall()[0][0]
    if judged:  # their text, which the validation kept for rejected lines only: a scan of the day's lines
        con.execute(
            """UPDATE _checked SET line = lines.line FROM _numbered AS lines
               WHERE _checked.line IS NULL AND _checked.reason IS NOT NULL
                 AND (lines.source_file, lines.line_number) = (_checked.source_file, _checked.line_number)"""
        )


def load_day(
    con: duckdb.DuckDBPyConnection,
    topic: Topic,
    day: date,
    files: DayFiles,
    landing: Path,
    reject_threshold: float,
) -> LoadResult:
    """Validate the day's files and replace the day in raw.<topic> atomically."""
    ensure_raw_tables(con, [topic])
    read = _read_lines(con, files, landing)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _checked AS {_validation_sql(topic, day)}")
    _judge_repeated_events(con, topic)
    _drop_lines(con, read)
    lines, rejected, lost_lines = con.execute(
        "SELECT count(*), count(reason), coalesce(sum(lost_lines) FILTER (reason IS NOT NULL), 0) FROM _checked"
    ).fetchall()[0]
    top_reasons = con.execute(
        f"""SELECT split_part(reason, {sql_string(SEE)}, 1) AS rule, count(*) FROM _checked
            WHERE reason IS NOT NULL GROUP BY rule ORDER BY count(*) DESC, rule LIMIT 5"""
    ).fetchall()
    rejected_files = con.execute(
        "SELECT source_file, reason FROM _checked WHERE line_number IS NULL ORDER BY source_file"
    ).fetchall()
    result = LoadResult(
        topic=topic.name,
        day=day,
        files=sorted({source_name(path, landing) for path in files.events} | {name for name, _ in rejected_files}),
        lines=lines,
        rows=lines - rejected,
        rejected=rejected,
        top_reasons=[(r, n) for r, n in top_reasons],
        rejected_files=rejected_files,
        lost_lines=lost_lines,
    )
    if result.rejected_share > reject_threshold:
        reasons = "; ".join(f"{r} ({n})" for r, n in result.top_reasons)
        bad_files = con.execute(
            """SELECT source_file, CASE WHEN count(line_number) > 0 THEN count(*) || ' bad'
                                        ELSE 'not read, ' || sum(lost_lines) || ' lines lost' END
               FROM _checked WHERE reason IS NOT NULL GROUP BY 1 ORDER BY sum(lost_lines) DESC, 1"""
        ).fetchall()
        raise RejectedShareTooHigh(
            f"{topic.name} {day}: {lost_lines} of {result.rows + lost_lines} lines rejected or lost "
            f"({result.rejected_share:.1%}, threshold {reject_threshold:.1%}) in "
            f"{', '.join(f'{f} ({n})' for f, n in bad_files)}; top reasons: {reasons}. The day was left as it was. "
            "Running the same files again fails the same way: correct or replace those files and run the day "
            f"again, or set AUDIO_DWH_REJECT_THRESHOLD above {result.rejected_share:.1%} to load the good lines "
            "and keep the others in raw.rejected_events."
        )
    known = _known_fields(topic)
    result.unknown_fields = [
        r[0]
        for r in con.execute(
            f"""SELECT DISTINCT k FROM (SELECT unnest(json_keys(line)) AS k FROM _checked
                                       WHERE reason IS NULL AND line IS NOT NULL)
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
                SELECT ?, ?::DATE, source_file, line_number, line, reason, now()::TIMESTAMP, lost_lines
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
