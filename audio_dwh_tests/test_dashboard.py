"""The dashboard as people meet it: after a real multi-day `audio-dwh run`, `audio-dwh dashboard` in a
real browser (network beyond 127.0.0.1 blocked and asserted unused), its numbers against SQL over the
marts; it keeps answering while a run holds the warehouse; the day's report opens from file://."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Page, sync_playwright

from audio_dwh.dashboard import figures
from audio_dwh.dashboard.figures import HEADLINE_LABELS
from audio_dwh.dashboard.serving import NotPublishedError, open_serving_copy, publish, served_marts
from audio_dwh_tests.dagster_ui import BROWSER_FLAGS
from audio_dwh_tests.dashboard_page import CHARTS, Visit, running_dashboard, wait_for_range
from audio_dwh_tests.test_cli import audio_dwh

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).parent / "artifacts"
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 10)
NOT_LOADED = [date(2026, 11, 5), date(2026, 11, 6)]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """The ten days but two through the command people run (a backfill run each side of the gap, as
    the UI's backfill makes)."""
    home = tmp_path_factory.mktemp("dashboard")
    for start, end in ((FIRST, NOT_LOADED[0] - timedelta(days=1)), (NOT_LOADED[-1] + timedelta(days=1), LAST)):
        done = audio_dwh(home, "run", "--start", start.isoformat(), "--end", end.isoformat(), "--one-run",
                         "--users", "400")  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    return home


@pytest.fixture(scope="module")
def dashboard(home):
    """`audio-dwh dashboard` on a free port, until the module's tests are done."""
    with running_dashboard(home) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_FLAGS)
        yield chromium
        chromium.close()


def _marts_sql(home: Path, start: date, end: date) -> dict:
    """The headline numbers and the top rows of a range, by SQL of this test's own over the warehouse."""
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    days = [start, end]
    listens, hours, users, paid = con.execute(
        """SELECT count(*), sum(song_played_sec) / 3600, count(DISTINCT user_id), avg((level = 'paid')::int)
           FROM marts.mart_song_play WHERE play_start_date BETWEEN ? AND ?""",
        days,
    ).fetchall()[0]
    (registrations,) = con.execute(  # the tile equals its mart's days: registrations on loaded days
        "SELECT sum(new_registrations) FROM marts.mart_daily_kpis WHERE activity_date BETWEEN ? AND ?", days
    ).fetchall()[0]
    upgrades, cancellations = con.execute(
        "SELECT sum(upgrades), sum(cancellations) FROM marts.mart_plan_changes WHERE change_date BETWEEN ? AND ?",
        days,
    ).fetchall()[0]
    songs = con.execute(
        """SELECT song_name, song_artist, count(DISTINCT user_id) AS u, count(*) AS n FROM marts.mart_song_play
           WHERE play_start_date BETWEEN ? AND ? GROUP BY 1, 2 ORDER BY u DESC, n DESC, 1, 2 LIMIT 3""",
        days,
    ).fetchall()
    artists = con.execute(
        """SELECT song_artist, count(DISTINCT user_id) AS u, count(*) AS n FROM marts.mart_song_play
           WHERE play_start_date BETWEEN ? AND ? GROUP BY 1 ORDER BY u DESC, n DESC, 1 LIMIT 3""",
        days,
    ).fetchall()
    con.close()
    return {
        "headline": {
            "Listens": f"{listens:,}",
            "Listening hours": f"{hours:,.1f}",
            "Active users": f"{users:,}",
            "New registrations": f"{registrations:,}",
            "Paid share of listens": f"{paid:.1%}",
            "Upgrades": f"{upgrades:,}",
            "Cancellations": f"{cancellations:,}",
        },
        "songs": [[s, a, f"{u:,}", f"{n:,}"] for s, a, u, n in songs],
        "artists": [[a, f"{u:,}", f"{n:,}"] for a, u, n in artists],
    }


def _shown(page: Page) -> dict:
    metrics = page.locator('.st-key-headline [data-testid="stMetric"]')
    headline = {
        metrics.nth(i).locator('[data-testid="stMetricLabel"]').inner_text().strip(): metrics.nth(i)
        .locator('[data-testid="stMetricValue"]')
        .inner_text()
        .strip()
        for i in range(metrics.count())
    }

    def rows(key: str) -> list[list[str]]:
        page.locator(f".st-key-{key} table").wait_for(timeout=30_000)  # may come after the charts waited on
        body = page.locator(f".st-key-{key} table tbody tr")
        return [[c.strip() for c in body.nth(i).locator("td").all_inner_texts()] for i in range(min(3, body.count()))]

    return {"headline": headline, "songs": rows("top-songs"), "artists": rows("top-artists")}


@pytest.mark.parametrize(
    ("preset", "days"),
    [("A day", 1), ("7 days", 7), ("All", None)],
)
def test_every_headline_number_and_top_row_equals_sql_over_the_marts(home, dashboard, browser, preset, days):
    visit = Visit(browser)
    page = visit.page
    page.goto(dashboard)
    wait_for_range(page, LAST - timedelta(days=6), LAST)  # the default: the last 7 loaded days
    page.locator('[data-testid="stRadio"]').first.get_by_text(preset, exact=True).click()
    start = FIRST if days is None else LAST - timedelta(days=days - 1)
    wait_for_range(page, start, LAST)
    shown, expected = _shown(page), _marts_sql(home, start, LAST)
    assert list(shown["headline"]) == list(HEADLINE_LABELS.values())
    assert shown == expected
    drawn = page.eval_on_selector_all(
        '[data-testid="stVegaLiteChart"]', "charts => charts.map(c => c.querySelector('canvas, svg')?.clientWidth || 0)"
    )
    assert len(drawn) >= CHARTS and min(drawn) > 100, drawn  # the map, trends, hourly, splits, funnel, retention
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{preset.replace(' ', '-').lower()}.png"), full_page=True)
    visit.close()


@pytest.mark.parametrize(
    ("preset", "start", "caption", "compared"),
    [
        ("A day", LAST, "(1 day). Change against 09 Nov 2026 – 09 Nov 2026.", True),
        ("7 days", LAST - timedelta(days=6), "(7 days, 5 of them loaded). No earlier data to compare with: "
         "3 of the 7 days 28 Oct 2026 – 03 Nov 2026 loaded.", False),
    ],
)  # fmt: skip
def test_a_range_names_its_loaded_days_and_compares_only_with_loaded_ones(
    home, dashboard, browser, preset, start, caption, compared
):
    visit = Visit(browser)
    page = visit.page
    page.goto(dashboard)
    wait_for_range(page, LAST - timedelta(days=6), LAST)
    page.locator('[data-testid="stRadio"]').first.get_by_text(preset, exact=True).click()
    wait_for_range(page, start, LAST)
    text = page.inner_text("body")
    assert caption in text.replace("\n", " "), text[:1500]
    deltas = page.locator('.st-key-headline [data-testid="stMetricDelta"]').count()
    assert (deltas > 0) == compared, deltas
    assert "listened on both plans in the range" in text  # why the plans' listeners exceed the users
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    (cohorts,) = con.execute(
        "SELECT count(DISTINCT cohort_week) FROM marts.mart_retention WHERE activity_week BETWEEN ? AND ?",
        [start - timedelta(days=start.weekday()), LAST],
    ).fetchall()[0]
    con.close()
    shown = f"the latest 12 of the {cohorts}" if cohorts > 12 else f"all {cohorts}"
    assert f"Retention: {shown} registration-week cohorts" in text.replace("\n", " "), text[-1500:]
    page.screenshot(path=str(ARTIFACTS / f"dashboard-loaded-days-{preset.replace(' ', '-').lower()}.png"),
                    full_page=True)  # fmt: skip
    visit.close()


def test_the_plan_filter_changes_the_listening_figures(home, dashboard, browser):
    visit = Visit(browser)
    page = visit.page
    page.goto(dashboard)
    wait_for_range(page, LAST - timedelta(days=6), LAST)
    page.locator('[data-testid="stRadio"]').nth(1).get_by_text("paid", exact=True).click()
    page.wait_for_timeout(500)
    wait_for_range(page, LAST - timedelta(days=6), LAST)
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    (paid_listens,) = con.execute(
        "SELECT count(*) FROM marts.mart_song_play WHERE level = 'paid' AND play_start_date BETWEEN ? AND ?",
        [LAST - timedelta(days=6), LAST],
    ).fetchall()[0]
    con.close()
    first_value = "document.querySelector('[data-testid=\"stMetricValue\"]').innerText.trim()"
    page.wait_for_function(f"{first_value} === '{paid_listens:,}'", timeout=30_000)
    visit.close()


def test_it_keeps_answering_with_the_last_published_data_while_a_run_writes(home, dashboard, browser):
    expected = _marts_sql(home, LAST - timedelta(days=6), LAST)
    writer = duckdb.connect(str(home / "warehouse.duckdb"))  # what a run holds: the file's write lock
    try:
        reader = f"import duckdb; duckdb.connect({str(home / 'warehouse.duckdb')!r}, read_only=True)"
        blocked = subprocess.run([sys.executable, "-c", reader], capture_output=True, text=True)
        assert blocked.returncode != 0 and "lock" in blocked.stderr.lower()  # the warehouse itself is locked
        visit = Visit(browser)
        visit.page.goto(dashboard)
        wait_for_range(visit.page, LAST - timedelta(days=6), LAST)
        assert _shown(visit.page) == expected
        visit.close()
    finally:
        writer.close()


def test_a_version_published_while_it_runs_is_in_memory_before_the_next_view(home, dashboard, browser):
    """The dashboard reads each new version as it is published, not when a person first asks for it."""
    log = home / "dashboard.log"
    warehouse = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    version = publish(warehouse, home / "serving", served_marts(), [LAST])  # what the next run does
    warehouse.close()
    deadline = time.monotonic() + 30
    while f"The serving version {version.name} is in memory" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.2)
    visit = Visit(browser)
    visit.page.goto(dashboard)
    wait_for_range(visit.page, LAST - timedelta(days=6), LAST)
    assert _shown(visit.page) == _marts_sql(home, LAST - timedelta(days=6), LAST)
    visit.close()


def test_the_serving_copy_equals_the_marts_and_keeps_two_versions(home):
    """The published files equal the marts, and so does what the dashboard holds of them in memory (the
    plays: the columns it reads)."""
    serving = home / "serving"
    con = open_serving_copy(serving)
    con.execute(f"ATTACH '{home / 'warehouse.duckdb'}' AS warehouse (READ_ONLY)")
    marked = {column for column, _, _ in figures.previous_play_marks()}
    for mart in served_marts():
        held = [c for (c, *_) in con.execute(f"DESCRIBE marts.{mart.name}").fetchall() if c not in marked]
        in_warehouse = f"warehouse.marts.{mart.name}"
        copies = {
            f"SELECT * FROM '{serving / 'current' / mart.name}/*.parquet'": f"SELECT * FROM {in_warehouse}",
            f"SELECT {', '.join(held)} FROM marts.{mart.name}": f"SELECT {', '.join(held)} FROM {in_warehouse}",
        }
        for copy, original in copies.items():
            for a, b in ((copy, original), (original, copy)):
                assert con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchall() == [(0,)], mart.name
        files = sorted(p.name for p in (serving / "current" / mart.name).iterdir())
        if mart.by_day:
            loaded = [FIRST + timedelta(days=n) for n in range(10) if FIRST + timedelta(days=n) not in NOT_LOADED]
            assert files == [f"{day}.parquet" for day in loaded]
        else:
            assert files == ["all.parquet"]
    con.close()
    assert len(list((serving / "versions").iterdir())) <= 2


def test_a_publication_killed_midway_leaves_the_last_version_served(tmp_path):
    """A build folder a killed run left is never served and is cleared by the next publication."""
    warehouse = duckdb.connect(str(tmp_path / "w.duckdb"))
    warehouse.execute("CREATE SCHEMA marts")
    warehouse.execute("CREATE TABLE marts.mart_song_play AS SELECT DATE '2026-11-01' AS play_start_date, 1 AS n")
    marts = [m for m in served_marts() if m.name == "mart_song_play"]
    with pytest.raises(NotPublishedError, match="make run"):
        open_serving_copy(tmp_path / "serving")
    first = publish(warehouse, tmp_path / "serving", marts, [date(2026, 11, 1)])
    stale = tmp_path / "serving" / "versions" / ".build-killed"
    (stale / "mart_song_play").mkdir(parents=True)
    assert open_serving_copy(tmp_path / "serving").execute("SELECT n FROM marts.mart_song_play").fetchall() == [(1,)]
    warehouse.execute("INSERT INTO marts.mart_song_play VALUES (DATE '2026-11-02', 2)")
    second = publish(warehouse, tmp_path / "serving", marts, [date(2026, 11, 2)])
    assert not stale.exists() and first.exists() and second != first
    served = open_serving_copy(tmp_path / "serving")
    assert served.execute("SELECT n FROM marts.mart_song_play ORDER BY n").fetchall() == [(1,), (2,)]


def test_a_day_published_again_leaves_the_version_before_it_as_it_was(tmp_path):
    """Days a run rebuilt are written as new files, never through the hard links the old version shares;
    a home copied with its links followed (`cp -r`) publishes on."""
    warehouse = duckdb.connect(str(tmp_path / "w.duckdb"))
    warehouse.execute("CREATE SCHEMA marts")
    warehouse.execute("CREATE TABLE marts.mart_song_play AS SELECT DATE '2026-11-01' AS play_start_date, 1 AS n")
    marts = [m for m in served_marts() if m.name == "mart_song_play"]
    first = publish(warehouse, tmp_path / "serving", marts, [date(2026, 11, 1)])
    warehouse.execute("UPDATE marts.mart_song_play SET n = 2")
    second = publish(warehouse, tmp_path / "serving", marts, [date(2026, 11, 1)])
    day = Path("mart_song_play") / "2026-11-01.parquet"
    assert duckdb.sql(f"SELECT n FROM '{first / day}'").fetchall() == [(1,)]
    assert duckdb.sql(f"SELECT n FROM '{second / day}'").fetchall() == [(2,)]

    copied = tmp_path / "copied"
    shutil.copytree(tmp_path / "serving", copied)  # `current` becomes a folder of its own
    warehouse.execute("INSERT INTO marts.mart_song_play VALUES (DATE '2026-11-02', 3)")
    publish(warehouse, copied, marts, [date(2026, 11, 2)])
    served = open_serving_copy(copied)
    assert served.execute("SELECT n FROM marts.mart_song_play ORDER BY n").fetchall() == [(2,), (3,)]


def test_the_days_report_opens_offline_from_file_and_draws_every_chart(home, browser):
    report = home / "reports" / f"{LAST}.html"
    assert f'href="{LAST}.html"' in (home / "reports" / "index.html").read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?:", report.read_text()), "self-contained"
    assert "against the day before" in report.read_text()  # the day before is loaded
    after_gap = (home / "reports" / f"{NOT_LOADED[-1] + timedelta(days=1)}.html").read_text()
    assert "no earlier data: the day before is not loaded" in after_gap and "against the day before" not in after_gap
    visit = Visit(browser, height=1800)
    page = visit.page
    page.goto(report.as_uri())
    page.wait_for_function("document.querySelectorAll('.chart canvas, .chart svg').length >= 5", timeout=30_000)
    expected = _marts_sql(home, LAST, LAST)
    tiles = {
        page.locator(f'[data-figure="{name}"] .label').inner_text(): page.locator(
            f'[data-figure="{name}"] .value'
        ).inner_text()
        for name in HEADLINE_LABELS
    }
    assert tiles == expected["headline"]
    first_song = page.locator("#top-songs tbody tr").first.locator("td").all_inner_texts()
    assert first_song[1:] == expected["songs"][0]
    page.screenshot(path=str(ARTIFACTS / f"report-{LAST}.png"), full_page=True)
    visit.close()
