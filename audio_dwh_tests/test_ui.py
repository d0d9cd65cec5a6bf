"""`make dev`: the Dagster UI on 127.0.0.1 shows the assets and the runs the CLI made, each check's
result per day, a day broken on purpose, the marts' columns (real webserver, chromium)."""

import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from audio_dwh_tests.conftest import DEFS
from audio_dwh_tests.dagster_ui import ARTIFACTS, chromium_page, graphql, open_page, running_dev
from audio_dwh_tests.test_alerts import Receiver
from audio_dwh_tests.test_cli import audio_dwh

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUERY = """{
  assetNodes {
    assetKey { path } groupName dependencyKeys { path }
    backfillPolicy { policyType maxPartitionsPerRun }
  }
  runsOrError { ... on Runs { results { jobName status tags { key value } } } }
}"""
CHECK_STATUSES = ["Execution Failed", "Failed", "In Progress", "Missing", "Skipped", "Passed"]


def _check_partitions(page, port: int, asset: str, check: str, status: str, shot: str) -> tuple[dict, list[str]]:
    """A check's Partitions view as the UI shows it: the count of each status, and the days listed
    when only `status` is ticked."""
    open_page(page, f"http://127.0.0.1:{port}/assets/{asset}?view=checks&checkDetail={check}")
    page.get_by_role("tab", name="Partitions").last.click()
    page.get_by_text(re.compile(r"^Passed \(\d+\)$")).wait_for(timeout=60_000)
    counts = {
        name: int(page.get_by_text(re.compile(rf"^{name} \((\d+)\)$")).inner_text().rsplit("(", 1)[1][:-1])
        for name in CHECK_STATUSES
    }
    for name in CHECK_STATUSES:
        if name != status:
            page.get_by_text(re.compile(rf"^{name} \(\d+\)$")).click()  # untick it
    page.wait_for_timeout(500)
    text = page.inner_text("body")
    listed = sorted(set(re.findall(r"\b\d{4}-\d\d-\d\d\b", text[text.index("Partitions Selected") :])))
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    return counts, listed


def _check_list(page, port: int, asset: str) -> str:
    """The Checks tab of an asset: each check's name and latest status."""
    open_page(page, f"http://127.0.0.1:{port}/assets/{asset}?view=checks")
    page.get_by_text("Execute all").wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    text = page.inner_text("body")
    start = text.index("Execute all")
    return text[start : text.index("Execution history", start)]


def _wait_for_freshness_checks(home: Path, timeout_s: float = 180) -> None:
    """Until the freshness sensor's run has judged every freshness check once."""
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        expected = {k for k in DEFS.resolve_asset_graph().asset_check_keys if k.name == "freshness_check"}
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(expected))
            judged = {key for key, record in latest.items() if record.status.value in ("SUCCEEDED", "FAILED")}
            if judged == expected:
                return
            time.sleep(3)
        raise AssertionError(f"freshness checks not judged: {sorted(k.to_user_string() for k in expected - judged)}")
    finally:
        instance.dispose()


def _what_the_ui_shows_per_day(page, port: int, home: Path, days: list[str], alerts) -> None:
    """Each check's Partitions view says Passed for each day it judged; a day broken on purpose shows
    Failed for that day only, with its failing rows; the mart's Columns list every column and type;
    the alert of the failed day links to this UI."""
    raw = ("raw/listen_events", "contract")
    counts, passed = _check_partitions(page, port, *raw, "Passed", "raw-check-partitions.png")
    assert passed == sorted(days) and counts["Failed"] == counts["Skipped"] == 0, counts
    check = "primary_key_hub_user_user_pk"
    counts, passed = _check_partitions(page, port, "vault/hub_user", check, "Passed", "dbt-check-partitions.png")
    assert passed == sorted(days) and counts["Failed"] == counts["Skipped"] == 0, counts
    page.get_by_role("tab", name="Overview").last.click()  # the check's own Overview: what it asserts
    page.get_by_text("is the primary key of hub_user").wait_for(timeout=30_000)
    assert "No description provided" not in page.inner_text("body")

    # One day made to fail the test: a user key that an earlier day loaded, loaded again that day.
    broken = "2026-11-21"
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    (user_pk,) = con.execute(
        f"INSERT INTO vault.hub_user SELECT * REPLACE (DATE '{broken}' AS load_date) FROM vault.hub_user "
        "ORDER BY user_pk LIMIT 1 RETURNING user_pk"
    ).fetchone()
    con.close()
    done = audio_dwh(home, "run", "--start", broken, "--end", broken, "--users", "150")
    assert done.returncode == 1, done.stdout + done.stderr
    counts, failed = _check_partitions(page, port, "vault/hub_user", check, "Failed", "dbt-check-failed-day.png")
    assert failed == [broken] and counts["Passed"] == len(days), counts
    page.locator(f'span:text-is("{broken}")').first.click()  # the day's row: its latest result
    page.get_by_text("failing_rows").wait_for(timeout=30_000)
    page.get_by_text("[Show Markdown]").first.click()  # the failing rows, a markdown table
    assert user_pk in page.get_by_role("dialog").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dbt-check-failing-rows.png"), full_page=True)

    # The mart's Columns: every column of the built table, with its type.
    open_page(page, f"http://127.0.0.1:{port}/assets/marts/mart_song_play")
    page.get_by_text("Column name").wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "mart-columns.png"), full_page=True)
    text = page.inner_text("body")
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'marts' AND table_name = 'mart_song_play' ORDER BY ordinal_position"
    ).fetchall()
    con.close()
    shown = text[text.index("Column name") :]
    assert len(columns) == 16 and all(re.search(rf"\b{name}\s+{data_type}\b", shown) for name, data_type in columns)
    assert "unserializable" not in text

    # The alert the failed day raised (from the daemon `make dev` started) links to this UI's port.
    deadline = time.monotonic() + 120
    while not any(f"127.0.0.1:{port}/runs/" in json.dumps(body) for _, body in alerts.received):
        assert time.monotonic() < deadline, alerts.received
        time.sleep(2)


def _what_the_catalog_shows(page, port: int, home: Path) -> None:
    """A mart's page as a person reads it: its Row count is the table's rows, its description has no
    SQL, every column has its description, its lineage table traces a column to its parent's; a
    custom test's check says what it asserts."""
    open_page(page, f"http://127.0.0.1:{port}/assets/marts/mart_daily_kpis")
    page.get_by_text("Column name").wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "mart-catalog.png"), full_page=True)
    text = page.inner_text("body")
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    rows = con.execute("SELECT count(*) FROM marts.mart_daily_kpis").fetchall()[0][0]
    columns = [c for (c,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' "
        "AND table_name = 'mart_daily_kpis' ORDER BY ordinal_position").fetchall()]  # fmt: skip
    con.close()
    assert re.search(rf"Row count\s+{rows}\s", text) and rows > 1, text[:2000]
    description = text[text.index("Description") : text.index("Columns")]
    assert "Per day - listens" in description and "Raw SQL" not in description and "{{" not in description
    shown = text[text.index("Column name") : text.index("Metadata", text.index("Column name"))]
    for column in columns:  # each column's row: its name, its type, then a description of its own
        assert re.search(rf"\b{column}\s+[A-Z]+\s+\S[^\n]{{10,}}", shown), (column, shown)
    # The Metadata's column_lineage table: each column and the parent columns it is computed from.
    lineage = text[text.index("column_lineage") :]
    assert re.search(r"listening_hours\s+marts/mart_song_play\.song_played_sec", lineage), lineage[:1500]
    assert re.search(r"listens\s+no column \(a count", lineage), lineage[:1500]
    (check,) = [k.name for k in DEFS.resolve_asset_graph().asset_check_keys
                if k.asset_key.path == ["marts", "mart_daily_kpis"] and k.name.startswith("holds_in_run")]  # fmt: skip
    open_page(page, f"http://127.0.0.1:{port}/assets/marts/mart_daily_kpis?view=checks&checkDetail={check}")
    page.get_by_role("tab", name="Overview").last.click()  # the check's own Overview: what it asserts
    page.get_by_text("Every row of mart_daily_kpis satisfies").first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "custom-check-description.png"), full_page=True)


def _the_imported_days_are_partitions(page, port: int) -> None:
    """The real-data sample imported into the home (not yet run): `make dev` has its days as partitions."""
    open_page(page, f"http://127.0.0.1:{port}/assets/raw/listen_events?view=partitions")
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    days = (yesterday - date(2018, 11, 1)).days + 1
    page.get_by_text(f"{days:,} Partitions Selected").wait_for(timeout=60_000)
    assert "2018-11-01" in page.inner_text("body")


def _screenshot_asset_graph(page, port: int) -> None:
    page.set_viewport_size({"width": 1600, "height": 1000})
    open_page(page, f"http://127.0.0.1:{port}/asset-groups")
    page.wait_for_selector("text=raw", timeout=60_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "asset-graph.png"), full_page=True)
    text = page.inner_text("body")
    assert all(group in text for group in ("landing", "raw", "staging", "vault", "marts", "dashboard"))
    assert "Join the Dagster community" not in text
    assert (ARTIFACTS / "asset-graph.png").stat().st_size > 20_000


def test_dev_serves_the_assets_and_the_cli_runs_on_loopback(tmp_path: Path):
    # `make run` as a newcomer runs it: the default days, the most recent complete ones.
    done = audio_dwh(tmp_path, "run", "--users", "150")
    assert done.returncode == 0, done.stdout + done.stderr
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    default_days = [(yesterday - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    # ... and the real-data sample imported as the README shows, its days left to load
    done = audio_dwh(tmp_path, "import-classic", "--sample")
    assert done.returncode == 0, done.stdout + done.stderr
    alerts = Receiver()
    try:
        env = {"AUDIO_DWH_USERS": "150", "AUDIO_DWH_ALERT_WEBHOOK_URL": alerts.url}
        with running_dev(tmp_path, ctrl_c=True, **env) as port, chromium_page() as page:
            data = graphql(port, QUERY)["data"]
            nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
            assert {"landing/eventsim_events", "raw/listen_events", "raw/auth_events"} <= set(nodes)
            assert nodes["raw/listen_events"]["groupName"] == "raw"
            assert nodes["raw/listen_events"]["dependencyKeys"] == [{"path": ["landing", "eventsim_events"]}]
            runs = [r for r in data["runsOrError"]["results"] if r["jobName"] == "daily_job"]  # not the sensors' runs
            assert [r["status"] for r in runs] == ["SUCCESS"] * 3
            assert (
                sorted(t["value"] for r in runs for t in r["tags"] if t["key"] == "dagster/partition") == default_days
            )
            # One backfill policy for every asset (the dialog still says "varying": docs/orchestration.md, Backfills).
            assert {json.dumps(n["backfillPolicy"]) for n in data["assetNodes"]} == {
                json.dumps({"policyType": "SINGLE_RUN", "maxPartitionsPerRun": None})
            }
            assert f"-h 127.0.0.1 -p {port}" in (tmp_path / "dev.log").read_text(), "bound to loopback only"

            # Every asset's upstream edges: the lineage runs unbroken landing -> raw -> ... -> dashboard.
            assert nodes["staging/stg_listen_events"]["dependencyKeys"] == [{"path": ["raw", "listen_events"]}]
            assert {"path": ["marts", "mart_song_play"]} in nodes["reports/daily_dashboard"]["dependencyKeys"]
            assert all(n["dependencyKeys"] for k, n in nodes.items() if not k.startswith("landing/"))

            # First contact: once the freshness sensor has judged the default days, no check is red.
            _wait_for_freshness_checks(tmp_path)
            for asset in ("raw/listen_events", "marts/mart_song_play"):
                listed = _check_list(page, port, asset)
                assert "freshness_check" in listed and "Failed" not in listed, (asset, listed)
            page.screenshot(path=str(ARTIFACTS / "first-contact-checks.png"), full_page=True)

            _what_the_ui_shows_per_day(page, port, tmp_path, default_days, alerts)
            _what_the_catalog_shows(page, port, tmp_path)
            _the_imported_days_are_partitions(page, port)
            _screenshot_asset_graph(page, port)
    finally:
        alerts.shutdown()
