"""Dagster resources, configured from the environment (see settings.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from audio_dwh.dates import parse_day
from audio_dwh.dbt.project import dbt_project
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, day_folder
from audio_dwh.settings import Settings


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse. Unlike its parent, closes the connection when the work inside fails too,
    so a failed load never leaves the file open in a long-lived process (the CLI, tests)."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as con:
            try:
                yield con
            finally:
                con.close()


class ReportFolderResource(dg.ConfigurableResource):
    """Where the daily HTML reports are written."""

    folder: str


class EventSourceResource(dg.ConfigurableResource):
    """Where a day's events come from: the built-in simulator, or files already in the landing folder."""

    landing: str
    source: str = "simulator"
    users: int = 1000
    seed: int = 42
    epoch: str = "2026-11-01"
    reject_threshold: float = 0.01

    @property
    def landing_path(self) -> Path:
        return Path(self.landing)

    def simulator(self) -> DaySimulator:
        return DaySimulator(SimulatorConfig(seed=self.seed, users=self.users, epoch=parse_day(self.epoch, "epoch")))

    def files(self, topic: str, day: date) -> list[Path]:
        folder = day_folder(self.landing_path, topic, day)
        return sorted(p for p in folder.glob("*.json*") if p.is_file()) if folder.is_dir() else []


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(database=str(settings.warehouse)),
        # The venv's dbt, whether or not the venv is on PATH (make runs .venv/bin/audio-dwh directly).
        "reports": ReportFolderResource(folder=str(settings.reports)),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(Path(sys.executable).with_name("dbt"))),
        "event_source": EventSourceResource(
            landing=str(settings.landing),
            source=settings.source,
            users=settings.users,
            seed=settings.seed,
            epoch=settings.start_date.isoformat(),
            reject_threshold=settings.reject_threshold,
        ),
    }
