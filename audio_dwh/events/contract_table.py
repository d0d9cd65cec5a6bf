"""The event contract as the README's table: every field with its type, where it is required, and its
domain. Rendered from contract.py, like dbt's raw sources; a test fails when the README drifts.

Regenerate with: python -m audio_dwh.events.contract_table --readme README.md
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from audio_dwh.events.contract import TOPICS, Field

START, END = "<!-- contract-table:start -->", "<!-- contract-table:end -->"
SHORT = {"listen_events": "listen", "page_view_events": "page view", "auth_events": "auth",
         "status_change_events": "status change"}  # fmt: skip


def render() -> str:
    """One row per field definition (a name may have two: required on listens, optional on page views)."""
    fields: list[Field] = []
    for topic in TOPICS.values():
        fields += [f for f in topic.fields if f not in fields]
    rows = ["| field | type | in | domain |", "|---|---|---|---|"]
    for f in fields:
        topics = [SHORT[t.name] for t in TOPICS.values() if f in t.fields]
        where = "all" if len(topics) == len(TOPICS) else ", ".join(topics)
        rows.append(
            f"| `{f.name}` | {f.type.value} | {where}{' (required)' if f.required else ''} | {f.domain_text()} |"
        )
    return "\n".join(rows)


def replace_in(text: str) -> str:
    """The text with the table between its markers rendered anew."""
    pattern = re.compile(f"{re.escape(START)}.*?{re.escape(END)}", re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {START} ... {END} markers")
    return pattern.sub(lambda _: f"{START}\n{render()}\n{END}", text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, required=True)
    readme = parser.parse_args().readme
    readme.write_text(replace_in(readme.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the contract table into {readme}")
