"""The serving copy: the marts as Parquet files, published after each run, that the dashboard reads.

DuckDB lets one process at a time open its file for writing and no other process open it meanwhile,
so a dashboard reading warehouse.duckdb would fail whenever a run writes. Instead each run publishes
the marts into a new version folder (the days it rebuilt written afresh, every other file hard-linked
from the version before), then points `current` at it with one atomic rename. A reader resolves
`current` once per query and so sees one whole version: the last published, while a run writes.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from audio_dwh.dashboard import figures
from audio_dwh.settings import Settings
from audio_dwh.warehouse.reading import WarehouseReader
from audio_dwh.warehouse.sql import quote, sql_string

CURRENT = "current"
VERSIONS = "versions"
WHOLE = "all.parquet"  # the one file of a mart published whole


class NotPublishedError(RuntimeError):
    """No run has published the marts yet."""


@dataclass(frozen=True)
class ServedMart:
    name: str
    day_column: str
    by_day: bool  # one file per day (the mart rebuilds whole days), else one file for the whole mart


def served_marts(manifest_path: Path | None = None) -> list[ServedMart]:
    """Every mart of the dbt project and how it is published, from the manifest: marts rebuilt day by
    day (mart_config: incremental, no unique_key) get a file per day; marts whose runs change rows of
    other days (recomputed_mart_config, keyed by unique_key, or a table computed whole) are published
    whole."""
    # Imported here: the dashboard's own process reads the copy and never needs dagster-dbt.
    from audio_dwh.dbt.project import dbt_project, prepare_manifest

    manifest = json.loads((manifest_path or prepare_manifest(dbt_project)).read_text())
    marts = [
        node for node in manifest["nodes"].values() if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    ]
    return sorted(
        (
            ServedMart(
                node["name"],
                node["config"]["meta"]["day_column"],
                by_day=node["config"]["materialized"] == "incremental" and not node["config"].get("unique_key"),
            )
            for node in marts
        ),
        key=lambda mart: mart.name,
    )


def publish(con: duckdb.DuckDBPyConnection, folder: Path, marts: Iterable[ServedMart], days: list[date]) -> Path:
    """Publish `days` of the marts (read through `con`, the warehouse) as the new current version of
    the serving copy in `folder`; returns the version's folder."""
    folder = folder.resolve()
    versions = folder / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    current = folder / CURRENT
    if current.is_dir() and not current.is_symlink():  # a copy of the home that followed the link
        current.rename(versions / f"copied-{stamp}")
        current.symlink_to(Path(VERSIONS) / f"copied-{stamp}")
    previous = current_version(folder)
    build = versions / f".build-{stamp}-{uuid.uuid4().hex[:8]}"
    build.mkdir()
    rewritten = {f"{day.isoformat()}.parquet" for day in days}
    for mart in marts:
        target = build / mart.name
        target.mkdir()
        if previous is not None and (previous / mart.name).is_dir() and mart.by_day:
            for old in (previous / mart.name).iterdir():
                if old.name not in rewritten:  # a hard-linked file written again would change the old version
                    os.link(old, target / old.name)
        source = f"marts.{quote(mart.name)}"
        if mart.by_day:
            for day in days:
                _copy(con, f"SELECT * FROM {source} WHERE {quote(mart.day_column)} = DATE '{day.isoformat()}'",
                      target / f"{day.isoformat()}.parquet")  # fmt: skip
        else:
            _copy(con, f"SELECT * FROM {source}", target / WHOLE)
    if any(mart.name == PLAYS for mart in marts) and _has_play_columns(con):
        _publish_marked_plays(con, previous, build, days)
    version = versions / stamp
    build.rename(version)
    link = folder / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
    link.symlink_to(Path(VERSIONS) / stamp)
    link.replace(folder / CURRENT)  # atomic: a reader sees the old version or the new one
    _remove_old_versions(folder, keep={version, previous})
    return version


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    con.execute(f"COPY ({query}) TO {sql_string(str(path))} (FORMAT parquet, COMPRESSION zstd)")


def current_version(folder: Path) -> Path | None:
    """The folder of the version `current` points at, or None before the first publication."""
    link = folder / CURRENT
    return link.resolve() if link.is_symlink() else None


def _remove_old_versions(folder: Path, keep: set[Path | None]) -> None:
    """Drop every version but the new and the one before it (a query that started on it keeps its
    files), and any build a killed run left behind."""
    for path in (folder / VERSIONS).iterdir():
        if path.resolve() not in keep:
            shutil.rmtree(path, ignore_errors=True)
    for path in folder.glob(f".{CURRENT}-*"):
        path.unlink(missing_ok=True)


# The plays as the dashboard reads them (MARKED_PLAYS, beside the marts in each version): the columns its
# figures use, each play marked with the date of its user's previous play in every listener group
# (figures.LISTENER_GROUPS), so a range counts distinct listeners with a filtered count. Marked when a
# version is published, so that the first view of it only reads files; the other columns are left out
# because every one of them would be carried through each group's sort.
PLAYS = "mart_song_play"
MARKED_PLAYS = "dashboard_plays"
PLAY_KEY = "song_play_pk"
PLAY_COLUMNS = (
    "play_start_date", "play_start_ts", "level", "gender", "user_id", "song_name", "song_artist", "song_played_sec",
)  # fmt: skip


def _has_play_columns(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        f"SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = {sql_string(PLAYS)}"
    ).fetchall()
    return {*PLAY_COLUMNS, PLAY_KEY} <= {column for (column,) in found}


def _publish_marked_plays(con: duckdb.DuckDBPyConnection, previous: Path | None, build: Path, days: list[date]) -> None:
    """The marked plays of the new version: a day's marks depend on the days before it, so every day
    from the first one published is marked again (a daily run: its own day) and earlier days' files
    are linked from the version before; with no marked files before, every day is marked."""
    target = build / MARKED_PLAYS
    target.mkdir()
    kept = previous / MARKED_PLAYS if previous is not None else None
    first = min(days) if days and kept is not None and kept.is_dir() else None
    con.execute(f"CREATE OR REPLACE TEMP TABLE marked_plays AS {marked_plays_sql(first)}")
    try:
        marked = {day for (day,) in con.execute("SELECT DISTINCT play_start_date FROM marked_plays").fetchall()}
        if first is not None:
            for old in kept.iterdir():
                if date.fromisoformat(old.stem) < first:
                    os.link(old, target / old.name)
        for day in sorted(marked | set(days)):
            _copy(con, f"SELECT * FROM marked_plays WHERE play_start_date = DATE '{day.isoformat()}'",
                  target / f"{day.isoformat()}.parquet")  # fmt: skip
    finally:
        con.execute("DROP TABLE marked_plays")


def marked_plays_sql(first: date | None) -> str:
    """The plays from `first` on (all, without it), each marked with its user's previous play in every
    listener group: within those plays by a window, and for a group's first play among them the last
    play before `first`, from one aggregate per group over the earlier days (no sort of history)."""
    source = f"marts.{quote(PLAYS)}"
    since = f" WHERE play_start_date >= DATE '{first.isoformat()}'" if first else ""
    earlier, joins, marks = [], [], []
    for n, (column, by, per_plan) in enumerate(figures.previous_play_marks()):
        keys = [*by, "user_id", *(["level"] if per_plan else [])]
        # ordered to the play's key: which of a day's plays carries the earlier day's mark is then the
        # same in every home with the same plays (any one would count the same)
        lag = f"lag(play_start_date) OVER (PARTITION BY {', '.join(keys)} ORDER BY play_start_date, {PLAY_KEY})"
        if first is None:
            marks.append(f"{lag} AS {column}")
            continue
        earlier.append(
            f"before_{n} AS (SELECT {', '.join(f'{key} AS key_{k}' for k, key in enumerate(keys))}, "
            f"max(play_start_date) AS previous FROM {source} "
            f"WHERE play_start_date < DATE '{first.isoformat()}' GROUP BY ALL)"
        )
        joins.append(f"LEFT JOIN before_{n} ON " + " AND ".join(
            f"before_{n}.key_{k} IS NOT DISTINCT FROM {key}" for k, key in enumerate(keys)))  # fmt: skip
        marks.append(f"coalesce({lag}, before_{n}.previous) AS {column}")
    plays = f"plays AS (SELECT {', '.join([*PLAY_COLUMNS, PLAY_KEY])} FROM {source}{since})"
    return (
        f"WITH {', '.join([plays, *earlier])} SELECT plays.* EXCLUDE ({PLAY_KEY}), {', '.join(marks)} "
        f"FROM plays {' '.join(joins)}"
    )


# Song and artist names are what a range's plays are grouped by; as ENUMs (created in name order, so
# they sort as the text does) they group as integers.
ENUM_COLUMNS = ("song_name", "song_artist")
_loaded: dict[Path, duckdb.DuckDBPyConnection] = {}  # the current version, in memory, for this process
_loading = threading.Lock()


def open_serving_copy(folder: Path) -> duckdb.DuckDBPyConnection:
    """A cursor on an in-memory DuckDB database whose schema `marts` holds every mart of the current
    version, so the dashboard's SQL reads the copy as it would read the warehouse. The version is read
    from its files once per process and kept in memory (the dashboard answers many ranges from it);
    a newer version replaces it on the next call."""
    version = current_version(folder)
    if version is None or not version.is_dir():
        raise NotPublishedError(
            f"no serving copy in {folder}: the dashboard reads the marts a run publishes there; run the "
            "daily job first (make run), or materialize serving/marts for the loaded days in the UI"
        )
    with _loading:
        database = _loaded.get(version)
        if database is None:
            database = _load(version)
            _loaded.clear()  # cursors of runs still reading the old version keep it alive until they close
            _loaded[version] = database
    return database.cursor()


def _load(version: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    files = {mart.name: f"read_parquet({sql_string(str(mart / '*.parquet'))})" for mart in version.iterdir()
             if mart.is_dir() and mart.name != MARKED_PLAYS}  # fmt: skip
    if (version / MARKED_PLAYS).is_dir():  # the plays as the dashboard reads them, in place of the mart's
        files[PLAYS] = f"read_parquet({sql_string(str(version / MARKED_PLAYS / '*.parquet'))})"
    columns = {
        name: {column for (column, *_) in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        for name, source in files.items()
    }
    enums = [column for column in ENUM_COLUMNS if any(column in found for found in columns.values())]
    for column in enums:
        values = " UNION ".join(f"SELECT {column} FROM {files[name]}" for name in files if column in columns[name])
        con.execute(f"CREATE TYPE {column}_enum AS ENUM (SELECT {column} FROM ({values}) "
                    f"WHERE {column} IS NOT NULL ORDER BY 1)")  # fmt: skip
    for name, source in sorted(files.items()):
        as_enum = [f"{column}::{column}_enum AS {column}" for column in enums if column in columns[name]]
        replace = f" REPLACE ({', '.join(as_enum)})" if as_enum else ""
        con.execute(f"CREATE TABLE marts.{quote(name)} AS SELECT *{replace} FROM {source}")
    return con


def dashboard_reader(settings: Settings) -> WarehouseReader:
    """What the dashboard reads: the serving copy on the DuckDB target, the marts themselves on BigQuery
    (many readers at once, no writer's lock)."""
    if settings.target == "bigquery":
        from google.cloud import bigquery

        return bigquery.Client(project=settings.bq_project, location=settings.bq_location)
    return open_serving_copy(settings.serving)
