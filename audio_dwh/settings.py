"""Configuration from the environment: every knob the platform reads, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from audio_dwh.dates import parse_day

DEFAULT_START_DATE = "2026-11-01"


@dataclass(frozen=True)
class Settings:
    home: Path
    landing: Path
    start_date: date
    source: str
    users: int
    seed: int
    reject_threshold: float
    schedule_hour: int = 2
    freshness_deadline_hour: int = 6
    ui_base_url: str = "http://127.0.0.1:3000"
    alerts_file: Path | None = None
    target: str = "duckdb"
    bq_project: str = "audio-dwh"
    bq_location: str = "US"
    gcs_landing: str = ""

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"


def load_settings() -> Settings:
    """Read AUDIO_DWH_* variables (see README, "Configuration")."""
    home = Path(os.environ.get("AUDIO_DWH_HOME", "data")).resolve()
    source = os.environ.get("AUDIO_DWH_SOURCE", "simulator")
    if source not in ("simulator", "files"):
        raise ValueError(f"AUDIO_DWH_SOURCE must be 'simulator' or 'files', got {source!r}")
    target = os.environ.get("AUDIO_DWH_TARGET", "duckdb")
    if target not in ("duckdb", "bigquery"):
        raise ValueError(f"AUDIO_DWH_TARGET must be 'duckdb' or 'bigquery', got {target!r}")
    gcs_landing = os.environ.get("AUDIO_DWH_GCS_LANDING", "")
    if target == "bigquery" and not gcs_landing:
        raise ValueError(
            "AUDIO_DWH_TARGET=bigquery needs AUDIO_DWH_GCS_LANDING (gs://bucket[/prefix]): raw loads read it"
        )
    return Settings(
        home=home,
        landing=Path(os.environ.get("AUDIO_DWH_LANDING", str(home / "landing"))).resolve(),
        start_date=parse_day(os.environ.get("AUDIO_DWH_START_DATE", DEFAULT_START_DATE), "AUDIO_DWH_START_DATE"),
        source=source,
        users=int(os.environ.get("AUDIO_DWH_USERS", "1000")),
        seed=int(os.environ.get("AUDIO_DWH_SEED", "42")),
        reject_threshold=float(os.environ.get("AUDIO_DWH_REJECT_THRESHOLD", "0.01")),
        schedule_hour=_hour("AUDIO_DWH_SCHEDULE_HOUR", "2"),
        freshness_deadline_hour=_hour("AUDIO_DWH_FRESHNESS_DEADLINE_HOUR", "6"),
        ui_base_url=os.environ.get("AUDIO_DWH_UI_URL", "http://127.0.0.1:3000").rstrip("/"),
        alerts_file=Path(os.environ["AUDIO_DWH_ALERTS_FILE"]) if os.environ.get("AUDIO_DWH_ALERTS_FILE") else None,
        target=target,
        bq_project=os.environ.get("AUDIO_DWH_BQ_PROJECT", "audio-dwh"),
        bq_location=os.environ.get("AUDIO_DWH_BQ_LOCATION", "US"),
        gcs_landing=gcs_landing,
    )


def _hour(variable: str, default: str) -> int:
    text = os.environ.get(variable, default)
    if not text.isdigit() or not 0 <= int(text) <= 23:
        raise ValueError(f"{variable} must be an hour of the day, 0-23 (UTC), got {text!r}")
    return int(text)
