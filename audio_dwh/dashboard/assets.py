"""The dashboard's assets: serving/marts (the copy of the marts the dashboard reads) and
reports/daily_dashboard (the day's shareable HTML report)."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from audio_dwh.counts import FILES_WRITTEN
from audio_dwh.dashboard.resources import DashboardResource
from audio_dwh.dashboard.serving import publish, served_marts
from audio_dwh.partitions import range_backfill, range_metadata, run_days
from audio_dwh.settings import Settings
from audio_dwh.warehouse.resources import LazyBigQueryResource, WarehouseResource

if TYPE_CHECKING:
    from audio_dwh.dashboard.report import DayReport

# Both follow every mart, day by day, and read or write DuckDB files: one at a time (the duckdb pool).
AFTER_THE_MARTS: dict[str, Any] = {
    "deps": [dg.AssetKey(["marts", mart.name]) for mart in served_marts()],
    "group_name": "dashboard",
    "pool": "duckdb",
    "backfill_policy": range_backfill,
}


SERVING_MARTS: dict[str, Any] = dict(
    key=["serving", "marts"],
    kinds={"duckdb", "parquet"},
    description=(
        "Every mart as Parquet ($AUDIO_DWH_HOME/serving/current/<mart>/), published as a new version after "
        "each run: the dashboard reads it, so reading never meets the run's lock on warehouse.duckdb. Marts "
        "rebuilt day by day are a file per day (the run's days rewritten); the others a file each, whole."
    ),
    **AFTER_THE_MARTS,
)


def serving_marts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, dashboard: DashboardResource
) -> dg.MaterializeResult:
    days = run_days(context)
    with warehouse.get_connection() as con:
        version = publish(con, Path(dashboard.serving), served_marts(), days)
    files = sorted(version.rglob("*.parquet"))
    return dg.MaterializeResult(
        metadata={
            "version": dg.MetadataValue.path(str(version)),
            # Files of the run's days (and marts published whole) are written afresh; the rest are hard
            # links into the version before, so a file with one link is one this run wrote.
            FILES_WRITTEN: sum(1 for f in files if f.stat().st_nlink == 1),
            "files_in_version": len(files),
            "bytes": sum(f.stat().st_size for f in files),
            "dashboard": dg.MetadataValue.url(dashboard.url),
        }
    )


DAILY_DASHBOARD: dict[str, Any] = dict(
    key=["reports", "daily_dashboard"],
    kinds={"python", "html"},
    description=(
        "The day's report as one self-contained HTML page ($AUDIO_DWH_HOME/reports/YYYY-MM-DD.html, plus "
        "index.html): the dashboard's headline numbers for the day against the day before, top songs and "
        "artists, listens by hour, by state, plan and gender, and page views. The live dashboard, over any "
        "range: `make dashboard` (its link is in this asset's metadata)."
    ),
    **AFTER_THE_MARTS,
)


def daily_dashboard(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    bigquery: LazyBigQueryResource,
    dashboard: DashboardResource,
) -> dg.MaterializeResult:
    # The charting stack is imported by the step that draws, not by every process that loads the code.
    from audio_dwh.dashboard.figures import loaded_days
    from audio_dwh.dashboard.report import fetch_day

    with warehouse.reader(bigquery) as reader:
        loaded = loaded_days(reader)
        reports_by_day = {day: fetch_day(reader, day, loaded) for day in run_days(context)}
    folder = Path(dashboard.reports)
    metadata = range_metadata({day: _publish(folder, report) for day, report in reports_by_day.items()})
    # ... and index.html, rewritten with the pages it lists
    metadata = {**metadata, FILES_WRITTEN: metadata[FILES_WRITTEN] + 1}
    return dg.MaterializeResult(metadata={**metadata, "dashboard": dg.MetadataValue.url(dashboard.url)})


def _publish(folder: Path, report: "DayReport") -> dict[str, Any]:
    from audio_dwh.dashboard.report import write_report

    page = write_report(folder, report)
    top = report.most_popular
    figures = report.headline
    headline = f"**{figures.listens:,} listens** · {figures.active_users:,} active users  \n" + (
        f"Most popular: **{top.song}** by {top.artist} ({top.listeners} listeners, {top.listens} listens)"
        if top is not None
        else ""
    )
    return {
        FILES_WRITTEN: 1,  # the day's page
        "path": dg.MetadataValue.path(str(page)),
        "headline": dg.MetadataValue.md(headline),
        "total_listens": figures.listens,
        "active_users": figures.active_users,
        "listening_hours": round(figures.listening_hours, 1),
    }


def dashboard_assets(settings: Settings, partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The report, and on the DuckDB target the serving copy (on BigQuery the dashboard reads the marts there)."""
    report = dg.asset(**DAILY_DASHBOARD, partitions_def=partitions_def)(daily_dashboard)
    if settings.target != "duckdb":
        return [report]
    return [report, dg.asset(**SERVING_MARTS, partitions_def=partitions_def)(serving_marts)]
