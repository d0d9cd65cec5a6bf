"""The daily dashboard: materialized through Dagster, then opened in a real browser over HTTP."""

import functools
import http.server
import threading
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from playwright.sync_api import sync_playwright

from audio_dwh.dashboard.assets import daily_dashboard
from audio_dwh.dbt.assets import dbt_models
from audio_dwh.events.assets import eventsim_events
from audio_dwh.raw.assets import raw_assets
from audio_dwh.resources import build_resources
from audio_dwh_tests.conftest import make_settings

DAY = "2026-11-03"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("dashboard"))
    result = dg.materialize(
        [eventsim_events, *raw_assets, dbt_models, daily_dashboard],
        partition_key=DAY,
        resources=build_resources(settings),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.path[0] == "reports"]
    return settings, event.materialization.metadata


def test_the_asset_writes_the_day_and_an_index_and_reports_headlines(dashboard):
    settings, metadata = dashboard
    page = settings.reports / f"{DAY}.html"
    assert metadata["path"].value == str(page) and page.is_file()
    assert f'href="{DAY}.html"' in (settings.reports / "index.html").read_text()
    assert "listens**" in metadata["headline"].value and metadata["total_listens"].value > 0
    text = page.read_text()
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text, "self-contained"
    assert "<svg" in text and "Ã" not in text


def test_the_page_in_a_browser_shows_the_marts_numbers(dashboard):
    settings, _ = dashboard
    con = duckdb.connect(str(settings.warehouse))
    total, users, songs = con.execute(
        """SELECT count(*), count(DISTINCT user_id), count(DISTINCT concat(song_name, '||', song_artist))
           FROM marts.mart_song_play WHERE play_start_date = ?""",
        [DAY],
    ).fetchall()[0]
    top = con.execute(
        """SELECT rank, song_name, song_artist, uniq_users, plays FROM marts.mart_song_play_top_10_songs
           WHERE play_date = ? ORDER BY rank""",
        [DAY],
    ).fetchall()
    hourly = dict(
        con.execute(
            "SELECT play_hour, plays FROM marts.mart_song_play_hourly_metrics WHERE play_date = ?", [DAY]
        ).fetchall()
    )
    con.close()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(settings.reports))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],  # fmt: skip
            )
            page = browser.new_page(viewport={"width": 1200, "height": 1400})
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
            page.click(f"text={DAY}")
            assert page.text_content("#report-day") == DAY
            assert int(page.text_content("#total-listens")) == total
            assert int(page.text_content("#unique-users")) == users
            assert int(page.text_content("#unique-songs")) == songs
            assert page.text_content("#top-song") == top[0][1] and page.text_content("#top-artist") == top[0][2]
            assert int(page.text_content("#top-song-users")) == top[0][3]
            assert int(page.text_content("#top-song-listens")) == top[0][4]
            rows = page.query_selector_all("#top-songs tbody tr")
            assert [
                (int(r.get_attribute("data-rank")), int(r.query_selector(".plays").text_content())) for r in rows
            ] == [(rank, plays) for rank, _, _, _, plays in top]
            bars = {
                int(b.get_attribute("data-hour")): int(b.get_attribute("data-listens"))
                for b in page.query_selector_all(".bar")
            }
            assert bars == {h: hourly.get(h, 0) for h in range(24)}
            assert page.is_visible("#share-donut") and page.is_visible("#hourly-chart")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"dashboard-{DAY}.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
    assert (ARTIFACTS / f"dashboard-{DAY}.png").stat().st_size > 10_000
