"""The event contract as docs/raw-layer.md's table: every field with its type, where it is required,
and its domain. Rendered from contract.py, like dbt's raw sources; a test fails when the page drifts.

Regenerate with: python -m audio_dwh.events.contract_table
"""

from __future__ import annotations

import argparse
from pathlib import Path

from audio_dwh.doc_sections import fill_section
from audio_dwh.events.contract import TOPICS, Field

SECTION = "contract-table"
PAGE = Path(__file__).resolve().parents[2] / "docs" / "raw-layer.md"
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", type=Path, default=PAGE, help="the page holding the table (default: %(default)s)")
    page = parser.parse_args().page
    fill_section(page, SECTION, render())
    print(f"wrote the contract table into {page}")
