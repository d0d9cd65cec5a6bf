"""The landing sensor: launches a day's run once its files are complete, never twice."""

import json
import time
from datetime import date
from pathlib import Path

import dagster as dg
from dagster_gcp import GCSResource

from audio_dwh.dates import parse_day
from audio_dwh.events.contract import TOPICS
from audio_dwh.orchestration.jobs import daily_job
from audio_dwh.partitions import daily_partitions
from audio_dwh.resources import EventSourceResource

# A day is complete when every topic has files for it and none changed in the last SETTLE_SECONDS:
# writers (eventsim's file output, a copy from a bucket) get time to finish the file they write.
SETTLE_SECONDS = 60


def _local_inventory(landing: Path) -> dict[str, dict[str, list[float]]]:
    """The landing folder's files: day text -> topic -> each file's modification time."""
    days: dict[str, dict[str, list[float]]] = {}
    for topic in TOPICS:
        for path in (landing / topic).glob("date=*/*.json*"):
            if path.is_file():
                topics = days.setdefault(path.parent.name.removeprefix("date="), {})
                topics.setdefault(topic, []).append(path.stat().st_mtime)
    return days


def complete_days(
    inventory: dict[str, dict[str, list[float]]], now: float, settle_seconds: float = SETTLE_SECONDS
) -> list[date]:
    """Days with files for all four topics, none modified within the settle time."""
    days = []
    for text, topics in sorted(inventory.items()):
        try:
            day = parse_day(text, "landing folder date")
        except ValueError:
            continue  # not a day folder of ours
        if set(topics) == set(TOPICS) and all(now - t >= settle_seconds for times in topics.values() for t in times):
            days.append(day)
    return days


@dg.sensor(
    name="landing_sensor",
    job=daily_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Watches the landing folder, or the landing bucket when AUDIO_DWH_GCS_LANDING is set "
        "(AUDIO_DWH_SOURCE=files), and launches daily_job for each day whose "
        "four topics have settled files. The cursor remembers launched days: a day is never launched twice."
    ),
)
def landing_sensor(
    context: dg.SensorEvaluationContext, event_source: EventSourceResource, gcs: GCSResource
) -> dg.SensorResult:
    launched = set(json.loads(context.cursor)) if context.cursor else set()
    bucket = event_source.bucket
    inventory = bucket.inventory(gcs.get_client()) if bucket else _local_inventory(event_source.landing_path)
    requests = []
    for day in complete_days(inventory, time.time()):
        key = day.isoformat()
        if key in launched or not daily_partitions.has_partition_key(key):
            continue
        requests.append(
            dg.RunRequest(run_key=f"landing-{key}", partition_key=key, tags={"audio_dwh/trigger": "landing"})
        )
        launched.add(key)
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(sorted(launched)))
