"""Crashes as people meet them, on the home's own persistent instance: `audio-dwh run` SIGKILLed with
its whole process group during the raw load and during dbt, a UI-launched run killed, the UI itself
killed under a run; then the next runs finish by themselves, equal to runs that were never killed.
And the waiting command: it says who holds the pool, and Ctrl-C / SIGTERM end it and its run cleanly.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType

from audio_dwh.orchestration.instance import write_instance_config
from audio_dwh.orchestration.run_health import end_dead_runs, process_gone, run_process
from audio_dwh_tests.conftest import free_port
from audio_dwh_tests.dagster_ui import dev_env, graphql, launch_day, live_in_group, start_dev, stop_dev
from audio_dwh_tests.test_cli import ROOT
from audio_dwh_tests.test_reliability import checksums

pytestmark = pytest.mark.slow

DAYS = ["2026-11-02", "2026-11-03", "2026-11-04"]  # a day before, the killed day, a day after
TERMINATE = """mutation($runId: String!) {
  terminateRun(runId: $runId) { __typename ... on TerminateRunFailure { message } ... on PythonError { message } }
}"""
USERS = "4000"  # enough for a kill to land inside the raw load and inside dbt


def _env(home: Path) -> dict[str, str]:
    return dev_env(home, AUDIO_DWH_USERS=USERS)


def _run(home: Path, day: str) -> tuple[float, str]:
    """`audio-dwh run` of a day as a person runs it; it must succeed. Returns its seconds and output."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "audio_dwh.cli", "run", "--start", day, "--end", day],
                          cwd=ROOT, env=_env(home), capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return time.monotonic() - started, done.stdout


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, dict]:
    """The warehouse after each day of a home whose runs were never killed; and under "home", a copy
    of that home as it was after the first day, for each test to start from."""
    home = tmp_path_factory.mktemp("uninterrupted")
    states = {}
    for day in DAYS:
        _run(home, day)
        states[day] = checksums(home / "warehouse.duckdb")
        if day == DAYS[0]:
            states["home"] = tmp_path_factory.mktemp("after_the_first_day") / "home"
            shutil.copytree(home, states["home"], symlinks=True)
    return states


def _home_after_the_first_day(uninterrupted: dict, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(uninterrupted["home"], home, symlinks=True)
    return home


def _kill_group_when(command: list[str], env: dict, marker, settle_s: float) -> str:
    """Start command in its own process group; once marker(output so far) holds, wait settle_s and
    SIGKILL the whole group (dbt included), as the out-of-memory killer or a container stop does."""
    child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, start_new_session=True)  # fmt: skip
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(child.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 300
    while not marker("".join(output)) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(settle_s)
    assert child.poll() is None, "".join(output)[-3000:]  # still running: the kill lands mid-run
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    _wait_until_group_gone(child.pid)
    reader.join(timeout=10)
    return "".join(output)


def _wait_until_group_gone(group: int, timeout_s: float = 60) -> None:
    """Wait until no live process of the group remains: a killed dbt (a grandchild, not waited for
    above) holds the warehouse's lock until it has exited, which may take a moment mid-write."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alive = live_in_group(group)
        if not alive:
            return
        time.sleep(0.05)
    raise AssertionError(f"processes {alive} of the killed group {group} still run after {timeout_s} s")


def _states(killed: dict, before: dict, after: dict) -> tuple[int, int]:
    """Every table of the killed warehouse is as it was before the run or as a clean run leaves it."""
    half_written = {t: v for t, v in killed.items() if v not in (before.get(t), after.get(t))}
    assert not half_written, half_written
    assert set(killed) <= set(before) | set(after)
    return sum(killed[t] == after[t] != before.get(t) for t in killed), sum(killed[t] == before.get(t) for t in killed)


@pytest.mark.parametrize(
    ("during", "marker", "settle_s"),
    [
        ("the raw load", lambda out: 'Started execution of step "raw__page_view_events"' in out, 0.15),
        ("dbt", lambda out: out.count("START sql ") >= 12, 0.3),  # dbt has started its twelfth model
    ],
    ids=["raw", "dbt"],
)
def test_a_killed_cli_run_blocks_no_later_run(tmp_path, uninterrupted, during, marker, settle_s, reliability):
    home = _home_after_the_first_day(uninterrupted, tmp_path)
    _, day, after_day = DAYS
    before = checksums(home / "warehouse.duckdb")
    command = [sys.executable, "-m", "audio_dwh.cli", "run", "--start", day, "--end", day, "--verbose"]
    _kill_group_when(command, _env(home), marker, settle_s)
    completed, untouched = _states(checksums(home / "warehouse.duckdb"), before, uninterrupted[day])
    assert untouched, "the kill should land before every table was done"

    again_seconds, again = _run(home, day)  # the same day: no hand work, no wait on the dead run
    assert "had died" in again and "marked failed, its pool slots freed" in again, again[:2000]
    assert checksums(home / "warehouse.duckdb") == uninterrupted[day]
    next_seconds, _ = _run(home, after_day)
    assert checksums(home / "warehouse.duckdb") == uninterrupted[after_day]
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": day}))
        assert sorted(r.status.value for r in runs) == ["FAILURE", "SUCCESS"]
        (killed,) = [r for r in runs if not r.is_success]
        failure = instance.get_records_for_run(killed.run_id, of_type=DagsterEventType.RUN_FAILURE).records
        assert "is gone" in failure[0].event_log_entry.message  # what the UI shows for it
    finally:
        instance.dispose()
    reliability(
        what=f"Crash of `audio-dwh run` during {during}",
        tried=f"SIGKILL of the command's whole process group (dbt included) during {during}, on the home's "
        "persistent instance (4,000 users a day); then `audio-dwh run` of the same day and of the next day",
        held="each table as before or complete; the next run ended the dead run (failed, with the reason) and "
        "freed its duckdb slot by itself, and both days equal runs never killed (row-hash checksums)",
        tables_completed_before_kill=completed,
        tables_untouched=untouched,
        next_run_of_the_day_seconds=round(again_seconds),
        run_of_the_next_day_seconds=round(next_seconds),
    )


HOLDER = textwrap.dedent(
    """
    import sys, time
    import dagster as dg
    from audio_dwh.orchestration.run_health import this_host

    @dg.asset(pool="duckdb", partitions_def=dg.DailyPartitionsDefinition(start_date="2026-11-01"))
    def holds_the_duckdb_pool() -> None:
        print("holding the pool", flush=True)
        time.sleep(600)

    instance = dg.DagsterInstance.from_config(sys.argv[1])
    dg.materialize([holds_the_duckdb_pool], instance=instance, partition_key="2026-11-09", tags=this_host())
    """
)


def _interrupt_while_waiting(home: Path, day: str, signum: int) -> tuple[subprocess.CompletedProcess, float]:
    """`audio-dwh run` of day, sent signum once it says it waits; its result and how long it took to end."""
    child = subprocess.Popen([sys.executable, "-m", "audio_dwh.cli", "run", "--start", day, "--end", day],
                             cwd=ROOT, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)  # fmt: skip
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(child.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while "waiting for the duckdb pool" not in "".join(output) and time.monotonic() < deadline:
        time.sleep(0.2)
    child.send_signal(signum)
    sent = time.monotonic()
    errors = child.stderr.read()
    child.wait(timeout=60)
    reader.join(timeout=10)
    return subprocess.CompletedProcess(child.args, child.returncode, "".join(output), errors), time.monotonic() - sent


def test_a_waiting_run_says_who_holds_the_pool_and_stops_cleanly_on_ctrl_c_and_sigterm(tmp_path, reliability):
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    write_instance_config(home / "dagster")  # the home's instance, as the CLI makes it
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(home / "dagster")], cwd=ROOT, env=_env(home),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        assert any("holding the pool" in line for line in holder.stdout)  # stops reading once it holds
        results = {}
        for name, signum in (("SIGINT", signal.SIGINT), ("SIGTERM", signal.SIGTERM)):
            done, seconds = _interrupt_while_waiting(home, DAYS[1], signum)
            assert done.returncode == 128 + signum, done.stdout + done.stderr
            assert (
                "its slot is held by run" in done.stdout
                and "(__ephemeral_asset_job__, 2026-11-09, started" in done.stdout
            )
            assert f"interrupted ({name})" in done.stderr and "marked canceled, its pool slots freed" in done.stderr
            results[name] = seconds
        instance = dg.DagsterInstance.from_config(str(home / "dagster"))
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": DAYS[1]}))
        assert [r.status for r in runs] == [dg.DagsterRunStatus.CANCELED] * 2
        info = instance.event_log_storage.get_concurrency_info("duckdb")
        assert {s.run_id for s in info.claimed_slots} | {p.run_id for p in info.pending_steps} <= {
            r.run_id for r in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        }  # only the holder: the interrupted runs hold and wait for nothing
        instance.dispose()
    finally:
        holder.kill()  # the holder dies as a crash would: the next run ends it and goes on
        holder.wait()
    seconds, out = _run(home, DAYS[1])
    assert "(__ephemeral_asset_job__, 2026-11-09" in out and "had died" in out
    reliability(
        what="Waiting, Ctrl-C and SIGTERM",
        tried="`audio-dwh run` while another run of the home holds the duckdb pool; Ctrl-C, then SIGTERM, sent "
        "to the waiting command; then the holder killed with SIGKILL and the day run again",
        held="the waiting command names the run holding the slot (job, day, start time); each signal ended it "
        "(exit 130, 143) with its run canceled and nothing held; the next run ended the dead holder and finished",
        seconds_to_stop_after_ctrl_c=round(results["SIGINT"]),
        seconds_to_stop_after_sigterm=round(results["SIGTERM"]),
        next_run_seconds=round(seconds),
    )


def test_the_launcher_judges_a_run_by_its_process(tmp_path):
    """The check behind the daemon's run monitoring and the CLI: a live process, a gone one, a reused id."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not process_gone(child.pid, time.time())
        assert process_gone(child.pid, time.time() - 3600)  # named an hour before it started: a reused id
    finally:
        child.kill()
        child.wait()
    assert process_gone(child.pid, time.time())
    with dg.instance_for_test() as instance:
        assert end_dead_runs(instance) == []
        assert run_process(instance, "no-such-run") is None


def _wait(seconds: float, done) -> float:
    """Wait until done() holds (at most seconds); how long it took."""
    started = time.monotonic()
    while not done() and time.monotonic() - started < seconds:
        time.sleep(0.5)
    assert done(), f"not done after {seconds} s"
    return time.monotonic() - started


def _in_dbt(instance: dg.DagsterInstance, run_id: str) -> None:
    """Until the run's dbt step has run a few seconds."""
    _wait(300, lambda: any(r.event_log_entry.step_key == "dbt_models" for r in instance.get_records_for_run(
        run_id, of_type=DagsterEventType.STEP_START).records))  # fmt: skip
    time.sleep(3)


def _kill_in_dbt(instance: dg.DagsterInstance, run_id: str) -> int:
    """Once the run's dbt step has run a few seconds, SIGKILL its process and that process's children."""
    _in_dbt(instance, run_id)
    pid, _ = run_process(instance, run_id)
    children = [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/stat")
                if p.exists() and p.read_text().rpartition(")")[2].split()[1] == str(pid)]  # fmt: skip
    for victim in [pid, *children]:
        os.kill(victim, signal.SIGKILL)
    return pid


def test_a_ui_launched_run_killed_and_the_ui_killed_under_a_run_block_no_later_run(
    tmp_path, uninterrupted, reliability
):
    home = _home_after_the_first_day(uninterrupted, tmp_path)
    _, day, after_day = DAYS
    port = free_port()
    server = start_dev(home, port, _env(home))
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))

    def slot_free() -> bool:
        return not instance.event_log_storage.get_concurrency_info("duckdb").claimed_slots

    try:
        # 0. The run terminated from the UI while dbt runs in its process: it stops, cancelled.
        terminated = launch_day(port, day)
        _in_dbt(instance, terminated)
        answer = graphql(port, TERMINATE, {"runId": terminated})["data"]["terminateRun"]
        assert answer["__typename"] == "TerminateRunSuccess", answer
        terminated_seconds = _wait(120, lambda: instance.get_run_by_id(terminated).is_finished)
        assert instance.get_run_by_id(terminated).status == dg.DagsterRunStatus.CANCELED
        _wait(60, slot_free)

        # 1. The run's process killed (the out-of-memory killer picks the biggest): the run fails.
        killed = launch_day(port, day)
        _kill_in_dbt(instance, killed)
        ended_seconds = _wait(120, lambda: instance.get_run_by_id(killed).is_finished)
        assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
        _wait(60, slot_free)
        again = launch_day(port, day)
        again_seconds = _wait(300, lambda: instance.get_run_by_id(again).is_finished)
        assert instance.get_run_by_id(again).status == dg.DagsterRunStatus.SUCCESS
        assert checksums(home / "warehouse.duckdb") == uninterrupted[day]

        # 2. The whole UI (webserver, daemon, code server) killed under a run, as a power cut would:
        # when `make dev` is back, the daemon's run monitoring ends the run and frees its slot.
        orphan = launch_day(port, after_day)
        worker = _kill_in_dbt(instance, orphan)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        _wait_until_group_gone(server.pid)
        assert (
            process_gone(worker, time.time()) and instance.get_run_by_id(orphan).status == dg.DagsterRunStatus.STARTED
        )
        restarted = time.monotonic()
        server = start_dev(home, port, _env(home))
        _wait(180, lambda: instance.get_run_by_id(orphan).is_finished)
        monitored_seconds = time.monotonic() - restarted
        failure = instance.get_records_for_run(orphan, of_type=DagsterEventType.RUN_FAILURE).records
        assert "is gone" in failure[0].event_log_entry.message
        _wait(120, slot_free)
        last = launch_day(port, after_day)
        last_seconds = _wait(300, lambda: instance.get_run_by_id(last).is_finished)
        assert instance.get_run_by_id(last).status == dg.DagsterRunStatus.SUCCESS
        assert checksums(home / "warehouse.duckdb") == uninterrupted[after_day]
    finally:
        instance.dispose()
        stop_dev(server)
    reliability(
        what="Crash of a UI-launched run",
        tried="a daily_job run launched from the UI's API and terminated there during dbt; another, its process "
        "and dbt SIGKILLed during dbt; then a run "
        "in flight when the whole `make dev` (webserver, daemon, code server) was SIGKILLed, and `make dev` started "
        "again; each day then launched again from the UI",
        held="the terminated run was cancelled and the killed one failed, each freeing its slot; after the UI "
        "came back the daemon's run monitoring ended the orphaned run (failed, with the reason) and freed its slot; "
        "both days then equal runs never killed",
        seconds_until_the_terminated_run_stopped=round(terminated_seconds),
        seconds_until_the_killed_run_failed=round(ended_seconds),
        seconds_until_monitoring_ended_the_orphan=round(monitored_seconds),
        next_run_seconds=round(again_seconds),
        run_after_the_restart_seconds=round(last_seconds),
    )
