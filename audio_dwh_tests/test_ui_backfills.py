"""Backfills launched in `make dev` as the UI launches them: every asset over a few days, the daily job
over a week; each is one run over every layer, every asset and check recorded for every day."""

from pathlib import Path

import pytest

from audio_dwh_tests.dagster_ui import (
    ASSET_NODES,
    assert_backfill_complete,
    graphql,
    launch_backfill,
    repository,
    running_dev,
    wait_for_backfill,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_asset_backfill_and_a_job_backfill_each_run_every_layer_once_over_their_days(tmp_path: Path):
    with running_dev(tmp_path, AUDIO_DWH_USERS="150") as port:
        assets = {"/".join(node["assetKey"]["path"]) for node in graphql(port, ASSET_NODES)["data"]["assetNodes"]}

        # Every asset over 3 days, and the daily job over a week, both launched at once (the backfill
        # daemon takes them up on the same tick). Every asset backfills a range in one run, so the
        # daemon can launch the whole graph as one run, and Dagster honours that single-run policy
        # for job backfills too; the "duckdb" pool keeps the two runs' writers off each other.
        days = ["2026-11-04", "2026-11-05", "2026-11-06"]
        selection = [{"path": name.split("/")} for name in sorted(assets)]
        of_assets = launch_backfill(port, {"partitionNames": days, "assetSelection": selection})
        week = [f"2026-11-{d:02d}" for d in range(7, 14)]
        selector = {"partitionSetName": "daily_job_partition_set", "repositorySelector": repository(port)}
        of_the_job = launch_backfill(port, {"selector": selector, "partitionNames": week})
        wait_for_backfill(port, of_assets, tmp_path)
        wait_for_backfill(port, of_the_job, tmp_path)
        assert_backfill_complete(tmp_path, of_assets, days, assets)
        assert len(assert_backfill_complete(tmp_path, of_the_job, week, assets)) == 1
