"""The home's event log (orchestration/event_log.py): Dagster's SQLite event log, a batch of events
written in one transaction per file, the records the same as Dagster's own storage keeps."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy
from dagster._core.events import DagsterEventBatchMetadata
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from audio_dwh.orchestration.event_log import BatchingSqliteEventLogStorage
from audio_dwh.orchestration.instance import prepare_home
from audio_dwh_tests.conftest import make_settings
from bench.events import PLANNED_EVENTS as PLANNED
from bench.events import planned_events


@pytest.fixture
def commits():
    """Every commit any SQLAlchemy engine makes while the test runs, counted."""
    counted = []

    def count(connection) -> None:
        counted.append(connection.engine.url.database)

    sqlalchemy.event.listen(sqlalchemy.Engine, "commit", count)
    yield counted
    sqlalchemy.event.remove(sqlalchemy.Engine, "commit", count)


def _stored(storage: SqliteEventLogStorage, run_id: str) -> list[tuple]:
    records = storage.get_records_for_run(run_id).records
    return [(r.event_log_entry.dagster_event_type, r.event_log_entry.dagster_event.asset_key) for r in records]


def test_the_homes_instance_stores_a_batch_in_one_transaction_per_file(tmp_path, monkeypatch, commits):
    """A run's planned events, sent as Dagster sends them, through the instance `audio-dwh run` and
    `make dev` open: one commit for the run's file and one for the index, where Dagster's own storage
    commits for every event in each; the records and the index are the same."""
    settings = make_settings(tmp_path / "home")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))  # prepare_home sets it; restored after
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "")  # so that the one prepare_home sets is undone after
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE")
    prepare_home(settings)
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, BatchingSqliteEventLogStorage)
        instance.handle_new_event(planned_events("batched", 1)[0])  # the run's file made (its tables: commits too)
        events = planned_events("batched", PLANNED)
        commits.clear()
        for n, event in enumerate(events):
            instance.handle_new_event(event, batch_metadata=DagsterEventBatchMetadata("b", n == len(events) - 1))
        assert len(commits) == 2, commits  # the run's file and the index
        batched = _stored(instance.event_log_storage, "batched")
        planned = instance.get_latest_planned_materialization_info(dg.AssetKey(["vault", "model_7"]))
        assert planned is not None and planned.run_id == "batched"

    dagster_own = SqliteEventLogStorage(str(tmp_path / "dagster_own"))
    dagster_own.store_event(planned_events("batched", 1)[0])
    commits.clear()
    dagster_own.store_event_batch(planned_events("batched", PLANNED))
    assert len(commits) == 2 * PLANNED  # a commit per event in the run's file and in the index
    assert batched == _stored(dagster_own, "batched") and len(batched) == PLANNED + 1


def test_a_batch_that_fails_stores_none_of_it(tmp_path):
    """The batch is one transaction per file: an event that cannot be stored leaves none of the batch
    behind (Dagster then stores the events one by one)."""
    storage = BatchingSqliteEventLogStorage(str(tmp_path / "events"))
    broken = planned_events("failing", 3)
    broken.insert(2, "not an event")  # fails inside the batch, after two events were written
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever Dagster's check raises
        storage.store_event_batch(broken)
    assert _stored(storage, "failing") == []
    storage.store_event_batch(planned_events("failing", 3))
    assert len(_stored(storage, "failing")) == 3


def test_single_events_keep_the_engine_and_many_runs_do_not_grow_it(tmp_path, commits):
    """An event outside a batch is stored and committed on its own, as Dagster does; a process reading
    many runs keeps only the engines of the files it used last."""
    storage = BatchingSqliteEventLogStorage(str(tmp_path / "events"))
    for n in range(40):
        storage.store_event(planned_events(f"run-{n}", 1)[0])  # each run's file made (its tables: commits too)
    commits.clear()
    for n in range(40):
        storage.store_event(planned_events(f"run-{n}", 1)[0])
    assert len(commits) == 80  # each event: the run's file and the index
    assert len(storage._engines) <= 16 and all(len(_stored(storage, f"run-{n}")) == 2 for n in range(40))
