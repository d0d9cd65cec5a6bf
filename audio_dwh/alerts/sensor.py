"""The alert sensor: every failed check (incl. freshness) and failed run becomes one alert per sink.

Its cursor holds the runs already read (with the time they finished, kept for an hour's overlap, as
runs finish in any order) and the alerts some sink has not taken yet, per sink: a sink that is down
is retried on later ticks, and no sink gets an alert twice.
"""

import json

import dagster as dg

from audio_dwh.alerts.alert import Alert
from audio_dwh.alerts.collect import alerts_for_run, finished_runs
from audio_dwh.alerts.sinks import load_sinks
from audio_dwh.settings import load_settings

OVERLAP_SECONDS = 3600


def deliver(pending: list[dict], sinks: dict, log) -> list[dict]:
    """Send each pending alert to the sinks it still owes; returns what is still owed."""
    still_owed = []
    for item in pending:
        alert = Alert.from_dict(item["alert"])
        owed = []
        for name in item["sinks"]:
            sink = sinks.get(name)
            if sink is None:
                continue  # the sink was removed from the configuration
            try:
                sink.send(alert)
                log.info(f"alert {alert.id} sent to {name}")
            except Exception as e:  # a sink that is down: keep it owed, say why without its secrets
                log.warning(f"alert {alert.id} not sent to {name} ({type(e).__name__}); retrying on the next tick")
                owed.append(name)
        if owed:
            still_owed.append({"alert": item["alert"], "sinks": owed})
    return still_owed


@dg.sensor(
    name="alert_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends one alert per failed asset check, freshness check or run to the configured sinks.",
)
def alert_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    settings = load_settings()
    state = json.loads(context.cursor) if context.cursor else {"since": 0.0, "seen": {}, "pending": []}
    sinks = {sink.name: sink for sink in load_sinks(settings.alerts_file, settings.alert_sinks)}
    seen: dict[str, float] = state["seen"]
    alerts = []
    for run in finished_runs(context.instance, max(0.0, state["since"] - OVERLAP_SECONDS)):
        if run.run_id in seen:
            continue
        record = context.instance.get_run_record_by_id(run.run_id)
        seen[run.run_id] = record.update_timestamp.timestamp() if record else state["since"]
        alerts += alerts_for_run(context.instance, run, settings.ui_base_url)
    for alert in alerts:
        context.log.info(f"alert {alert.id}: {alert.title}")
    pending = state["pending"] + [{"alert": a.to_dict(), "sinks": sorted(sinks)} for a in alerts if sinks]
    pending = deliver(pending, sinks, context.log)
    since = max([state["since"], *seen.values()])
    seen = {run_id: t for run_id, t in seen.items() if t >= since - OVERLAP_SECONDS}
    return dg.SensorResult(cursor=json.dumps({"since": since, "seen": seen, "pending": pending}))
