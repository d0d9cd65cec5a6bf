"""The landing sensor: launches a day's run once its files are complete, never twice."""

import json
import time
from datetime import date

import dagster as dg

from audio_dwh.dates import parse_day
from audio_dwh.events.contract import TOPICS
from audio_dwh.orchestration.jobs import daily_job
from audio_dwh.partitions import daily_partitions
from audio_dwh.resources import EventSourceResource

# A day is complete when every topic has files for it and none changed in the last SETTLE_SECONDS:
# writers (eventsim's file output, a copy from a bucket) get time to finish the file they write.
SETTLE_SECONDS = 60


def complete_days(event_source: EventSourceResource, now: float, settle_seconds: float = SETTLE_SECONDS) -> list[date]:
    """Days with files for all four topics, none modified within the settle time."""
    landing = event_source.landing_path
    folders = [landing / topic for topic in TOPICS]
    if not all(f.is_dir() for f in folders):
        return []
    candidates = set.intersection(
        *({d.name.removeprefix("date=") for d in folder.glob("date=*") if d.is_dir()} for folder in folders)
    )
    days = []
    for text in sorted(candidates):
        try:
            day = parse_day(text, "landing folder date")
        except ValueError:
            continue  # not a day folder of ours
        by_topic = [event_source.files(topic, day) for topic in TOPICS]
        if all(by_topic) and all(now - f.stat().st_mtime >= settle_seconds for files in by_topic for f in files):
            days.append(day)
    return days


@dg.sensor(
    name="landing_sensor",
    job=daily_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Watches the landing folder (AUDIO_DWH_SOURCE=files) and launches daily_job for each day whose "
        "four topics have settled files. The cursor remembers launched days: a day is never launched twice."
    ),
)
def landing_sensor(context: dg.SensorEvaluationContext, event_source: EventSourceResource) -> dg.SensorResult:
    launched = set(json.loads(context.cursor)) if context.cursor else set()
    requests = []
    for day in complete_days(event_source, time.time()):
        key = day.isoformat()
        if key in launched or not daily_partitions.has_partition_key(key):
            continue
        requests.append(
            dg.RunRequest(run_key=f"landing-{key}", partition_key=key, tags={"audio_dwh/trigger": "landing"})
        )
        launched.add(key)
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(sorted(launched)))
