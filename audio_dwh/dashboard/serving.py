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
from audio_dwh.dbt.project import dbt_project, prepare_manifest
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
             if mart.is_dir()}  # fmt: skip
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
        marked = name == PLAYS and set(PLAY_COLUMNS) <= columns[name]
        if marked:
            source = f"(SELECT {', '.join(PLAY_COLUMNS)} FROM {source})"
        con.execute(f"CREATE TABLE marts.{quote(name)} AS SELECT *{replace} FROM {source}")
        if marked:  # from the table in memory: marking straight from the files sorts them twice as slowly
            con.execute(f"CREATE OR REPLACE TABLE marts.{PLAYS} AS SELECT *, {_previous_plays()} FROM marts.{PLAYS}")
    return con


# The plays as the dashboard reads them: the columns its figures use, each play marked with its user's
# previous play in every listener group (figures.LISTENER_GROUPS), so a range counts distinct
# listeners with a filtered count. The marking sorts the plays once per group when a version loads;
# the other columns are left out because every one of them would be carried through each sort.
PLAYS = "mart_song_play"
PLAY_COLUMNS = (
    "play_start_date", "play_start_ts", "level", "gender", "user_id", "song_name", "song_artist", "song_played_sec",
)  # fmt: skip


def _previous_plays() -> str:
    return ", ".join(
        f"lag(play_start_date) OVER (PARTITION BY {', '.join([*by, 'user_id', *(['level'] if per_plan else [])])} "
        f"ORDER BY play_start_date) AS {column}"
        for column, by, per_plan in figures.previous_play_marks()
    )


def dashboard_reader(settings: Settings) -> WarehouseReader:
    """What the dashboard reads: the serving copy on the DuckDB target, the marts themselves on BigQuery
    (many readers at once, no writer's lock)."""
    if settings.target == "bigquery":
        from google.cloud import bigquery

        return bigquery.Client(project=settings.bq_project, location=settings.bq_location)
    return open_serving_copy(settings.serving)
