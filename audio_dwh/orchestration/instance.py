"""The local Dagster instance: everything lives under $AUDIO_DWH_HOME."""

from __future__ import annotations

import json
import os
from pathlib import Path

from audio_dwh.settings import Settings

INSTANCE_TEMPLATE = Path(__file__).with_name("dagster.yaml")
STORAGE_FOLDER = "base_dir:\n        env: DAGSTER_HOME"
# Dagster stores the events it sends as a batch (a run's planned materializations and checks, a
# partitioned output's materializations) together when this is set; the home's event log writes such
# a batch in one transaction (event_log.py), PostgreSQL's in one statement.
EVENT_BATCH_SIZE = "1000"


def prepare_home(settings: Settings) -> Path:
    """Create the home folders, install the instance config and point DAGSTER_HOME at it."""
    for folder in (settings.home, settings.landing, settings.reports, settings.dagster_home):
        folder.mkdir(parents=True, exist_ok=True)
    write_instance_config(settings.dagster_home)  # by every command, so a moved home follows
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)  # inherited by runs and `dagster dev`
    return settings.dagster_home


def write_instance_config(dagster_home: Path) -> None:
    """The instance config in `dagster_home`, the storage's folder written out, so that the instance also
    opens without DAGSTER_HOME set (DagsterInstance.from_config(folder))."""
    folder = json.dumps(str(dagster_home.resolve()))  # a JSON string is a YAML string
    (dagster_home / "dagster.yaml").write_text(
        INSTANCE_TEMPLATE.read_text().replace(STORAGE_FOLDER, f"base_dir: {folder}")
    )
