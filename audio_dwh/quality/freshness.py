"""Freshness: yesterday's partition of the raw tables and marts is expected by a deadline hour (UTC).

Two views of it: a FreshnessPolicy on each asset (the UI's freshness status, evaluated by the
daemon), and time-partition freshness checks, evaluated by their sensor, that fail when the latest
day has not landed by the deadline, so late data raises an asset-check alert like any other check.
"""

import warnings
from datetime import timedelta

import dagster as dg

from audio_dwh.events.contract import TOPICS
from audio_dwh.settings import load_settings

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


FRESHNESS_POLICY = daily_freshness_policy(load_settings().freshness_deadline_hour)

with warnings.catch_warnings():
    # superseded by FreshnessPolicy in 1.13 but still the way to get a failing *check* per asset
    warnings.simplefilter("ignore")
    freshness_checks = dg.build_time_partition_freshness_checks(
        assets=RAW_KEYS + MART_KEYS,
        deadline_cron=f"0 {load_settings().freshness_deadline_hour} * * *",
        timezone="UTC",
        severity=dg.AssetCheckSeverity.ERROR,
    )
    freshness_checks_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=freshness_checks,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
