"""The dashboard's server process (`audio-dwh dashboard`): Streamlit, started warm.

Streamlit runs the app's script afresh for every view, but in one process: what the script imports
and the serving version it loads into memory stay for the next view. Here both are paid before the
server answers, and each version a run publishes is loaded as it appears, so the first view after a
publication only reads memory.
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import timedelta
from pathlib import Path

from streamlit.web import cli as streamlit

import audio_dwh.dashboard.app  # noqa: F401  (its imports, paid once for every view)
from audio_dwh.dashboard import charts, figures
from audio_dwh.dashboard.serving import NotPublishedError, current_version, open_serving_copy
from audio_dwh.settings import Settings

APP = Path(__file__).with_name("app.py")
POLL_SECONDS = 0.5  # how soon after a publication its version is in memory


def _load_current(folder: Path) -> None:
    """Read the current version into this process's memory (a no-op when it is already there) and
    draw one chart of it, which pays the charting stack's first-use cost; nothing before the first
    publication."""
    try:
        reader = open_serving_copy(folder)
    except NotPublishedError:
        return
    try:
        loaded = figures.loaded_days(reader)
        if loaded is not None:
            period = figures.Period(max(loaded.first, loaded.last - timedelta(days=6)), loaded.last)
            daily = figures.with_gaps(figures.daily_trends(reader, period), period, loaded)
            charts.vega_lite(charts.listens_trend(daily))
    finally:
        reader.close()


def _follow_publications(folder: Path, seen: Path | None) -> None:
    """Load each version published after `seen` as soon as `current` points at it."""
    while True:
        time.sleep(POLL_SECONDS)
        version = current_version(folder)
        if version != seen and version is not None and version.is_dir():
            seen = version
            # Only a head start: should it fail (the version replaced meanwhile), the next view loads
            # the version itself and shows any error.
            with contextlib.suppress(Exception):
                _load_current(folder)
                print(f"The serving version {version.name} is in memory", flush=True)


def serve(settings: Settings, options: dict[str, str]) -> None:
    """Run the dashboard with Streamlit's options until Streamlit stops (Ctrl-C, SIGTERM)."""
    if settings.target == "duckdb":
        seen = current_version(settings.serving)  # read first: a version published meanwhile is followed
        _load_current(settings.serving)
        threading.Thread(target=_follow_publications, args=(settings.serving, seen), daemon=True).start()
    flags = [part for name, value in options.items() for part in (f"--{name}", value)]
    streamlit.main(["run", str(APP), *flags], prog_name="streamlit", standalone_mode=True)
