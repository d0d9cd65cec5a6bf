"""Alerts: failed checks and runs reach a real HTTP receiver and a real SMTP server, once each."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import duckdb
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from audio_dwh.alerts.sensor import alert_sensor
from audio_dwh.resources import build_resources
from audio_dwh_tests.conftest import LAYERS

WEBHOOK_TOKEN = "s3cr3t-webhook-token"
SMTP_PASSWORD = "s3cr3t-smtp-password"


class Receiver(ThreadingHTTPServer):
    """A local webhook endpoint that records what it gets, and can be switched off (HTTP 503)."""

    def __init__(self):
        self.received: list[tuple[str, dict]] = []
        self.up = True
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if receiver.up:
                    receiver.received.append((self.path, body))
                self.send_response(200 if receiver.up else 503)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Mailbox:
    def __init__(self):
        self.messages: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope.content.decode())
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == SMTP_PASSWORD
    return AuthResult(success=ok)


@pytest.fixture
def sinks(monkeypatch):
    receiver = Receiver()
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd's controller needs a concrete port to check it is up
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(mailbox, hostname="127.0.0.1", port=port, authenticator=_authenticate, auth_require_tls=False)
    smtp.start()
    monkeypatch.setenv("AUDIO_DWH_ALERT_WEBHOOK_URL", f"{receiver.url}/hook/{WEBHOOK_TOKEN}")
    monkeypatch.setenv("AUDIO_DWH_ALERT_SLACK_URL", f"{receiver.url}/slack/{WEBHOOK_TOKEN}")
    monkeypatch.setenv("AUDIO_DWH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AUDIO_DWH_SMTP_PORT", str(port))
    monkeypatch.setenv("AUDIO_DWH_SMTP_USER", "alerts")
    monkeypatch.setenv("AUDIO_DWH_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("AUDIO_DWH_ALERT_EMAIL_TO", "oncall@example.test")
    monkeypatch.setenv("AUDIO_DWH_UI_URL", "http://dagster.example.test")
    yield receiver, mailbox
    smtp.stop()
    receiver.shutdown()


def _failures(settings, instance) -> None:
    """A blocking check failure (a broken contract), which also fails its run, on one day; a run failing
    on bad files on another: three alerts."""
    resources = build_resources(settings)
    assets = [LAYERS.landing, *LAYERS.raw]
    assert dg.materialize(assets, partition_key="2026-11-02", resources=resources, instance=instance).success
    con = duckdb.connect(str(settings.warehouse))
    con.execute("ALTER TABLE raw.auth_events ADD COLUMN surprise VARCHAR")
    con.close()
    dg.materialize(assets, partition_key="2026-11-03", resources=resources, instance=instance, raise_on_error=False)
    bad = settings.landing / "listen_events" / "date=2026-11-04" / "bad.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{oops\n")
    files = build_resources(type(settings)(**{**settings.__dict__, "source": "files"}))
    listens = [a for a in LAYERS.raw if a.key.path[1] == "listen_events"]
    dg.materialize(listens, partition_key="2026-11-04", resources=files, instance=instance, raise_on_error=False)


def _tick(instance, cursor):
    with dg.build_sensor_context(instance=instance, cursor=cursor) as context:
        result = alert_sensor(context)
    return result.cursor


def test_each_failure_is_alerted_once_to_every_sink_and_a_down_sink_catches_up(settings, sinks):
    receiver, mailbox = sinks
    with dg.instance_for_test() as instance:
        _failures(settings, instance)
        receiver.up = False  # the webhook server is down: the e-mail goes, the hooks stay owed
        cursor = _tick(instance, None)
        assert receiver.received == [] and len(mailbox.messages) == 3
        receiver.up = True
        cursor = _tick(instance, cursor)
        cursor = _tick(instance, cursor)  # nothing new, nothing owed: nothing sent again
    hooks = [body for path, body in receiver.received if path.startswith("/hook/")]
    slack = [body for path, body in receiver.received if path.startswith("/slack/")]
    assert len(hooks) == len(slack) == len(mailbox.messages) == 3
    assert len({h["id"] for h in hooks}) == 3
    check, *runs = sorted(hooks, key=lambda a: (a["kind"], a["partition"]))
    assert [(r["kind"], r["partition"]) for r in runs] == [("run_failure", "2026-11-03"), ("run_failure", "2026-11-04")]
    run = runs[1]
    assert (check["kind"], check["asset"], check["partition"], check["check"], check["severity"]) == (
        "asset_check", "raw/auth_events", "2026-11-03", "contract", "ERROR")  # fmt: skip
    assert "surprise" in check["reason"]
    assert check["run_url"] == f"http://dagster.example.test/runs/{check['run_id']}"
    assert "1 of 1 lines rejected" in run["reason"] and "bad.json" in run["reason"]
    assert "raw/auth_events" in slack[0]["text"] or "raw/auth_events" in slack[1]["text"]
    assert any("check contract failed on raw/auth_events" in m for m in mailbox.messages)
    assert json.loads(cursor)["pending"] == []


def test_secrets_never_appear_in_alerts_cursor_or_logs(settings, sinks, capfd):
    receiver, mailbox = sinks
    with dg.instance_for_test() as instance:
        _failures(settings, instance)
        capfd.readouterr()
        receiver.up = False
        cursor = _tick(instance, None)
        logs = "".join(capfd.readouterr())
    everything = json.dumps(receiver.received) + "".join(mailbox.messages) + cursor + logs
    assert "not sent to webhook http://127.0.0.1" in logs
    assert WEBHOOK_TOKEN not in everything and SMTP_PASSWORD not in everything
