"""dbt runs only the models a run's days give work (audio_dwh/dbt/planning.py), through Dagster on a
real DuckDB file: a day that brought nothing runs no dbt at all, a day of one topic builds part of
the project, a day whose events were taken back deletes them, and the home equals one that built
every model over the final files; every model is materialized and every check judged for each day."""

import dataclasses
import shutil
from datetime import timedelta

import dagster as dg
import pytest

from audio_dwh.counts import ROWS_OF_RUN_DAYS, TABLE_ROWS
from audio_dwh.dbt.project import PROJECT_TARGET
from audio_dwh.events.contract import TOPICS
from audio_dwh.events.landing import day_folder
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, write_day
from audio_dwh.partitions import range_tags
from audio_dwh.resources import build_resources
from audio_dwh_tests.conftest import DAY, LAYERS, make_settings
from audio_dwh_tests.dbt_helpers import assert_same_as_final, warehouse_tables

pytestmark = pytest.mark.slow

EVERYTHING = [LAYERS.landing, *LAYERS.raw, LAYERS.dbt]
DBT_KEYS = {spec.key for spec in LAYERS.dbt.specs}
# A full day, a day of logins alone, a day with nothing, a full day.
DAYS = [DAY + timedelta(days=n) for n in range(4)]
AUTH_ONLY, NOTHING = DAYS[1], DAYS[2]


def _land(landing, simulator: DaySimulator) -> None:
    """The four days' files; a topic with no events that day is an empty day folder."""
    for day in DAYS:
        write_day(simulator, day, landing)
    emptied = [(topic, AUTH_ONLY) for topic in TOPICS if topic != "auth_events"] + [(t, NOTHING) for t in TOPICS]
    for topic, day in emptied:
        folder = day_folder(landing, topic, day)
        shutil.rmtree(folder)
        folder.mkdir()


def _materialize(settings, instance: dg.DagsterInstance, first, last=None) -> dg.ExecuteInProcessResult:
    last = last or first
    partition = {"partition_key": first.isoformat()} if first == last else {"tags": range_tags(first, last)}
    result = dg.materialize(EVERYTHING, resources=build_resources(settings), instance=instance, **partition)
    assert result.success
    return result


def _dbt_ran(result: dg.ExecuteInProcessResult) -> bool:
    """Whether the run invoked dbt: dagster-dbt gives each invocation a target folder named by its run."""
    return any(PROJECT_TARGET.glob(f"dbt_models-{result.run_id[:7]}-*"))


def _unchanged(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {
        m.asset_key for m in result.get_asset_materialization_events()
        if m.asset_key in DBT_KEYS and "unchanged" in m.materialization.metadata
    }  # fmt: skip


def _evaluations(result: dg.ExecuteInProcessResult) -> list:
    return [
        event.asset_check_evaluation_data
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        and event.asset_check_evaluation_data.asset_key in DBT_KEYS
    ]


def test_days_without_new_rows_skip_their_models_and_the_home_equals_building_everything(tmp_path):
    day_by_day, one_range = (
        dataclasses.replace(make_settings(tmp_path / home), source="files") for home in ("day_by_day", "one_range")
    )
    simulator = DaySimulator(SimulatorConfig(users=120))
    day_by_day.home.mkdir()
    _land(day_by_day.landing, simulator)
    instance = dg.DagsterInstance.ephemeral()
    runs = {day: _materialize(day_by_day, instance, day) for day in DAYS}

    # The first day builds the whole project; the day of logins alone leaves some models as they were.
    assert _dbt_ran(runs[DAYS[0]]) and not _unchanged(runs[DAYS[0]])
    partial = _unchanged(runs[AUTH_ONLY])
    assert _dbt_ran(runs[AUTH_ONLY]) and partial and partial != DBT_KEYS
    assert dg.AssetKey(["vault", "sat_song_play_details"]) in partial
    assert dg.AssetKey(["vault", "hub_user"]) not in partial  # logins name users
    # The empty day: no dbt at all, yet every model materialized for the day, none of its rows of the
    # day, its table's rows as they were, and every check
    # of every model judged for it, saying why nothing was run.
    empty = runs[NOTHING]
    assert not _dbt_ran(empty)
    assert _unchanged(empty) == DBT_KEYS
    materialized = empty.get_asset_materialization_events()
    assert all(m.materialization.metadata[ROWS_OF_RUN_DAYS].value == 0 for m in materialized
               if m.asset_key in DBT_KEYS and m.asset_key.path[0] != "staging")  # fmt: skip
    before = {m.asset_key: m.materialization.metadata[TABLE_ROWS].value
              for m in runs[AUTH_ONLY].get_asset_materialization_events() if m.asset_key in DBT_KEYS}  # fmt: skip
    assert {m.asset_key: m.materialization.metadata[TABLE_ROWS].value for m in materialized
            if m.asset_key in DBT_KEYS} == before and before[dg.AssetKey(["vault", "hub_user"])] > 0  # fmt: skip
    evaluations = _evaluations(empty)
    assert {(e.asset_key, e.check_name) for e in evaluations} == {
        (key.asset_key, key.name) for key in LAYERS.dbt.check_keys
    }
    assert all(e.partition == NOTHING.isoformat() and e.passed for e in evaluations)
    assert all("nothing new to judge" in e.metadata["not_run"].value for e in evaluations)
    whole_table = next(e for e in evaluations if e.check_name == "not_null_mart_song_play_play_start_date")
    assert runs[AUTH_ONLY].run_id in whole_table.metadata["not_run"].value  # its last judgment stands
    assert _dbt_ran(runs[DAYS[3]])

    # The logins of the second day taken back: its rows are deleted, so dbt runs though no input has any.
    auth = day_folder(day_by_day.landing, "auth_events", AUTH_ONLY)
    shutil.rmtree(auth)
    auth.mkdir()
    taken_back = _materialize(day_by_day, instance, AUTH_ONLY)
    assert _dbt_ran(taken_back) and dg.AssetKey(["vault", "sat_authorization_status"]) not in _unchanged(taken_back)

    # The final files as one range: every model built, the same raw, vault and marts.
    one_range.home.mkdir()
    shutil.copytree(day_by_day.landing, one_range.landing)
    _materialize(one_range, dg.DagsterInstance.ephemeral(), DAYS[0], DAYS[-1])
    homes = [warehouse_tables(s.warehouse, with_raw=True, first_seen=False) for s in (one_range, day_by_day)]
    assert_same_as_final(*homes)  # the hubs keep the keys they saw besides
    assert sum(bool(rows) for rows in homes[0].values()) >= 30  # the comparison compares data
