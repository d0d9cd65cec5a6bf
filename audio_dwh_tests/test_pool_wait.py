"""A run whose step waits for the `duckdb` pool sleeps between its claim checks (orchestration/
pool_wait.py) and checks each second (orchestration/event_log.py), on the home's own instance."""

from __future__ import annotations

import threading
import time

import dagster as dg
from dagster._core.execution.plan.active import ActiveExecution

from audio_dwh.orchestration import pool_wait
from audio_dwh.orchestration.event_log import CLAIM_RECHECK_SECONDS
from audio_dwh.orchestration.instance import prepare_home
from audio_dwh_tests.conftest import make_settings

HELD_SECONDS = 3.0


@dg.op(pool="duckdb")
def write() -> int:
    return 1


@dg.job(executor_def=dg.in_process_executor)
def one_writer():
    write()


def test_a_step_waiting_for_its_pool_sleeps_between_checks_and_starts_once_the_slot_is_free(tmp_path, monkeypatch):
    """Another run holds the slot for a few seconds: the waiting run's executor goes round its loop
    about once per check (Dagster's own loop, uncorrected, goes round it thousands of times, a core
    busy for the whole wait), then claims the freed slot and succeeds."""
    settings = make_settings(tmp_path / "home")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))  # prepare_home sets it; restored after
    prepare_home(settings)
    pool_wait.install()
    rounds = []
    sleep_til_ready = ActiveExecution.sleep_til_ready

    def counted(self: ActiveExecution) -> None:
        rounds.append(self.sleep_interval())
        sleep_til_ready(self)

    monkeypatch.setattr(ActiveExecution, "sleep_til_ready", counted)
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("duckdb")
        assert storage.claim_concurrency_slot("duckdb", "holder", "a_step").is_claimed
        claimed_while_held = []

        def free_later() -> None:
            time.sleep(HELD_SECONDS)
            claimed_while_held.extend(s.run_id for s in storage.get_concurrency_info("duckdb").claimed_slots)
            storage.free_concurrency_slot_for_step("holder", "a_step")

        holder = threading.Thread(target=free_later)
        holder.start()
        result = one_writer.execute_in_process(instance=instance)  # the main thread, as a run's process
        holder.join()
    assert result.success and claimed_while_held == ["holder"]
    assert 1 <= len(rounds) <= 2 * HELD_SECONDS / CLAIM_RECHECK_SECONDS + 2, len(rounds)
    assert all(0 < interval <= CLAIM_RECHECK_SECONDS for interval in rounds), rounds
