"""Strict day parsing: partition keys and CLI dates are YYYY-MM-DD and nothing else."""

from __future__ import annotations

import re
from datetime import date

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(text: str, what: str = "date") -> date:
    """Parse YYYY-MM-DD, refusing anything else before it can reach SQL or a path."""
    if not isinstance(text, str) or not _DAY.fullmatch(text):
        raise ValueError(f"{what} must be YYYY-MM-DD, got {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise ValueError(f"{what} is not a valid day: {text!r} ({e})") from None
