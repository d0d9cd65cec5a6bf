"""An alert: one failed asset check, freshness check or run, with what a person needs to act."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Alert:
    id: str  # the event's storage id: one alert per failure, ever
    kind: str  # asset_check, freshness or run_failure
    title: str
    asset: str | None
    partition: str | None
    check: str | None
    severity: str
    reason: str
    run_id: str
    run_url: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Alert:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    def text(self) -> str:
        lines = [self.title]
        for label, value in (("asset", self.asset), ("partition", self.partition), ("check", self.check),
                             ("severity", self.severity), ("reason", self.reason), ("run", self.run_url)):  # fmt: skip
            if value:
                lines.append(f"{label}: {value}")
        return "\n".join(lines)
