"""reports/daily_dashboard: the day's HTML report, from the marts."""

from pathlib import Path

import dagster as dg

from audio_dwh.dashboard.report import fetch_day, write_report
from audio_dwh.dates import parse_day
from audio_dwh.partitions import daily_partitions
from audio_dwh.resources import ReportFolderResource, WarehouseResource

MARTS = ["mart_song_play", "mart_song_play_hourly_metrics", "mart_song_play_top_10_songs"]


@dg.asset(
    key=["reports", "daily_dashboard"],
    deps=[dg.AssetKey(["marts", m]) for m in MARTS],
    partitions_def=daily_partitions,
    group_name="dashboard",
    kinds={"python", "html"},
    pool="duckdb",
    description=(
        "The day's dashboard as one self-contained HTML page ($AUDIO_DWH_HOME/reports/YYYY-MM-DD.html, "
        "plus index.html): total listens, unique songs and users, the most popular song, listens and "
        "unique users per hour, and the top-10 songs with each one's share."
    ),
)
def daily_dashboard(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, reports: ReportFolderResource
) -> dg.MaterializeResult:
    day = parse_day(context.partition_key, "partition key")
    with warehouse.get_connection() as con:
        report = fetch_day(con, day)
    page = write_report(Path(reports.folder), report)
    top = report.most_popular
    headline = (
        f"**{report.total_listens:,} listens** · {report.unique_songs:,} unique songs · "
        f"{report.unique_users:,} unique users  \n"
        + (f"Most popular: **{top.song}** by {top.artist} ({top.uniq_users} users, {top.plays} listens)" if top else "")
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(page)),
            "headline": dg.MetadataValue.md(headline),
            "total_listens": report.total_listens,
            "unique_songs": report.unique_songs,
            "unique_users": report.unique_users,
        }
    )
