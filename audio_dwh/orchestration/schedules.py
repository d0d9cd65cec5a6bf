"""The daily schedule: yesterday's partition of every layer, at a configurable UTC hour."""

from datetime import timedelta

import dagster as dg

from audio_dwh.orchestration.jobs import DAILY_JOB


def build_daily_schedule(hour: int) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_schedule",
        job_name=DAILY_JOB,
        cron_schedule=f"0 {hour} * * *",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Every day at {hour:02d}:00 UTC: all layers for yesterday (UTC).",
    )
    def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
        return dg.RunRequest(run_key=f"schedule-{day}", partition_key=day)

    return daily_schedule
