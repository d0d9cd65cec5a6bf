"""Configuration from the environment: every knob the platform reads, in one place."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from audio_dwh.dates import parse_day

# The defaults, written once: the simulator's and the resources' own defaults are these.
DEFAULT_START_DATE = date(2026, 11, 1)
DEFAULT_USERS = 1000
DEFAULT_SEED = 42
TCP_PORT = "a TCP port"
HOUR = "an hour of the day (UTC)"


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
    # Sinks from AUDIO_DWH_ALERT_* and AUDIO_DWH_SMTP_*, as entries of an alerts file (secrets by name).
    alert_sinks: tuple[dict[str, Any], ...] = ()
    target: str = "duckdb"
    bq_project: str = "audio-dwh"
    bq_dataset: str = "audio_dwh"
    bq_location: str = "US"
    bq_auth_method: str = "oauth"
    gcs_landing: str = ""
    bq_maximum_bytes_billed: int = 100_000_000_000
    # DuckDB's memory for the raw load and dbt; beyond it DuckDB spills to a temporary folder beside
    # the warehouse, so a bigger day takes longer, not more memory (docs/performance.md, "A bigger day").
    duckdb_memory_limit: str = "1GB"
    # The earliest day imported into the home (import-classic): its days are partitions too.
    imported_from: date | None = None

    @property
    def first_partition(self) -> date:
        """The first daily partition: AUDIO_DWH_START_DATE, or an earlier day imported into the home."""
        return min(self.start_date, self.imported_from) if self.imported_from else self.start_date

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

    def dbt_profile_environment(self) -> dict[str, str]:
        """What dbt's profiles.yml reads for the BigQuery target: these settings, so that the profile
        keeps no defaults of its own."""
        return {
            "AUDIO_DWH_BQ_AUTH_METHOD": self.bq_auth_method,
            "AUDIO_DWH_BQ_PROJECT": self.bq_project,
            "AUDIO_DWH_BQ_DATASET": self.bq_dataset,
            "AUDIO_DWH_BQ_LOCATION": self.bq_location,
            "AUDIO_DWH_BQ_MAXIMUM_BYTES_BILLED": str(self.bq_maximum_bytes_billed),
        }


IMPORTED_FROM = "imported_from"  # the home's file of its earliest imported day


def imported_from(home: Path) -> date | None:
    """The earliest day imported into the home, if any."""
    path = home / IMPORTED_FROM
    return parse_day(path.read_text().strip(), str(path)) if path.is_file() else None


def record_import(home: Path, first_day: date) -> None:
    """Keep the earliest day ever imported into the home, so every command and `make dev` on it has
    that day's partitions without AUDIO_DWH_START_DATE; the simulator's epoch stays as configured."""
    earlier = imported_from(home)
    if earlier is None or first_day < earlier:
        home.mkdir(parents=True, exist_ok=True)
        (home / IMPORTED_FROM).write_text(f"{first_day.isoformat()}\n")


def load_settings() -> Settings:
    """Read AUDIO_DWH_* variables (README, "Configuration")."""
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
        imported_from=imported_from(home),
        landing=Path(os.environ.get("AUDIO_DWH_LANDING", str(home / "landing"))).resolve(),
        start_date=parse_day(
            os.environ.get("AUDIO_DWH_START_DATE", DEFAULT_START_DATE.isoformat()), "AUDIO_DWH_START_DATE"
        ),
        source=source,
        users=_whole("AUDIO_DWH_USERS", str(DEFAULT_USERS), low=1),
        seed=_whole("AUDIO_DWH_SEED", str(DEFAULT_SEED), low=0),
        reject_threshold=_share("AUDIO_DWH_REJECT_THRESHOLD", "0.01"),
        schedule_hour=_whole("AUDIO_DWH_SCHEDULE_HOUR", str(Settings.schedule_hour), low=0, high=23, unit=HOUR),
        freshness_deadline_hour=_whole(
            "AUDIO_DWH_FRESHNESS_DEADLINE_HOUR", str(Settings.freshness_deadline_hour), low=0, high=23, unit=HOUR
        ),
        ui_base_url=os.environ.get("AUDIO_DWH_UI_URL", Settings.ui_base_url).rstrip("/"),
        dashboard_url=os.environ.get("AUDIO_DWH_DASHBOARD_URL", Settings.dashboard_url).rstrip("/"),
        alerts_file=Path(os.environ["AUDIO_DWH_ALERTS_FILE"]) if os.environ.get("AUDIO_DWH_ALERTS_FILE") else None,
        alert_sinks=_alert_sinks(),
        target=target,
        bq_project=os.environ.get("AUDIO_DWH_BQ_PROJECT", Settings.bq_project),
        bq_dataset=os.environ.get("AUDIO_DWH_BQ_DATASET", Settings.bq_dataset),
        bq_location=os.environ.get("AUDIO_DWH_BQ_LOCATION", Settings.bq_location),
        bq_auth_method=os.environ.get("AUDIO_DWH_BQ_AUTH_METHOD", Settings.bq_auth_method),
        gcs_landing=gcs_landing,
        bq_maximum_bytes_billed=_whole(
            "AUDIO_DWH_BQ_MAXIMUM_BYTES_BILLED", str(Settings.bq_maximum_bytes_billed), low=1
        ),
        duckdb_memory_limit=_memory("AUDIO_DWH_DUCKDB_MEMORY_LIMIT", Settings.duckdb_memory_limit),
    )


def _memory(variable: str, default: str) -> str:
    """An amount of memory as DuckDB reads it (512MB, 1.5GB, 2GiB), or a ValueError naming the variable."""
    text = os.environ.get(variable, default).strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?\s*([KMGT]i?B)", text, flags=re.IGNORECASE):
        raise ValueError(f"{variable} must be an amount of memory such as 512MB or 2GB, got {text!r}")
    return text


def _alert_sinks() -> tuple[dict[str, Any], ...]:
    """The sinks the AUDIO_DWH_ALERT_* and AUDIO_DWH_SMTP_* variables describe; the SMTP password stays
    in the environment, named, and is read only when a mail is sent."""
    env = os.environ
    sinks: list[dict[str, Any]] = []
    if env.get("AUDIO_DWH_ALERT_WEBHOOK_URL"):
        sinks.append({"type": "webhook", "url_env": "AUDIO_DWH_ALERT_WEBHOOK_URL"})
    if env.get("AUDIO_DWH_ALERT_SLACK_URL"):
        sinks.append({"type": "slack", "url_env": "AUDIO_DWH_ALERT_SLACK_URL"})
    if env.get("AUDIO_DWH_SMTP_HOST"):
        sinks.append(
            {
                "type": "email",
                "host": env["AUDIO_DWH_SMTP_HOST"],
                "port": whole_number(env.get("AUDIO_DWH_SMTP_PORT", "25"), "AUDIO_DWH_SMTP_PORT", 1, 65535, TCP_PORT),
                "from": env.get("AUDIO_DWH_ALERT_EMAIL_FROM", "audio-dwh@localhost"),
                "to": [a.strip() for a in env.get("AUDIO_DWH_ALERT_EMAIL_TO", "").split(",") if a.strip()],
                "username": env.get("AUDIO_DWH_SMTP_USER"),
                "password_env": "AUDIO_DWH_SMTP_PASSWORD",
                "starttls": env.get("AUDIO_DWH_SMTP_STARTTLS", "") == "1",
            }
        )
    return tuple(sinks)


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
