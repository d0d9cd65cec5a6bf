"""Import eventsim's classic single-stream output (one JSON line per page request) into the landing
folder as the four topics, the way eventsim's Kafka output splits them:

- page_view_events: every event; listen_events: page = NextSong (duration = length);
- status_change_events: page in (Submit Upgrade, Submit Downgrade);
- auth_events: the event that follows a Login in the same session, success = (auth = Logged In);
- user fields only while logged in (or cancelled); location "City, ST" split into city and state;
  zip, lat and lon are not in the classic format and stay absent.

The split is one SQL statement per topic in DuckDB; Python only streams the resulting lines out.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from audio_dwh.dates import parse_day
from audio_dwh.events.contract import TOPICS
from audio_dwh.events.landing import day_folder
from audio_dwh.warehouse.sql import sql_string

CLASSIC_FILE = "classic.json"
# Real eventsim output shipped as example data: 30 days of November 2018 (sparkify/SOURCE.md).
SPARKIFY_SAMPLE = Path(__file__).parent / "sparkify"
CLASSIC_COLUMNS = {
    "artist": "VARCHAR", "auth": "VARCHAR", "firstName": "VARCHAR", "gender": "VARCHAR",
    "itemInSession": "BIGINT", "lastName": "VARCHAR", "length": "DOUBLE", "level": "VARCHAR",
    "location": "VARCHAR", "method": "VARCHAR", "page": "VARCHAR", "registration": "DOUBLE",
    "sessionId": "BIGINT", "song": "VARCHAR", "status": "BIGINT", "ts": "BIGINT", "userAgent": "VARCHAR",
    "userId": "VARCHAR",
}  # fmt: skip
USER_FIELDS = {"userId", "lastName", "firstName", "gender", "registration"}
# How each contract field is computed from a classic row.
FIELD_SQL = {
    "city": "nullif(regexp_extract(location, '^(.*), [^,]*$', 1), '')",
    "state": "nullif(regexp_extract(location, ', ([^,]*)$', 1), '')",
    "zip": "NULL",
    "lon": "NULL",
    "lat": "NULL",
    "userId": "TRY_CAST(nullif(userId, '') AS BIGINT)",
    "registration": "CAST(registration AS BIGINT)",
    "duration": "length",
    "success": "auth = 'Logged In'",
    "tag": "NULL",
}
TOPIC_FILTER = {
    "listen_events": "page = 'NextSong'",
    "page_view_events": "true",
    "status_change_events": "page IN ('Submit Upgrade', 'Submit Downgrade')",
    "auth_events": "previous_page = 'Login'",
}


def _field_sql(name: str) -> str:
    value = FIELD_SQL.get(name, f'"{name}"')
    if name in USER_FIELDS:
        value = f"CASE WHEN auth IN ('Logged In', 'Cancelled') THEN {value} END"
    return f"'{name}', {value}"


def sparkify_sample() -> list[Path]:
    """The shipped November 2018 sample, one gzipped JSON-lines file per day, in day order."""
    return sorted(SPARKIFY_SAMPLE.glob("*-events.json.gz"))


@dataclass(frozen=True)
class Imported:
    counts: dict[str, int]  # lines per topic
    days: list[date]  # the days with events, in order


def import_classic(files: list[Path], landing: Path) -> Imported:
    """Split classic files into landing/<topic>/date=YYYY-MM-DD/classic.json. A topic without events
    on a day with events is an empty day folder: eventsim sent none that day, nothing is missing."""
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"classic event files not found: {', '.join(missing)}")
    con = duckdb.connect()
    file_list = "[" + ", ".join(sql_string(str(f)) for f in files) + "]"
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in CLASSIC_COLUMNS.items()) + "}"
    con.execute(
        f"""CREATE TABLE classic AS
            SELECT *, lag(page) OVER (PARTITION BY sessionId ORDER BY ts, itemInSession) AS previous_page
            FROM read_json({file_list}, format = 'newline_delimited', columns = {columns})"""
    )
    counts: dict[str, int] = {}
    topic_days: dict[str, set[str]] = {}
    for topic in TOPICS.values():
        fields = ", ".join(_field_sql(f.name) for f in topic.fields)
        # A JSON merge patch drops the null members: absent, as eventsim leaves them.
        cursor = con.execute(
            f"""SELECT strftime(make_timestamp(ts * 1000), '%Y-%m-%d') AS day,
                       json_merge_patch('{{}}', json_object({fields}))::VARCHAR AS line
                FROM classic WHERE {TOPIC_FILTER[topic.name]} ORDER BY ts, sessionId, itemInSession"""
        )
        by_day: dict[str, list[str]] = defaultdict(list)
        while batch := cursor.fetchmany(10_000):
            for day, line in batch:
                by_day[day].append(line)
        for day, lines in by_day.items():
            _write_lines(day_folder(landing, topic.name, parse_day(day)), lines)
        counts[topic.name] = sum(len(v) for v in by_day.values())
        topic_days[topic.name] = set(by_day)
    con.close()
    days = sorted(set().union(*topic_days.values()))
    for topic, found in topic_days.items():
        for day in days:
            if day not in found:
                day_folder(landing, topic, parse_day(day)).mkdir(parents=True, exist_ok=True)
    return Imported(counts, [parse_day(day) for day in days])


def _write_lines(folder: Path, lines: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{CLASSIC_FILE}.tmp"
    tmp.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    os.replace(tmp, folder / CLASSIC_FILE)
