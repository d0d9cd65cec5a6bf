"""Configuration from the environment: every knob the platform reads, in one place."""

from __future__ import annotations

import math
import os
import re
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
    dashboard_url: str = "http://127.0.0.1:8501"
    alerts_file: Path | None = None
    target: str = "duckdb"
    bq_project: str = "audio-dwh"
    bq_location: str = "US"
    gcs_landing: str = ""
    bq_maximum_bytes_billed: int = 100_000_000_000  # read by dbt's profiles.yml; checked here

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def serving(self) -> Path:
        """The serving copy of the marts the dashboard reads (DuckDB target)."""
        return self.home / "serving"

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
        users=_whole("AUDIO_DWH_USERS", "1000", low=1),
        seed=_whole("AUDIO_DWH_SEED", "42", low=0),
        reject_threshold=_share("AUDIO_DWH_REJECT_THRESHOLD", "0.01"),
        schedule_hour=_whole("AUDIO_DWH_SCHEDULE_HOUR", "2", low=0, high=23, unit="an hour of the day (UTC)"),
        freshness_deadline_hour=_whole(
            "AUDIO_DWH_FRESHNESS_DEADLINE_HOUR", "6", low=0, high=23, unit="an hour of the day (UTC)"
        ),
        ui_base_url=os.environ.get("AUDIO_DWH_UI_URL", "http://127.0.0.1:3000").rstrip("/"),
        dashboard_url=os.environ.get("AUDIO_DWH_DASHBOARD_URL", "http://127.0.0.1:8501").rstrip("/"),
        alerts_file=Path(os.environ["AUDIO_DWH_ALERTS_FILE"]) if os.environ.get("AUDIO_DWH_ALERTS_FILE") else None,
        target=target,
        bq_project=os.environ.get("AUDIO_DWH_BQ_PROJECT", "audio-dwh"),
        bq_location=os.environ.get("AUDIO_DWH_BQ_LOCATION", "US"),
        gcs_landing=gcs_landing,
        bq_maximum_bytes_billed=_whole("AUDIO_DWH_BQ_MAXIMUM_BYTES_BILLED", "100000000000", low=1),
    )


def whole_number(value: object, name: str, low: int, high: int | None = None, unit: str = "a whole number") -> int:
    """A whole number within low..high, or a ValueError naming where it came from (a variable, a file's field)."""
    text = str(value).strip()
    bounds = f"{low}-{high}" if high is not None else f"{low} or more"
    if not re.fullmatch(r"-?[0-9]+", text) or int(text) < low or (high is not None and int(text) > high):
        raise ValueError(f"{name} must be {unit}, {bounds}, got {text!r}")
    return int(text)


def _whole(variable: str, default: str, low: int, high: int | None = None, unit: str = "a whole number") -> int:
    """A whole-number setting within low..high, or a ValueError naming the variable."""
    return whole_number(os.environ.get(variable, default), variable, low, high, unit)


def _share(variable: str, default: str) -> float:
    """A share from 0 to 1 (a fraction, not a percentage), or a ValueError naming the variable."""
    text = os.environ.get(variable, default).strip()
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:  # NaN fails this too: it would switch the threshold off
        raise ValueError(f"{variable} must be a share from 0 to 1 (0.01 is 1%), got {text!r}")
    return value
