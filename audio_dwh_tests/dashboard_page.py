"""The dashboard as a browser meets it: the server started as people start it, a page that may
not reach beyond 127.0.0.1, and the wait for a range to finish drawing. Used by the tests and the bench."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from playwright.sync_api import Page

from audio_dwh_tests.conftest import free_port
from audio_dwh_tests.dagster_ui import stop_dev

ROOT = Path(__file__).resolve().parents[1]
CHARTS = 9  # the trends (3), the map, the hourly profile, the splits (2), page views, retention


@contextmanager
def running_dashboard(home: Path) -> Iterator[str]:
    """`audio-dwh dashboard` over this home on a free port; yields its URL once it answers."""
    port = free_port()
    env = {**os.environ, "AUDIO_DWH_HOME": str(home)}
    log = open(home / "dashboard.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "audio_dwh.cli", "dashboard", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError((home / "dashboard.log").read_text()[-3000:]) from None
                time.sleep(0.5)
        yield url
    finally:
        stop_dev(server)
        log.close()


class Visit:
    """A page whose requests beyond 127.0.0.1 are refused and recorded, and whose console errors are kept."""

    def __init__(self, browser, height: int = 2600):
        self.page: Page = browser.new_page(viewport={"width": 1600, "height": height})
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        if re.match(r"^(https?|wss?)://127\.0\.0\.1[:/]", url) or url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def close(self) -> None:
        self.page.close()
        assert self.outside == [], f"requests beyond 127.0.0.1: {self.outside}"
        assert self.errors == [], f"console errors: {self.errors}"


def wait_for_range(page: Page, start: date, end: date) -> None:
    """Until the script's run for this range has finished drawing."""
    caption = f"{start:%a %d %b %Y} – {end:%a %d %b %Y}"
    page.get_by_text(caption, exact=False).wait_for(timeout=60_000)  # this range's run has begun
    # Until it ends, Streamlit keeps the previous run's elements on the page, marked stale.
    page.wait_for_function(
        '!document.querySelector(\'[data-stale="true"], [data-testid="stStatusWidgetRunningIcon"]\')',
        timeout=60_000,
    )
    page.wait_for_function(
        f"[...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')].length >= {CHARTS} && "
        "[...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
        ".every(c => c.querySelector('canvas, svg'))",
        timeout=60_000,
    )
