"""The daily report: one day of the dashboard as one self-contained HTML file, to share or archive.

The figures are the dashboard's for a one-day range, the charts the same Vega-Lite charts; Vega's
scripts (from vl-convert) and every chart's data are inlined, so a page opens from file:// offline.
"""

from __future__ import annotations

import html
import json
import numbers
import os
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import altair as alt
import pandas as pd
import vl_convert
from altair.utils._importers import vl_version_for_vl_convert

from audio_dwh.dashboard import charts, figures
from audio_dwh.dashboard.figures import HEADLINE_LABELS, Headline, Period, format_change, format_figure
from audio_dwh.warehouse.reading import WarehouseReader


@dataclass(frozen=True)
class DayReport:
    day: date
    headline: Headline
    previous_day: Headline | None  # None when the day before is not loaded: nothing to compare with
    top_songs: pd.DataFrame
    top_artists: pd.DataFrame
    charts: dict[str, alt.TopLevelMixin] = field(default_factory=dict)

    @property
    def most_popular(self) -> pd.Series | None:
        return None if self.top_songs.empty else self.top_songs.iloc[0]


def fetch_day(reader: WarehouseReader, day: date, loaded: figures.LoadedDays | None) -> DayReport:
    """The day's figures and charts from the marts, on DuckDB or BigQuery; loaded (figures.loaded_days,
    read once for all the days of a publication) says whether the day before is there to compare with."""
    period = Period(day, day)
    return DayReport(
        day=day,
        headline=figures.headline(reader, period),
        previous_day=figures.headline(reader, period.previous) if loaded and loaded.cover(period.previous) else None,
        top_songs=figures.top_songs(reader, period),
        top_artists=figures.top_artists(reader, period),
        charts={
            "hourly": charts.hourly_profile(figures.hourly_profile(reader, period)),
            "map": charts.state_map(figures.listens_by_state(reader, period)),
            "plan": charts.split_bars(splits := figures.splits(reader, period), "plan"),
            "gender": charts.split_bars(splits, "gender"),
            "pages": charts.page_funnel(figures.page_funnel(reader, period)),
        },
    )


def kept_bundle_path() -> Path:
    """Where the script bundle of the installed vl-convert and Vega-Lite is kept, in the user's cache
    ($XDG_CACHE_HOME, else ~/.cache): bundling is a JavaScript bundler's run, about a second,
    that every day's report paid again for the same text."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "audio_dwh" / f"vega-bundle-{vl_convert.__version__}-vega-lite-{vl_version_for_vl_convert()}.js"


@cache
def _vega_script() -> str:
    """Vega, Vega-Lite and vega-embed as one script, for the Vega-Lite version Altair writes: the
    kept bundle, or a new one, then kept (written whole or not at all; an unwritable cache only
    costs the bundling again)."""
    kept = kept_bundle_path()
    try:
        return kept.read_text(encoding="utf-8")
    except OSError:
        pass
    script = vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert())
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f".{kept.name}.{os.getpid()}")
        partial.write_text(script, encoding="utf-8")
        partial.replace(kept)
    except OSError:
        pass
    return script


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#fafafa;color:#191414}
header{padding:20px 32px;background:#1db954;color:#000}header h1{margin:0;font-size:22px}
main{padding:24px 32px;display:grid;gap:24px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:16px}
.tile{background:#fff;border-radius:8px;padding:16px;box-shadow:0 1px 3px #0002}
.tile .label{color:#555;font-size:13px}.tile .value{font-size:26px;font-weight:700;margin-top:6px}
.tile .change{color:#555;font-size:13px;margin-top:4px}
.row{display:grid;grid-template-columns:1fr 1fr;gap:24px}
section{background:#fff;border-radius:8px;padding:16px;box-shadow:0 1px 3px #0002;min-width:0}
h2{font-size:16px;margin:0 0 12px}.chart{width:100%}
table{border-collapse:collapse;width:100%}td,th{padding:6px 8px;border-bottom:1px solid #ddd;text-align:left}
td.num,th.num{text-align:right}a{color:#127a3a}
"""


def _table(table_id: str, frame: pd.DataFrame) -> str:
    if frame.empty:
        return f'<p id="{table_id}">No listens on this day.</p>'
    head = '<th class="num">#</th>' + "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = "".join(
        f'<tr data-rank="{rank}"><td class="num">{rank}</td>'
        + "".join(
            f'<td class="num">{v:,}</td>' if isinstance(v, numbers.Integral) else f"<td>{html.escape(str(v))}</td>"
            for v in row
        )
        + "</tr>"
        for rank, row in enumerate(frame.itertuples(index=False), start=1)
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _change(name: str, now: float | None, before: Headline | None) -> str:
    if before is None:
        return "no earlier data: the day before is not loaded"
    return f"{format_change(name, now, getattr(before, name)) or '–'} against the day before"


def render_day(report: DayReport) -> str:
    tiles = "".join(
        f'<div class="tile" data-figure="{name}"><div class="label">{label}</div>'
        f'<div class="value">{format_figure(name, now)}</div>'
        f'<div class="change">{_change(name, now, report.previous_day)}</div></div>'
        for name, label in HEADLINE_LABELS.items()
        for now in [getattr(report.headline, name)]
    )
    specs = {name: charts.vega_lite(chart) for name, chart in report.charts.items()}
    # "</" would end the script element early inside a song title.
    embeds = json.dumps(specs).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>audio_dwh · {report.day}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style>
<script>{_vega_script()}</script></head>
<body><header><h1>Listening · <span id="report-day">{report.day}</span></h1></header>
<main>
<div class="tiles">{tiles}</div>
<div class="row"><section><h2>Top songs by unique listeners</h2>{_table("top-songs", report.top_songs)}</section>
<section><h2>Top artists by unique listeners</h2>{_table("top-artists", report.top_artists)}</section></div>
<div class="row"><section><div class="chart" id="chart-map"></div></section>
<section><div class="chart" id="chart-hourly"></div></section></div>
<div class="row"><section><div class="chart" id="chart-plan"></div><div class="chart" id="chart-gender"></div></section>
<section><div class="chart" id="chart-pages"></div></section></div>
<p><a href="index.html">All days</a></p>
</main>
<script>
const specs = {embeds};
for (const [name, spec] of Object.entries(specs)) {{
  vegaEmbed("#chart-" + name, spec, {{actions: false}}).catch(console.error);
}}
</script></body></html>
"""


def render_index(folder: Path) -> str:
    days = sorted((p.stem for p in folder.glob("????-??-??.html")), reverse=True)
    items = "".join(f'<li><a href="{d}.html">{d}</a></li>' for d in days)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>audio_dwh · daily reports</title><style>{CSS}</style></head>
<body><header><h1>Daily reports</h1></header><main><section><ul id="days">{items}</ul></section></main></body></html>
"""


def write_report(folder: Path, report: DayReport) -> Path:
    """Write the day's page and refresh index.html; returns the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"{report.day.isoformat()}.html"
    page.write_text(render_day(report), encoding="utf-8")
    (folder / "index.html").write_text(render_index(folder), encoding="utf-8")
    return page
