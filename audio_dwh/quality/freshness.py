"""Freshness: yesterday's partition of the raw tables and marts is expected by a deadline hour (UTC).

Two views of it: a FreshnessPolicy on each asset (the UI's freshness status, evaluated by the
daemon), and time-partition freshness checks, evaluated by their sensor, that fail when the latest
day has not landed by the deadline, so late data raises an asset-check alert like any other check.
"""

import warnings
from datetime import timedelta

import dagster as dg

from audio_dwh.events.contract import TOPICS

MART_KEYS = [
    dg.AssetKey(["marts", m])
    for m in ("mart_song_play", "mart_song_play_hourly_metrics", "mart_song_play_top_10_songs")
]
RAW_KEYS = [dg.AssetKey(["raw", topic]) for topic in TOPICS]


def daily_freshness_policy(deadline_hour: int) -> dg.FreshnessPolicy:
    """Updated within a day plus the deadline: a day's data is late once its next deadline passes."""
    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=24 + deadline_hour), warn_window=timedelta(hours=24)
    )


def build_freshness_checks(
    deadline_hour: int,
) -> tuple[list[dg.AssetChecksDefinition], dg.SensorDefinition]:
    """A check per raw table and song-play mart that fails once yesterday has not landed by the
    deadline, and the sensor that evaluates them."""
    with warnings.catch_warnings():
        # superseded by FreshnessPolicy in 1.13 but still the way to get a failing *check* per asset
        warnings.simplefilter("ignore")
        checks = dg.build_time_partition_freshness_checks(
            assets=RAW_KEYS + MART_KEYS,
            deadline_cron=f"0 {deadline_hour} * * *",
            timezone="UTC",
            severity=dg.AssetCheckSeverity.ERROR,
        )
        sensor = dg.build_sensor_for_freshness_checks(
            freshness_checks=checks,
            minimum_interval_seconds=300,
            default_status=dg.DefaultSensorStatus.RUNNING,
        )
    return list(checks), sensor
