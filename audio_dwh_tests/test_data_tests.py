"""The project's generic data tests (dbt_project/tests/generic) judge the rows of the run's days
against the whole table: a real vault of two days, broken on purpose, then `dbt test` per window."""

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from audio_dwh_tests.dbt_helpers import run_days, run_dbt
from audio_dwh_tests.test_vault import D1, D2, _day1, _day2, _land_and_load

PRIMARY_KEY = "primary_key_hub_user_user_pk"
COMBINATION = "unique_combination_sat_user_profile_user_pk__effective_from_ts__user_hashdiff"
ORPHAN = "references_in_run_link_user_plan"
NULL_KEY = "not_null_in_run_link_user_plan_user_pk__plan_pk"
JUDGED = [PRIMARY_KEY, COMBINATION, ORPHAN, NULL_KEY]


def _statuses(warehouse: Path, tmp: Path, window: date | None) -> dict[str, str]:
    """`dbt test` of the three models, over one day's window (or none: every row)."""
    args = ["test", "--select", "hub_user", "sat_user_profile", "link_user_plan"]
    if window:
        args += ["--vars", json.dumps({"min_date": window.isoformat()})]
    run_dbt(args, warehouse, tmp, failing_tests_ok=True)
    results = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2]: r["status"] for r in results}


@pytest.fixture(scope="module")
def vault(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("data_tests")
    warehouse, landing = tmp / "warehouse.duckdb", tmp / "landing"
    _land_and_load(warehouse, landing, D1, _day1())
    _land_and_load(warehouse, landing, D2, _day2())
    run_days(warehouse, tmp, D1.isoformat(), D2.isoformat())
    return warehouse, tmp


def test_a_sound_vault_passes_every_window(vault):
    warehouse, tmp = vault
    for window in (D1, D2, None):
        statuses = _statuses(warehouse, tmp, window)
        assert set(JUDGED) <= set(statuses) and set(statuses.values()) == {"pass"}, (window, statuses)


def test_a_broken_row_fails_the_runs_that_touch_it_and_only_those(vault):
    warehouse, tmp = vault
    con = duckdb.connect(str(warehouse))
    # day 2 loads a user key that day 1 already loaded, and the same profile state again
    con.execute(f"INSERT INTO vault.hub_user SELECT * REPLACE (DATE '{D2}' AS load_date) FROM vault.hub_user LIMIT 1")
    con.execute(
        f"INSERT INTO vault.sat_user_profile SELECT * REPLACE (DATE '{D2}' AS load_date) "
        f"FROM vault.sat_user_profile WHERE load_date = DATE '{D1}' LIMIT 1"
    )
    # day 1 links a user no hub row knows, and a plan that is not there at all
    con.execute(
        f"INSERT INTO vault.link_user_plan SELECT * REPLACE (md5('orphan link') AS link_user_plan_pk, "
        f"md5('nobody') AS user_pk, NULL AS plan_pk) FROM vault.link_user_plan WHERE load_date = DATE '{D1}' LIMIT 1"
    )
    con.close()
    day2, day1, everything = (_statuses(warehouse, tmp, window) for window in (D2, D1, None))
    # a key loaded on day 2 that also exists from day 1: day 2's check sees the whole table
    assert [day2[test] for test in JUDGED] == ["fail", "fail", "pass", "pass"]
    # day 1's keys are duplicated too (by day 2's rows); its orphan is a warning (references warn)
    assert [day1[test] for test in JUDGED] == ["fail", "fail", "warn", "fail"]
    assert [everything[test] for test in JUDGED] == ["fail", "fail", "warn", "fail"]


UNIT_TESTS = {
    "top_10_songs_rank_by_listeners_then_plays_then_names_and_stop_at_ten",
    "plan_changes_count_a_conversion_only_at_a_users_first_upgrade",
    "page_funnel_share_of_sessions_reaching_a_song_is_the_days",
}


def test_the_marts_unit_tests_hold(vault):
    """dbt's unit tests of the marts (models/marts/_marts_unit_tests.yml), on the built vault's schemas."""
    warehouse, tmp = vault
    run_dbt(["test", "--select", "test_type:unit"], warehouse, tmp)
    results = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    assert {r["unique_id"].split(".")[-1]: r["status"] for r in results} == dict.fromkeys(UNIT_TESTS, "pass")
