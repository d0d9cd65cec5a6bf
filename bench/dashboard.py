"""The dashboard's answer time on the bench's warehouse: from a click on a range to the page drawn
again (every headline number, table and chart of the new range), in a real browser."""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from audio_dwh_tests.dagster_ui import BROWSER_FLAGS
from audio_dwh_tests.dashboard_page import Visit, running_dashboard, wait_for_range

# Each a click on the range radio, in this order: every preset, then the first two again.
CLICKS = ["A day", "28 days", "All", "7 days", "A day", "28 days"]
LENGTHS = {"A day": 1, "7 days": 7, "28 days": 28}


def measure(home: Path, first: date, last: date) -> dict:
    """Seconds from opening the page to its first range drawn, from each click to the range drawn, and
    the clicks' median."""
    seconds = {}
    with running_dashboard(home) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_FLAGS)
        visit = Visit(browser)
        page = visit.page
        started = time.perf_counter()
        page.goto(url)  # the first view after a publication reads the new version into memory
        wait_for_range(page, last - timedelta(days=6), last)
        first_view = round(time.perf_counter() - started, 3)
        for n, preset in enumerate(CLICKS):
            start = first if preset == "All" else last - timedelta(days=LENGTHS[preset] - 1)
            started = time.perf_counter()
            page.locator('[data-testid="stRadio"]').first.get_by_text(preset, exact=True).click()
            wait_for_range(page, start, last)
            seconds[f"{n + 1}. {preset}"] = round(time.perf_counter() - started, 3)
        visit.close()
        browser.close()
    return {
        "dashboard_first_view_seconds": first_view,
        "range_change_seconds": seconds,
        "range_change_median_seconds": round(statistics.median(seconds.values()), 3),
    }
