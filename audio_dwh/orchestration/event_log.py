"""The instance's storage: Dagster's SQLite storage, with an event log that pays less per event.

Dagster's SQLite event log builds a database engine, opens a connection and commits for every event
it stores (twice for an asset event: the run's file and the cross-run index), and stores a batch one
event at a time. A run records hundreds of events, a few milliseconds each: a fixed cost every day
pays however little data it holds. This event log keeps each file's engine, and writes a batch (the
events Dagster sends as one: a run's planned materializations and checks, when
DAGSTER_EVENT_BATCH_SIZE is set, as `prepare_home` does) in one transaction per file. What is stored,
and where, is Dagster's own: the same files and tables any Dagster process reads.

A step its pool blocks is told to check again in a second, where Dagster backs off to 15 s between
checks: a queued day starts within a second of the day before it freeing the `duckdb` slot.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import sqlalchemy
import yaml
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes.config_class import ConfigurableClassData
from dagster._utils.concurrency import ConcurrencyClaimStatus
from sqlalchemy.pool import NullPool

# Kept engines: the index and the run files in use; a long-lived process (the webserver) reads many
# runs' files, so the least recently used engine is let go beyond this.
KEPT_ENGINES = 16
BUSY_TIMEOUT_SECONDS = 30  # as Dagster's own, for another process writing the same file
CLAIM_RECHECK_SECONDS = 1.0  # two small index reads a second per waiting step; a home has a few


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log, with one engine per file kept and a batch in one transaction."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, sqlalchemy.Engine] = OrderedDict()
        self._batch = threading.local()  # the open transactions of the batch this thread stores
        super().__init__(base_dir, inst_data=inst_data)  # makes the index with _connect when new

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, str]) -> BatchingSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> sqlalchemy.Engine:
        """The file's engine (under self._db_lock), its tables made on first use as Dagster does."""
        engine = self._engines.get(shard)
        if engine is None:
            engine = sqlalchemy.create_engine(
                self.conn_string_for_shard(shard),
                poolclass=NullPool,  # a connection per use, as Dagster: no file held open between events
                connect_args={"timeout": BUSY_TIMEOUT_SECONDS},
            )
            self._engines[shard] = engine
            while len(self._engines) > KEPT_ENGINES:
                self._engines.popitem(last=False)[1].dispose()
        self._engines.move_to_end(shard)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sqlalchemy.Connection]:
        batch: dict[str, sqlalchemy.Connection] | None = getattr(self._batch, "connections", None)
        if batch is not None:  # inside store_event_batch: the file's transaction, opened once
            if shard not in batch:
                with self._db_lock:
                    engine = self._engine(shard)
                connection = self._batch.stack.enter_context(engine.connect())
                self._batch.stack.enter_context(connection.begin())
                batch[shard] = connection
            yield batch[shard]
            return
        with self._db_lock:
            with self._engine(shard).connect() as connection, connection.begin():
                yield connection

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Every event as store_event stores it, each file written in one transaction, committed when
        all are stored (a failure stores none, and Dagster then stores them one by one)."""
        with ExitStack() as stack:
            self._batch.connections, self._batch.stack = {}, stack
            try:
                for event in events:
                    self.store_event(event)
            finally:
                self._batch.connections = None

    def claim_concurrency_slot(
        self, concurrency_key: str, run_id: str, step_key: str, priority: int | None = None
    ) -> ConcurrencyClaimStatus:
        status = super().claim_concurrency_slot(concurrency_key, run_id, step_key, priority)
        return status if status.is_claimed else status.with_sleep_interval(CLAIM_RECHECK_SECONDS)

    def dispose(self) -> None:
        super().dispose()
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()


class AudioDwhSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage of an instance (runs, schedules and event logs under base_dir, as by
    default), its event log a BatchingSqliteEventLogStorage."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = BatchingSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, str]) -> AudioDwhSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)

    @property
    def event_storage_data(self) -> ConfigurableClassData:
        return ConfigurableClassData(
            __name__,
            BatchingSqliteEventLogStorage.__name__,
            yaml.dump({"base_dir": _event_logs_directory(self.base_dir)}),
        )
