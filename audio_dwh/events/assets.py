"""The landing asset: a day of eventsim JSON lines in the landing folder, one file set per topic."""

import time
from datetime import date
from typing import Any

import dagster as dg
from dagster_gcp import GCSResource
from google.cloud import storage

from audio_dwh.events.contract import TOPICS
from audio_dwh.events.simulator import write_day
from audio_dwh.partitions import daily_partitions, range_backfill, range_metadata, run_days
from audio_dwh.resources import EventSourceResource

LANDING_KEY = dg.AssetKey(["landing", "eventsim_events"])


def _land_day(
    context: dg.AssetExecutionContext, event_source: EventSourceResource, gcs_client: storage.Client | None, day: date
) -> dict:
    metadata: dict[str, Any] = {"source": event_source.source, "day": day.isoformat()}
    if event_source.source == "simulator":
        started = time.perf_counter()
        counts = write_day(event_source.simulator(), day, event_source.landing_path)
        seconds = time.perf_counter() - started
        metadata["dagster/row_count"] = sum(counts.values())
        metadata["events_per_s"] = round(sum(counts.values()) / seconds) if seconds else 0
        metadata.update({f"events/{topic}": n for topic, n in counts.items()})
    bucket = event_source.bucket
    if bucket and event_source.source == "simulator":
        # Generated days go where production's producers put theirs: the landing bucket.
        bucket.upload_day(gcs_client, event_source.landing_path, day)
    if bucket:
        metadata["bucket"] = bucket.uri("")
        files = {t: bucket.day_objects(gcs_client, t, day) for t in TOPICS}
    else:
        files = {
            t: [(p.relative_to(event_source.landing_path).as_posix(), p.stat().st_size)
                for p in event_source.files(t, day)]
            for t in TOPICS
        }  # fmt: skip
    missing = [topic for topic, found in files.items() if not found]
    if missing:
        context.log.warning(f"No landing files for {day} in: {', '.join(missing)}")
    metadata["missing_topics"] = ", ".join(missing) or "none"
    metadata["files"] = dg.MetadataValue.md(
        "\n".join(f"- `{name}` ({size:,} bytes)" for found in files.values() for name, size in found) or "none"
    )
    return metadata


@dg.asset(
    key=LANDING_KEY,
    partitions_def=daily_partitions,
    backfill_policy=range_backfill,
    group_name="landing",
    kinds={"python", "json"},
    description=(
        "A day of eventsim events as JSON lines under landing/<topic>/date=YYYY-MM-DD/. With the "
        "simulator source the day is generated (deterministic per seed and day); with the files "
        "source the files already there are taken as they are. With AUDIO_DWH_GCS_LANDING set, generated "
        "days are uploaded to the landing bucket in the same layout."
    ),
)
def eventsim_events(
    context: dg.AssetExecutionContext, event_source: EventSourceResource, gcs: GCSResource
) -> dg.MaterializeResult:
    gcs_client = gcs.get_client() if event_source.bucket else None
    return dg.MaterializeResult(
        metadata=range_metadata({day: _land_day(context, event_source, gcs_client, day) for day in run_days(context)})
    )
