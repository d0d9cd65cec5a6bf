"""reports/daily_dashboard: the day's HTML report, from the marts."""

from pathlib import Path
from typing import Any

import dagster as dg
from dagster_gcp import BigQueryResource

from audio_dwh.dashboard.report import DayReport, fetch_day, write_report
from audio_dwh.partitions import daily_partitions, range_backfill, range_metadata, run_days
from audio_dwh.resources import ReportFolderResource, WarehouseResource

MARTS = ["mart_song_play", "mart_song_play_hourly_metrics", "mart_song_play_top_10_songs"]


@dg.asset(
    key=["reports", "daily_dashboard"],
    deps=[dg.AssetKey(["marts", m]) for m in MARTS],
    partitions_def=daily_partitions,
    group_name="dashboard",
    kinds={"python", "html"},
    pool="duckdb",
    backfill_policy=range_backfill,
    description=(
        "The day's dashboard as one self-contained HTML page ($AUDIO_DWH_HOME/reports/YYYY-MM-DD.html, "
        "plus index.html): total listens, unique songs and users, the most popular song, listens and "
        "unique users per hour, and the top-10 songs with each one's share."
    ),
)
def daily_dashboard(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    bigquery: BigQueryResource,
    reports: ReportFolderResource,
) -> dg.MaterializeResult:
    with warehouse.reader(bigquery) as reader:
        reports_by_day = {day: fetch_day(reader, day) for day in run_days(context)}
    return dg.MaterializeResult(
        metadata=range_metadata({day: _publish(Path(reports.folder), report) for day, report in reports_by_day.items()})
    )


def _publish(folder: Path, report: DayReport) -> dict[str, Any]:
    page = write_report(folder, report)
    top = report.most_popular
    headline = (
        f"**{report.total_listens:,} listens** · {report.unique_songs:,} unique songs · "
        f"{report.unique_users:,} unique users  \n"
        + (f"Most popular: **{top.song}** by {top.artist} ({top.uniq_users} users, {top.plays} listens)" if top else "")
    )
    return {
        "path": dg.MetadataValue.path(str(page)),
        "headline": dg.MetadataValue.md(headline),
        "total_listens": report.total_listens,
        "unique_songs": report.unique_songs,
        "unique_users": report.unique_users,
    }
