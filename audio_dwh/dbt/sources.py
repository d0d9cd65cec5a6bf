"""dbt's source definitions for the raw tables, rendered from the event contract.

`dbt_project/models/staging/_raw_sources.yml` is this module's output, committed; a test fails when
the contract and the file drift apart. Regenerate with: python -m audio_dwh.dbt.sources
"""

from __future__ import annotations

from pathlib import Path

import yaml

from audio_dwh.events.contract import TOPICS
from audio_dwh.events.raw_schema import LOAD_COLUMNS, RAW_SCHEMA, SQL_TYPES

SOURCES_FILE = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging" / "_raw_sources.yml"
HEADER = "# Generated from audio_dwh/events/contract.py by `python -m audio_dwh.dbt.sources`: do not edit.\n"


def render_sources() -> str:
    tables = []
    for topic in TOPICS.values():
        # No dbt tests here: the raw assets' own checks already test the contract on load.
        columns = [
            {"name": f.name, "data_type": SQL_TYPES[f.type], "description": f.documentation} for f in topic.fields
        ]
        columns += [{"name": name, "data_type": sql_type, "description": doc} for name, sql_type, doc in LOAD_COLUMNS]
        tables.append(
            {
                "name": topic.name,
                "description": topic.description,
                "meta": {"dagster": {"asset_key": ["raw", topic.name]}},
                "columns": columns,
            }
        )
    document = {
        "version": 2,
        "sources": [
            {
                "name": RAW_SCHEMA,
                "schema": RAW_SCHEMA,
                "description": "eventsim events as loaded by the raw-layer Dagster assets, one table per topic.",
                "tables": tables,
            }
        ],
    }
    return HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)


if __name__ == "__main__":
    SOURCES_FILE.write_text(render_sources(), encoding="utf-8")
    print(f"wrote {SOURCES_FILE}")
