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
    return Settings(
        home=home,
        landing=Path(os.environ.get("AUDIO_DWH_LANDING", str(home / "landing"))).resolve(),
        start_date=parse_day(os.environ.get("AUDIO_DWH_START_DATE", DEFAULT_START_DATE), "AUDIO_DWH_START_DATE"),
        source=source,
        users=int(os.environ.get("AUDIO_DWH_USERS", "1000")),
        seed=int(os.environ.get("AUDIO_DWH_SEED", "42")),
        reject_threshold=float(os.environ.get("AUDIO_DWH_REJECT_THRESHOLD", "0.01")),
    )
