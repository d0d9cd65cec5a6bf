"""dbt tests as Dagster asset checks: what each asserts, in a sentence the UI shows, and its failing rows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from audio_dwh.warehouse.reading import WarehouseReader, fetch_rows_with_header

FAILING_ROWS_SHOWN = 5
# The project's generic tests that judge only the rows of the run's days (tests/generic/).
RUN_DAYS_TESTS = frozenset(
    {"primary_key", "unique_combination", "not_null_in_run", "references_in_run", "holds_in_run"}
)


def _names(columns: list[str]) -> str:
    return ", ".join(f"`{c}`" for c in columns)


def _referenced(parent: str) -> str:
    """The model a parent reference names: "ref('hub_user')" gives hub_user."""
    found = re.fullmatch(r"\s*ref\(\s*['\"]([^'\"]+)['\"]\s*\)\s*", parent)
    return found.group(1) if found else parent


def describe_test(test: Mapping[str, Any]) -> str:
    """The test's own description (YAML `description`, or meta), else what its generic test asserts."""
    own = test.get("description") or test.get("meta", {}).get("description")
    if own:
        return own
    metadata = test.get("test_metadata") or {}
    kwargs = metadata.get("kwargs", {})
    model = (test.get("attached_node") or "").rpartition(".")[2] or "the model"
    column = f"`{kwargs.get('column_name')}`"
    in_run = f"judged on the rows whose `{kwargs.get('day_column', 'load_date')}` is one of the run's days"
    sentences = {
        "primary_key": lambda: (
            f"{column} is the primary key of {model}: never NULL, never repeated in the table ({in_run})."
        ),
        "unique_combination": lambda: (
            f"Each combination of {_names(kwargs['columns'])} occurs once in {model} "
            f"({in_run}, against the whole table)."
        ),
        "not_null_in_run": lambda: f"None of {_names(kwargs['columns'])} is NULL in {model} ({in_run}).",
        "references_in_run": lambda: (
            f"Every key of {model} names a row of its parent: "
            + ", ".join(f"`{c}` in {_referenced(parent)}" for c, parent in kwargs["parents"].items())
            + (
                f"; the ghost key is allowed in {_names(kwargs['ghost_allowed'])}"
                if kwargs.get("ghost_allowed")
                else ""
            )
            + f" ({in_run})."
        ),
        "holds_in_run": lambda: f"Every row of {model} satisfies `{kwargs['condition']}` ({in_run}).",
        "not_null": lambda: f"{column} is never NULL in {model}.",
        "unique": lambda: f"{column} is unique in {model}.",
        "accepted_values": lambda: f"{column} in {model} is one of: {', '.join(map(str, kwargs['values']))}.",
        "relationships": lambda: f"Every {column} of {model} is found in {kwargs['to']}.{kwargs['field']}.",
    }
    name = metadata.get("name")
    if name in sentences:
        return sentences[name]()
    # Any other generic test: what it is called with, its arguments (the model reference aside).
    arguments = ", ".join(f"{key}={value!r}" for key, value in kwargs.items() if key != "model")
    return f"{model} passes the dbt test `{name or test['name']}`" + (f" with {arguments}." if arguments else ".")


def judges_run_days(test: Mapping[str, Any]) -> bool:
    """Whether the test judges only the rows of the run's days (else its whole table)."""
    return (test.get("test_metadata") or {}).get("name") in RUN_DAYS_TESTS


def failing_rows(reader: WarehouseReader, compiled_sql: str) -> str:
    """The first failing rows of a test (its compiled query selects them), as a markdown table."""
    header, rows = fetch_rows_with_header(
        reader, f"SELECT * FROM ({compiled_sql}) AS failing LIMIT {FAILING_ROWS_SHOWN}"
    )
    if not rows:
        return "none"
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows])
