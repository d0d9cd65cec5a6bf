"""Python asset checks of a raw table's partition: contract, nulls, keys, rejects, new values, volume.

Each check is a query over what the loader wrote; none re-implements the loader.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg
import duckdb

from audio_dwh.events.contract import Topic
from audio_dwh.events.raw_schema import LOAD_COLUMNS, RAW_SCHEMA, REJECTED_TABLE, SQL_TYPES, table_name
from audio_dwh.raw.duckdb_loader import rejected_share
from audio_dwh.warehouse.sql import quote, sql_string

VOLUME_WARN_RATIO = 0.5
VOLUME_HISTORY_DAYS = 7
VOLUME_MIN_HISTORY_DAYS = 3  # a median of one or two days is no trend to judge against
NEW_VALUES_SHOWN = 20  # per field; the count covers them all


@dataclass(frozen=True)
class RawCheck:
    name: str
    description: str
    blocking: bool
    run: Callable[[duckdb.DuckDBPyConnection, Topic, date, float], dg.AssetCheckResult]


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchall()[0][0]


def check_contract(con: duckdb.DuckDBPyConnection, topic: Topic, day: date, _: float) -> dg.AssetCheckResult:
    expected = [(f.name, SQL_TYPES[f.type]) for f in topic.fields] + [(n, t) for n, t, _ in LOAD_COLUMNS]
    actual = con.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position""",
        [RAW_SCHEMA, topic.name],
    ).fetchall()
    differences = sorted(set(expected) ^ set(actual))
    return dg.AssetCheckResult(
        passed=actual == expected,
        metadata={"differences": ", ".join(f"{n} {t}" for n, t in differences) or "none"},
    )


def check_required_not_null(con: duckdb.DuckDBPyConnection, topic: Topic, day: date, _: float) -> dg.AssetCheckResult:
    counts = ", ".join(f"count(*) FILTER (WHERE {quote(n)} IS NULL)" for n in topic.required_fields)
    nulls = con.execute(f"SELECT {counts} FROM {table_name(topic)} WHERE partition_date = ?", [day]).fetchall()[0]
    by_field = {n: c for n, c in zip(topic.required_fields, nulls, strict=True) if c}
    return dg.AssetCheckResult(
        passed=not by_field,
        metadata={"null_counts": ", ".join(f"{n}: {c}" for n, c in by_field.items()) or "none"},
    )


def check_event_id_unique(con: duckdb.DuckDBPyConnection, topic: Topic, day: date, _: float) -> dg.AssetCheckResult:
    duplicates = _scalar(
        con,
        f"""SELECT count(*) FROM (SELECT event_id FROM {table_name(topic)} WHERE partition_date = ?
            GROUP BY event_id HAVING count(*) > 1 OR event_id IS NULL)""",
        [day],
    )
    return dg.AssetCheckResult(passed=duplicates == 0, metadata={"duplicate_or_null_ids": duplicates})


def check_rejected_share(
    con: duckdb.DuckDBPyConnection, topic: Topic, day: date, threshold: float
) -> dg.AssetCheckResult:
    rows = _scalar(con, f"SELECT count(*) FROM {table_name(topic)} WHERE partition_date = ?", [day])
    rejected, lost_lines = con.execute(
        f"""SELECT count(*), coalesce(sum(coalesce(lost_lines, 1)), 0) FROM {REJECTED_TABLE}
            WHERE topic = ? AND partition_date = ?""",
        [topic.name, day],
    ).fetchall()[0]
    share = rejected_share(rows, lost_lines)
    return dg.AssetCheckResult(
        passed=share <= threshold,
        metadata={
            "rejected": rejected,
            "lost_lines": lost_lines,
            "rejected_share": round(share, 6),
            "threshold": threshold,
        },
    )


def new_values(con: duckdb.DuckDBPyConnection, topic: Topic, day: date) -> dict[str, list[tuple[str, int]]]:
    """Per categorical field, the values of the day that eventsim does not send, most frequent first."""
    fields = [f for f in topic.fields if f.known]
    if not fields:
        return {}
    queries = " UNION ALL ".join(
        f"""SELECT {sql_string(f.name)} AS field, {quote(f.name)} AS value, count(*) AS n FROM {table_name(topic)}
            WHERE partition_date = $day AND {quote(f.name)} NOT IN ({", ".join(sql_string(v) for v in f.known)})
            GROUP BY value"""
        for f in fields
    )
    found: dict[str, list[tuple[str, int]]] = {}
    for name, value, n in con.execute(
        f"SELECT * FROM ({queries}) ORDER BY field, n DESC, value", {"day": day}
    ).fetchall():
        found.setdefault(name, []).append((value, n))
    return found


def describe_new_values(found: dict[str, list[tuple[str, int]]]) -> str:
    """'level: premium (3), trial (1); auth: Suspended (2)', or 'none'."""
    return (
        "; ".join(
            f"{name}: "
            + ", ".join(f"{value[:100]} ({n:,})" for value, n in values[:NEW_VALUES_SHOWN])
            + (f" and {len(values) - NEW_VALUES_SHOWN} more" if len(values) > NEW_VALUES_SHOWN else "")
            for name, values in found.items()
        )
        or "none"
    )


def check_new_values(con: duckdb.DuckDBPyConnection, topic: Topic, day: date, _: float) -> dg.AssetCheckResult:
    found = new_values(con, topic, day)
    return dg.AssetCheckResult(
        passed=not found,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "new_values": describe_new_values(found),
            "rows_with_new_values": sum(n for values in found.values() for _, n in values),
        },
    )


def check_volume(con: duckdb.DuckDBPyConnection, topic: Topic, day: date, _: float) -> dg.AssetCheckResult:
    history = dict(
        con.execute(
            f"""SELECT partition_date, count(*) FROM {table_name(topic)}
                WHERE partition_date BETWEEN ? AND ? GROUP BY 1""",
            [day - timedelta(days=VOLUME_HISTORY_DAYS), day],  # the 7 days before, and the day itself
        ).fetchall()
    )
    rows = history.pop(day, 0)
    if len(history) < VOLUME_MIN_HISTORY_DAYS:
        return dg.AssetCheckResult(
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"rows": rows, "history_days": len(history), "note": "too little history to judge"},
        )
    median = statistics.median(history.values())
    ratio = rows / median if median else float("inf")
    return dg.AssetCheckResult(
        passed=abs(ratio - 1) <= VOLUME_WARN_RATIO,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows": rows, "trailing_median": median, "ratio": round(ratio, 3), "history_days": len(history)},
    )


RAW_CHECKS = (
    RawCheck("contract", "Table columns and types are exactly the raw contract's.", True, check_contract),
    RawCheck(
        "required_fields_not_null", "No required contract field is NULL in the day.", True, check_required_not_null
    ),
    RawCheck("event_id_unique", "Every event id of the day is present and unique.", True, check_event_id_unique),
    RawCheck(
        "rejected_share",
        "Rejected lines, and the lines of files that could not be read, stay under the threshold "
        "(AUDIO_DWH_REJECT_THRESHOLD) as a share of the day's lines.",
        True,
        check_rejected_share,
    ),
    RawCheck(
        "new_categorical_values",
        "Categorical fields (level, auth, page, method, gender) hold only the values eventsim sends; rows with "
        "another value are loaded and counted here (warns only), so a new plan type or auth state is seen.",
        False,
        check_new_values,
    ),
    RawCheck(
        "volume",
        "Rows within ±50% of the trailing 7-day median, given 3+ days of history (warns only).",
        False,
        check_volume,
    ),
)
