"""The local Dagster instance: everything lives under $AUDIO_DWH_HOME."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from audio_dwh.settings import Settings

INSTANCE_TEMPLATE = Path(__file__).with_name("dagster.yaml")


def prepare_home(settings: Settings) -> Path:
    """Create the home folders, install the instance config and point DAGSTER_HOME at it."""
    for folder in (settings.home, settings.landing, settings.reports, settings.dagster_home):
        folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(INSTANCE_TEMPLATE, settings.dagster_home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return settings.dagster_home
