"""Where alerts go: a generic JSON webhook, a Slack-style incoming webhook, e-mail over SMTP.

Configured from a YAML file and/or environment variables; secrets (webhook URLs carry tokens, SMTP
passwords) are read from the environment when a sink sends, and a sink's `name` never shows them.
"""

from __future__ import annotations

import json
import os
import smtplib
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from audio_dwh.alerts.alert import Alert
from audio_dwh.settings import TCP_PORT, whole_number

TIMEOUT_SECONDS = 10


def _public_url(url: str) -> str:
    """scheme://host:port only: paths and queries of webhook URLs carry tokens."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def _post_json(url: str, payload: dict) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        if response.status >= 300:
            raise OSError(f"HTTP {response.status}")


@dataclass(frozen=True)
class WebhookSink:
    """POSTs the alert: as JSON (style "json"), or as {"text": ...} the way Slack's incoming webhooks
    (and Mattermost's, Teams' connectors) take it (style "slack")."""

    url: str = field(repr=False)
    style: str = "json"

    @property
    def name(self) -> str:
        return f"{'slack' if self.style == 'slack' else 'webhook'} {_public_url(self.url)}"

    def send(self, alert: Alert) -> None:
        _post_json(self.url, {"text": alert.text()} if self.style == "slack" else alert.to_dict())


@dataclass(frozen=True)
class EmailSink:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False

    @property
    def name(self) -> str:
        return f"email {self.host}:{self.port} to {', '.join(self.recipients)}"

    def send(self, alert: Alert) -> None:
        message = EmailMessage()
        message["Subject"] = alert.title
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message.set_content(alert.text())
        with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


Sink = WebhookSink | EmailSink


def _secret(entry: dict, key: str) -> str | None:
    """A value given inline or, better, through `<key>_env`: the name of an environment variable."""
    if f"{key}_env" in entry:
        return os.environ.get(entry[f"{key}_env"])
    return entry.get(key)


def _sink(entry: dict, source: str) -> Sink:
    kind = entry.get("type")
    if kind in ("webhook", "slack"):
        url = _secret(entry, "url")
        if not url:
            raise ValueError(f"{source}: a {kind} sink needs url or url_env")
        return WebhookSink(url, style="json" if kind == "webhook" else "slack")
    if kind == "email":
        recipients = entry.get("to") or []
        if not entry.get("host") or not entry.get("from") or not recipients:
            raise ValueError(f"{source}: an email sink needs host, from and to")
        return EmailSink(
            host=entry["host"],
            port=_port(entry.get("port", 25), f"{source}: port"),
            sender=entry["from"],
            recipients=tuple([recipients] if isinstance(recipients, str) else recipients),
            username=entry.get("username"),
            password=_secret(entry, "password"),
            starttls=bool(entry.get("starttls", False)),
        )
    raise ValueError(f"{source}: unknown sink type {kind!r} (webhook, slack or email)")


def _port(value: object, where: str) -> int:
    return whole_number(value, where, 1, 65535, TCP_PORT)


def load_sinks(alerts_file: Path | None, from_environment: Iterable[Mapping[str, Any]] = ()) -> list[Sink]:
    """Sinks from the YAML file (see docs/orchestration.md, "Alerts") and those the settings read from
    the AUDIO_DWH_ALERT_* and AUDIO_DWH_SMTP_* variables."""
    sinks: list[Sink] = []
    if alerts_file is not None:
        document = yaml.safe_load(alerts_file.read_text()) or {}
        for i, entry in enumerate(document.get("sinks", [])):
            sinks.append(_sink(entry, f"{alerts_file}: sinks[{i}]"))
    sinks += [_sink(entry, "AUDIO_DWH_ALERT_* / AUDIO_DWH_SMTP_* variables") for entry in from_environment]
    return sinks
