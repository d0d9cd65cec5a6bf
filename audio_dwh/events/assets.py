"""The landing asset: a day of eventsim JSON lines in the landing folder, one file set per topic."""

import time
from datetime import date
from typing import TYPE_CHECKING, Any

import dagster as dg

from audio_dwh.counts import FILES_LANDED, ROWS_OF_RUN_DAYS
from audio_dwh.events.contract import TOPICS
from audio_dwh.events.landing import classify, day_folder_name, fingerprint, landed, local_inventory
from audio_dwh.events.resources import EventSourceResource
from audio_dwh.events.simulator import write_day
from audio_dwh.partitions import range_backfill, range_metadata, run_days
from audio_dwh.warehouse.resources import LazyGCSResource

if TYPE_CHECKING:
    from google.cloud import storage

LANDING_KEY = dg.AssetKey(["landing", "eventsim_events"])
FINGERPRINTS = "landing_fingerprints"


class NothingLanded(Exception):
    """No topic folder exists for the day: nothing was delivered, which is not an empty day."""


def _land_day(
    context: dg.AssetExecutionContext, event_source: EventSourceResource, gcs_client: "storage.Client | None", day: date
) -> tuple[dict[str, Any], str]:
    """The day's landing metadata and the fingerprint of its landed files."""
    metadata: dict[str, Any] = {"source": event_source.source, "day": day.isoformat()}
    if event_source.source == "simulator":
        started = time.perf_counter()
        counts = write_day(event_source.simulator(), day, event_source.landing_path)
        seconds = time.perf_counter() - started
        metadata[ROWS_OF_RUN_DAYS] = sum(counts.values())  # the events generated (files taken as found are not counted)
        metadata["events_per_s"] = round(sum(counts.values()) / seconds) if seconds else 0
        metadata.update({f"events/{topic}": n for topic, n in counts.items()})
    bucket = event_source.bucket
    if bucket and event_source.source == "simulator":
        # Generated days go where production's producers put theirs: the landing bucket.
        bucket.upload_day(gcs_client, event_source.landing_path, day)
    if bucket:
        metadata["bucket"] = bucket.uri("")
        topics = bucket.inventory(gcs_client, day).get(day.isoformat(), {})
        where = bucket.uri("")
    else:
        topics = local_inventory(event_source.landing_path, day).get(day.isoformat(), {})
        where = str(event_source.landing_path)
    missing = [day_folder_name(topic, day) for topic in TOPICS if topic not in topics]
    if not topics:
        raise NothingLanded(
            f"Nothing landed for {day}: none of the day folders {', '.join(missing)} exists in {where}. "
            "Land the day's files there (an empty folder is a topic with no events that day)."
        )
    if missing:
        context.log.warning(f"No landing folder for {day}: {', '.join(missing)} (loaded as topics without events)")
    stamps = [s for found in topics.values() for s in found]
    skipped = [(s.name, classify(s.name.rpartition("/")[2])[1]) for s in stamps if not landed(s.name)]
    if skipped:
        context.log.warning(f"Skipped in the landing folder for {day}: " + "; ".join(f"{n} ({r})" for n, r in skipped))
    metadata[FILES_LANDED] = len(stamps) - len(skipped)
    metadata["missing_topics"] = ", ".join(t for t in TOPICS if t not in topics) or "none"
    metadata["files"] = dg.MetadataValue.md(
        "\n".join(f"- `{s.name}` ({s.size:,} bytes)" for s in stamps if landed(s.name)) or "none"
    )
    metadata["skipped_files"] = dg.MetadataValue.md("\n".join(f"- `{n}`: {r}" for n, r in skipped) or "none")
    return metadata, fingerprint(topics)


def build_landing_asset(partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """landing/eventsim_events over the days partitions_def holds."""

    @dg.asset(
        key=LANDING_KEY,
        partitions_def=partitions_def,
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
        context: dg.AssetExecutionContext, event_source: EventSourceResource, gcs: LazyGCSResource
    ) -> dg.MaterializeResult:
        gcs_client = gcs.get_client() if event_source.bucket else None
        landed_days = {day: _land_day(context, event_source, gcs_client, day) for day in run_days(context)}
        metadata = range_metadata({day: figures for day, (figures, _) in landed_days.items()})
        # What the landing sensor compares a day's files with to see that they changed since this load.
        metadata[FINGERPRINTS] = dg.MetadataValue.json({day.isoformat(): fp for day, (_, fp) in landed_days.items()})
        return dg.MaterializeResult(metadata=metadata)

    return eventsim_events
