"""The one daily partitioning every partitioned asset of the project shares (UTC days), and how an
asset reads the days of its run."""

from datetime import date
from typing import Any

import dagster as dg

from audio_dwh.counts import FILES_LANDED, FILES_WRITTEN, ROWS_OF_RUN_DAYS
from audio_dwh.dates import parse_day


def daily_partitions(start_date: date) -> dg.DailyPartitionsDefinition:
    """UTC days from start_date (AUDIO_DWH_START_DATE) to yesterday."""
    return dg.DailyPartitionsDefinition(start_date=start_date.isoformat(), timezone="UTC")


# A backfill of any range is one run per asset (or one run for the whole selection, when the daemon
# groups them): each asset loops over the days of its run, so a run's fixed cost (process start,
# dbt's parse) is paid once per backfill, not once per day.
range_backfill = dg.BackfillPolicy.single_run()


def range_tags(first: date, last: date) -> dict[str, str]:
    """The run tags that make one run cover the days first..last (as a backfill run does)."""
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }


def run_days(context: dg.AssetExecutionContext) -> list[date]:
    """The days of this run, in order: one for a daily run, the whole range for a backfill run."""
    return [parse_day(key, "partition key") for key in context.partition_keys]


# Summed over a range run's days (each day's figure is in its by_day table).
_ADDITIVE = (ROWS_OF_RUN_DAYS, FILES_LANDED, FILES_WRITTEN)


def range_metadata(per_day: dict[date, dict[str, Any]]) -> dict[str, Any]:
    """A run's materialization metadata from each day's.

    Dagster records one materialization per partition of a range run, all carrying the same
    metadata; so a one-day run reports its day as it is, and a range run reports what all its days
    share, a table with one row per day of their figures, and the range's totals of the counts that
    add up (never a range total posing as a day's).
    """
    if len(per_day) == 1:
        return next(iter(per_day.values()))
    days = list(per_day)
    first = per_day[days[0]]
    shared = {
        name: value
        for name, value in first.items()
        if name not in _ADDITIVE and all(per_day[day].get(name) == value for day in days)
    }
    columns = [
        name
        for name, value in first.items()
        if name not in shared and isinstance(value, (int, float, str)) and not isinstance(value, bool)
    ]
    header = ["day", *columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| " + " | ".join([day.isoformat(), *(str(per_day[day].get(c, "")) for c in columns)]) + " |" for day in days
    ]
    for name in _ADDITIVE:
        if any(name in figures for figures in per_day.values()):
            shared[name] = sum(figures.get(name, 0) for figures in per_day.values())
    return {
        **shared,
        "range": f"{days[0].isoformat()} .. {days[-1].isoformat()} ({len(days)} days in one run)",
        "by_day": dg.MetadataValue.md("\n".join(lines)),
    }
