"""The instance's run launcher: Dagster's default one (each run a process beside the code server),
plus a health check, so the daemon's run monitoring ends a run whose process died instead of leaving
it STARTED for ever with its pool slot held (see run_health.py)."""

from __future__ import annotations

from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, LaunchRunContext, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun

from audio_dwh.orchestration.run_health import process_gone, ran_here, run_process, this_host


class LocalRunLauncher(DefaultRunLauncher):
    def launch_run(self, context: LaunchRunContext) -> None:
        self._instance.add_run_tags(context.dagster_run.run_id, this_host())
        super().launch_run(context)

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        if not ran_here(self._instance, run):
            return CheckRunHealthResult(WorkerStatus.RUNNING, "runs on another machine: not judged here")
        process = run_process(self._instance, run.run_id)
        if process is None:  # not started yet: the start timeout judges it
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no process named yet")
        if process_gone(*process):
            return CheckRunHealthResult(
                WorkerStatus.FAILED, f"its process {process[0]} is gone (killed, out of memory or a power cut)"
            )
        return CheckRunHealthResult(WorkerStatus.RUNNING, f"process {process[0]} is running")
