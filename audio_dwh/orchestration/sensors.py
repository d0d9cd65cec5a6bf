"""The landing sensor: launches a day's run once its files are ready, and again whenever they change."""

import json
import time
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from audio_dwh.dates import parse_day
from audio_dwh.events.assets import FINGERPRINTS, LANDING_KEY
from audio_dwh.events.contract import TOPICS
from audio_dwh.events.landing import FileStamp, fingerprint, local_inventory
from audio_dwh.events.resources import EventSourceResource
from audio_dwh.orchestration.jobs import DAILY_JOB
from audio_dwh.warehouse.resources import LazyGCSResource

# Writers (eventsim's file output, a copy from a bucket) get this long to finish the file they write:
# a day whose files changed more recently is not ready.
SETTLE_SECONDS = 60
# A day with a topic folder still missing is loaded without it this long after the day ended: real
# days can have no event of a topic at all (several of November 2018's have no status change), and
# a producer that is only late has had the time to deliver.
MISSING_TOPIC_GRACE = timedelta(hours=1)
# In the cursor of the sensor's first version, which listed the days it launched: such a day takes
# the fingerprint of its files as they are now, without a new run.
LAUNCHED_BEFORE_FINGERPRINTS = ""


def ready_days(
    inventory: dict[str, dict[str, list[FileStamp]]], now: float, settle_seconds: float = SETTLE_SECONDS
) -> dict[date, str]:
    """The days ready to load, each with the fingerprint of its landed files: every file settled, and
    either all four topic folders there or the grace after the day's end passed."""
    ready = {}
    for text, topics in sorted(inventory.items()):
        try:
            day = parse_day(text, "landing folder date")
        except ValueError:
            continue  # not a day folder of ours
        settled = all(now - s.modified >= settle_seconds for stamps in topics.values() for s in stamps)
        day_end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        complete = set(topics) == set(TOPICS) or now >= (day_end + MISSING_TOPIC_GRACE).timestamp()
        if settled and complete:
            ready[day] = fingerprint(topics)
    return ready


def last_load(instance: dg.DagsterInstance, day: date) -> tuple[str | None, str | None]:
    """The fingerprint of the files the day's latest landing materialization saw (by a run of the
    sensor, the schedule, the CLI or the UI) and that run's id; (None, None) if there is none."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=LANDING_KEY, asset_partitions=[day.isoformat()]), limit=1
    ).records
    if not records:
        return None, None
    fingerprints = records[0].asset_materialization.metadata.get(FINGERPRINTS)
    return (fingerprints.value.get(day.isoformat()) if fingerprints else None), records[0].run_id


def _known_fingerprints(cursor: str | None) -> dict[str, str]:
    """The cursor: day -> fingerprint of the files last launched or found loaded."""
    known = json.loads(cursor) if cursor else {}
    return dict.fromkeys(known, LAUNCHED_BEFORE_FINGERPRINTS) if isinstance(known, list) else known


def build_landing_sensor(partitions_def: dg.PartitionsDefinition) -> dg.SensorDefinition:
    """The landing sensor over the days partitions_def holds."""

    @dg.sensor(
        name="landing_sensor",
        job_name=DAILY_JOB,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            "Watches the landing folder, or the landing bucket when AUDIO_DWH_GCS_LANDING is set "
            "(AUDIO_DWH_SOURCE=files), and launches daily_job for each day whose files have settled (none "
            "changed for 60 s) once all four topic folders are there, or an hour after the day ended with "
            "the topics that came. A day launches again each time its files change (added, changed or "
            "removed), once per change: the run key names the day's files and the run that loaded them before."
        ),
    )
    def landing_sensor(
        context: dg.SensorEvaluationContext, event_source: EventSourceResource, gcs: LazyGCSResource
    ) -> dg.SensorResult:
        known = _known_fingerprints(context.cursor)
        bucket = event_source.bucket
        inventory = bucket.inventory(gcs.get_client()) if bucket else local_inventory(event_source.landing_path)
        requests = []
        for day, files in ready_days(inventory, time.time()).items():
            key = day.isoformat()
            if known.get(key) == files or not partitions_def.has_partition_key(key):
                continue
            loaded, after_run = last_load(context.instance, day)
            launched_before = known.get(key) == LAUNCHED_BEFORE_FINGERPRINTS
            known[key] = files
            if launched_before or loaded == files:
                continue  # these very files were loaded by another run (the CLI, the UI, the schedule)
            requests.append(
                dg.RunRequest(
                    # Unique per change, even back to files loaded before (a late file removed again).
                    run_key=f"landing-{key}-{files}-after-{after_run or 'none'}",
                    partition_key=key,
                    tags={"audio_dwh/trigger": "landing", "audio_dwh/landing_fingerprint": files},
                )
            )
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(known, sort_keys=True))

    return landing_sensor
