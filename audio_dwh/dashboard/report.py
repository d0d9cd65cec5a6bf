"""The daily dashboard: the Looker dashboard's numbers, as one self-contained HTML page a day.

Everything is read from the marts (small, aggregated results) and drawn as inline SVG, so a page
opens anywhere with no network.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from audio_dwh.warehouse_sql import Reader, fetch, table

PALETTE = ["#1db954", "#2e77d0", "#f59b23", "#e8115b", "#8d67ab", "#27856a", "#ba5d07", "#477d95", "#dc148c",
           "#509bf5", "#b3b3b3"]  # fmt: skip


@dataclass(frozen=True)
class TopSong:
    rank: int
    song: str
    artist: str
    uniq_users: int
    plays: int
    share: float  # of the day's listens


@dataclass(frozen=True)
class DayReport:
    day: date
    total_listens: int
    unique_songs: int
    unique_users: int
    hourly: list[tuple[int, int, int]]  # (hour, listens, unique users), all 24 hours
    top_songs: list[TopSong]

    @property
    def most_popular(self) -> TopSong | None:
        return self.top_songs[0] if self.top_songs else None


def fetch_day(reader: Reader, day: date) -> DayReport:
    """The day's figures from the marts, on DuckDB or BigQuery (the same SQL on both)."""
    the_day = f"DATE '{day.isoformat()}'"  # a date object: safe as a literal
    ((total, songs, users),) = fetch(
        reader,
        f"""SELECT count(*), count(DISTINCT concat(song_name, '||', song_artist)), count(DISTINCT user_id)
            FROM {table(reader, "marts", "mart_song_play")} WHERE play_start_date = {the_day}""",
    )
    by_hour = {
        hour: (plays, uniq_users)
        for hour, plays, uniq_users in fetch(
            reader,
            f"""SELECT play_hour, plays, uniq_users FROM {table(reader, "marts", "mart_song_play_hourly_metrics")}
                WHERE play_date = {the_day} ORDER BY play_hour""",
        )
    }
    top = fetch(
        reader,
        f"""SELECT rank, song_name, song_artist, uniq_users, plays
            FROM {table(reader, "marts", "mart_song_play_top_10_songs")}
            WHERE play_date = {the_day} ORDER BY rank""",
    )
    return DayReport(
        day=day,
        total_listens=total,
        unique_songs=songs,
        unique_users=users,
        hourly=[(h, *by_hour.get(h, (0, 0))) for h in range(24)],
        top_songs=[TopSong(r, s, a, u, p, p / total if total else 0.0) for r, s, a, u, p in top],
    )


def _hourly_chart(report: DayReport, width: int = 720, height: int = 260) -> str:
    """Listens per hour as bars, unique users per hour as a line."""
    left, bottom, top = 40, 30, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max([1, *(listens for _, listens, _ in report.hourly)])
    step = plot_w / 24
    parts = [f'<svg id="hourly-chart" viewBox="0 0 {width} {height}" role="img" '
             'aria-label="Listens and unique users per hour">']  # fmt: skip
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{round(peak * fraction)}</text>'
        )
    points = []
    for hour, listens, users in report.hourly:
        x = left + hour * step
        bar_h = plot_h * listens / peak
        parts.append(
            f'<rect class="bar" x="{x + 2:.1f}" y="{top + plot_h - bar_h:.1f}" width="{step - 4:.1f}" '
            f'height="{bar_h:.1f}" data-hour="{hour}" data-listens="{listens}"><title>{hour}h: {listens} listens, '
            f"{users} users</title></rect>"
        )
        points.append(f"{x + step / 2:.1f},{top + plot_h - plot_h * users / peak:.1f}")
        if hour % 3 == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 10}" class="axis" text-anchor="middle">{hour}h</text>'
            )
    parts.append(f'<polyline class="users-line" points="{" ".join(points)}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _donut(report: DayReport, size: int = 240) -> str:
    """Each top-10 song's share of the day's listens, the rest in grey."""
    slices = [(f"#{s.rank} {s.song}", s.share) for s in report.top_songs]
    rest = max(0.0, 1.0 - sum(share for _, share in slices))
    slices.append(("other songs", rest))
    r, center, stroke = size / 2 - 20, size / 2, 28
    circumference = 2 * math.pi * r
    offset = 0.0
    parts = [f'<svg id="share-donut" viewBox="0 0 {size} {size}" role="img" aria-label="Share of listens">']
    for i, (label, share) in enumerate(slices):
        color = PALETTE[i] if i < len(slices) - 1 else PALETTE[-1]
        length = circumference * share
        parts.append(
            f'<circle r="{r:.1f}" cx="{center}" cy="{center}" fill="none" stroke="{color}" stroke-width="{stroke}" '
            f'stroke-dasharray="{length:.2f} {circumference - length:.2f}" stroke-dashoffset="{-offset:.2f}" '
            f'transform="rotate(-90 {center} {center})"><title>{html.escape(label)}: {share:.1%}</title></circle>'
        )
        offset += length
    parts.append("</svg>")
    return "".join(parts)


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#121212;color:#eee}
header{padding:20px 32px;background:#1db954;color:#000}header h1{margin:0;font-size:22px}
main{padding:24px 32px;display:grid;gap:24px}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:16px}
.tile{background:#1e1e1e;border-radius:8px;padding:16px}.tile .label{color:#aaa;font-size:13px}
.tile .value{font-size:30px;font-weight:700;margin-top:6px}.tile .sub{color:#aaa;font-size:13px;margin-top:4px}
section{background:#1e1e1e;border-radius:8px;padding:16px}h2{font-size:16px;margin:0 0 12px}
.grid{stroke:#333}.axis{fill:#aaa;font-size:11px}.bar{fill:#1db954}
.users-line{fill:none;stroke:#2e77d0;stroke-width:2.5}
.split{display:grid;grid-template-columns:2fr 1fr;gap:24px;align-items:center}
table{border-collapse:collapse;width:100%}td,th{padding:6px 8px;border-bottom:1px solid #333;text-align:left}
td.num,th.num{text-align:right}.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.legend span{margin-right:16px;color:#aaa;font-size:13px}a{color:#1db954}
"""


def render_day(report: DayReport) -> str:
    top = report.most_popular
    esc = html.escape
    tiles = [
        ("Total listens", f'<span id="total-listens">{report.total_listens}</span>', ""),
        ("Unique songs", f'<span id="unique-songs">{report.unique_songs}</span>', ""),
        ("Unique users", f'<span id="unique-users">{report.unique_users}</span>', ""),
        (
            "Most popular song",
            f'<span id="top-song">{esc(top.song)}</span>' if top else "none",
            f'<span id="top-artist">{esc(top.artist)}</span> · '
            f'<span id="top-song-users">{top.uniq_users}</span> users · '
            f'<span id="top-song-listens">{top.plays}</span> listens'
            if top
            else "",
        ),
    ]
    rows = "".join(
        f'<tr data-rank="{s.rank}"><td class="num">{s.rank}</td>'
        f'<td><span class="swatch" style="background:{PALETTE[s.rank - 1]}"></span>{esc(s.song)}</td>'
        f'<td>{esc(s.artist)}</td><td class="num users">{s.uniq_users}</td><td class="num plays">{s.plays}</td>'
        f'<td class="num share">{s.share:.1%}</td></tr>'
        for s in report.top_songs
    )
    tile_html = "".join(
        f'<div class="tile"><div class="label">{label}</div><div class="value">{value}</div>'
        f'<div class="sub">{sub}</div></div>'
        for label, value, sub in tiles
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>audio_dwh · {report.day}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body><header><h1>Song plays · <span id="report-day">{report.day}</span></h1></header>
<main>
<div class="tiles">{tile_html}</div>
<section><h2>Listens and unique users per hour (UTC)</h2>
<div class="legend"><span><span class="swatch" style="background:#1db954"></span>listens</span>
<span><span class="swatch" style="background:#2e77d0"></span>unique users</span></div>
{_hourly_chart(report)}</section>
<section><h2>Top 10 songs by unique listeners</h2><div class="split">
<table id="top-songs"><thead><tr><th class="num">#</th><th>Song</th><th>Artist</th><th class="num">Users</th>
<th class="num">Listens</th><th class="num">Share</th></tr></thead><tbody>{rows}</tbody></table>
{_donut(report)}</div></section>
<p><a href="index.html">All days</a></p>
</main></body></html>
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
