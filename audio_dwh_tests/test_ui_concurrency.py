"""Runs launched at the same moment in `make dev`, as a catching-up sensor or seven clicks would: the run
queue and the "duckdb" pool queue their loads, and none fails on the warehouse's lock."""

from pathlib import Path

import pytest

from audio_dwh.events.contract import TOPICS
from audio_dwh_tests.dagster_ui import ASSET_NODES, graphql, launch_day, running_dev, wait_for_runs

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_seven_one_day_runs_launched_at_once_queue_on_the_pool_and_all_succeed(tmp_path: Path, reliability):
    with running_dev(tmp_path, AUDIO_DWH_USERS="150") as port:
        nodes = graphql(port, ASSET_NODES)["data"]["assetNodes"]
        paths = [node["assetKey"]["path"] for node in nodes]
        landing_and_raw = [{"path": path} for path in paths if path[0] in ("landing", "raw")]
        days = [f"2026-11-{d:02d}" for d in range(14, 21)]
        run_ids = [launch_day(port, day, landing_and_raw) for day in days]
        statuses = wait_for_runs(tmp_path, run_ids)
        log = (tmp_path / "dev.log").read_text()
    assert statuses == ["SUCCESS"] * 7, (statuses, log[-3000:])
    assert "Conflicting lock" not in log
    reliability(
        what="Concurrency",
        tried="one-day runs of landing + raw for 7 different days launched at the same moment through the UI's API",
        held="all succeeded; the run queue and the duckdb pool queued the loads; no lock error",
        runs_launched_at_once=len(run_ids),
        runs_succeeded=statuses.count("SUCCESS"),
        raw_loads=len(run_ids) * len(TOPICS),
    )
