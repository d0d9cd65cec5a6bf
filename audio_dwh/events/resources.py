"""The event source's resource: the landing folder or bucket, and the simulator or the files there."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from audio_dwh.dates import parse_day
from audio_dwh.events.gcs_landing import GcsLanding
from audio_dwh.events.landing import DayFiles, scan_day
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig
from audio_dwh.settings import DEFAULT_SEED, DEFAULT_START_DATE, DEFAULT_USERS


class EventSourceResource(dg.ConfigurableResource):
    """Where a day's events come from: the built-in simulator, or files already in the landing folder."""

    landing: str
    source: str = "simulator"
    users: int = DEFAULT_USERS
    seed: int = DEFAULT_SEED
    epoch: str = DEFAULT_START_DATE.isoformat()
    reject_threshold: float = 0.01
    gcs_landing: str = ""

    @property
    def landing_path(self) -> Path:
        return Path(self.landing)

    @property
    def bucket(self) -> GcsLanding | None:
        return GcsLanding.parse(self.gcs_landing) if self.gcs_landing else None

    def simulator(self) -> DaySimulator:
        return DaySimulator(SimulatorConfig(seed=self.seed, users=self.users, epoch=parse_day(self.epoch, "epoch")))

    def files(self, topic: str, day: date) -> DayFiles:
        """The landing folder's files of a topic and day, by kind (events, unreadable, skipped)."""
        return scan_day(self.landing_path, topic, day)
