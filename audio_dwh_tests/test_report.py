"""The daily report's inlined Vega scripts: bundled once per vl-convert and Vega-Lite version, kept
in the user's cache, read back by every later report (dashboard/report.py). The pages themselves
are read in chromium by test_dashboard.py."""

from __future__ import annotations

import pytest

from audio_dwh.dashboard import report


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    report._vega_script.cache_clear()  # a new process, as each run is
    yield tmp_path / "cache"
    report._vega_script.cache_clear()


def test_the_bundle_is_made_once_kept_whole_and_read_back(cache):
    kept = report.kept_bundle_path()
    assert kept.parent.parent == cache and not kept.exists()
    script = report._vega_script()
    assert "vegaEmbed" in script and kept.read_text(encoding="utf-8") == script
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no partial file left

    kept.write_text("/* the kept bundle */", encoding="utf-8")
    report._vega_script.cache_clear()
    assert report._vega_script() == "/* the kept bundle */"  # read, not bundled again


def test_an_unwritable_cache_only_costs_the_bundling(cache):
    cache.write_text("a file where the folder would be")
    assert "vegaEmbed" in report._vega_script()
