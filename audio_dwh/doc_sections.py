"""Tables the docs hold between `<!-- name:start -->` and `<!-- name:end -->`, rendered from their
records (the event contract, the reliability tests' records, the bench's results), never by hand."""

from __future__ import annotations

import re
from pathlib import Path


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(f"(<!-- {re.escape(name)}:start -->\n).*?(<!-- {re.escape(name)}:end -->)", re.DOTALL)


def replace_section(text: str, name: str, body: str) -> str:
    """text with the section `name` holding body; a ValueError if text has no such section."""
    pattern = _pattern(name)
    if not pattern.search(text):
        raise ValueError(f"no <!-- {name}:start --> ... <!-- {name}:end --> section")
    return pattern.sub(lambda m: f"{m.group(1)}{body.rstrip()}\n{m.group(2)}", text, count=1)


def fill_section(path: Path, name: str, body: str) -> None:
    """Writes body into the section `name` of the file at path."""
    text = path.read_text(encoding="utf-8")
    try:
        path.write_text(replace_section(text, name, body), encoding="utf-8")
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
