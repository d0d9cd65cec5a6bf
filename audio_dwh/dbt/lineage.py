"""Column-level lineage of the dbt models (dagster/column_lineage), derived with sqlglot from the SQL
dbt compiled and the columns the warehouse holds, as dagster-dbt's own lineage does.

dagster-dbt derives it only for the models a run builds, from a post-hook of its own on every model.
Here it is derived from what the run already has (the compiled SQL in run_results, the tables'
columns) and kept per model in the project's target folder, keyed by that SQL (its dates masked)
and those columns: a new day re-derives nothing, and a model the run leaves as it was keeps
the lineage of its last build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg

Columns = Mapping[tuple[str, str], list[tuple[str, str]]]  # (schema, table) -> [(column, type)]
KeyOf = Callable[[str], dg.AssetKey]  # a dbt node's asset key
KEPT = "column_lineage.json"
DATE_LITERAL = re.compile(r"'\d{4}-\d\d-\d\d'")


def relation(node: Mapping[str, Any]) -> tuple[str, str]:
    """(schema, table): where a model or a source is in the warehouse."""
    return node["schema"], node.get("identifier") or node["alias"]


def _node(manifest: Mapping[str, Any], unique_id: str) -> Mapping[str, Any]:
    return (manifest["sources"] if unique_id.startswith("source.") else manifest["nodes"])[unique_id]


def table_parents(manifest: Mapping[str, Any], unique_id: str) -> Iterator[str]:
    """The tables a model reads: its parents, an ephemeral parent (a CTE in the compiled SQL) by its own."""
    for parent in _node(manifest, unique_id)["depends_on"]["nodes"]:
        if _node(manifest, parent).get("config", {}).get("materialized") == "ephemeral":
            yield from table_parents(manifest, parent)
        else:
            yield parent


def tables_read(manifest: Mapping[str, Any], unique_ids: list[str]) -> list[tuple[str, str]]:
    """The models' own tables and every table they read."""
    ids = {p for uid in unique_ids for p in (uid, *table_parents(manifest, uid))}
    return sorted({relation(_node(manifest, uid)) for uid in ids})


def derive(
    manifest: Mapping[str, Any],
    unique_id: str,
    compiled_sql: str,
    columns: Columns,
    key_of: KeyOf,
) -> dict[str, list[tuple[list[str], str]]]:
    """Each column of the model and the (asset key path, column) of its parents it is computed from
    (an aggregate such as count(*) reads no column: none)."""
    from sqlglot import exp, parse_one
    from sqlglot.lineage import lineage
    from sqlglot.optimizer import optimize
    from sqlglot.schema import MappingSchema

    dialect = manifest["metadata"]["adapter_type"]
    schema = MappingSchema(dialect=dialect)
    parents: dict[tuple[str, str], str] = {}
    for parent in [*table_parents(manifest, unique_id), unique_id]:  # itself: an incremental model reads itself
        node = _node(manifest, parent)
        schema_name, table = relation(node)
        name = exp.Table(this=exp.to_identifier(table), db=exp.to_identifier(schema_name),
                         catalog=exp.to_identifier(node["database"]))  # fmt: skip
        schema.add_table(name, dict(columns.get((schema_name, table), [])), dialect=dialect)
        if parent != unique_id:
            parents[(schema_name.lower(), table.lower())] = parent
    query = optimize(parse_one(compiled_sql, dialect=dialect), schema=schema, dialect=dialect)
    optimized = query.sql(dialect=dialect)  # lineage() re-parses it (sqlglot >= 28 needs the text)
    deps: dict[str, list[tuple[list[str], str]]] = {}
    for column in query.named_selects:
        found = set()
        for step in lineage(column, optimized, schema=schema, dialect=dialect).walk():
            table = step.expression.find(exp.Table) if not step.downstream else None
            parent = parents.get((table.db.lower(), table.name.lower())) if table else None
            if parent:
                found.add((tuple(key_of(parent).path), exp.to_column(step.name).name.lower()))
        deps[column.lower()] = [(list(path), name) for path, name in sorted(found)]
    return deps


def as_metadata(deps: Mapping[str, list[tuple[list[str], str]]]) -> dg.TableColumnLineage:
    return dg.TableColumnLineage(
        deps_by_column={
            column: [dg.TableColumnDep(asset_key=dg.AssetKey(path), column_name=name) for path, name in found]
            for column, found in deps.items()
        }
    )


def as_markdown(lineage: dg.TableColumnLineage) -> dg.MetadataValue:
    """The lineage as a table a person reads in Dagster's open-source UI, which shows
    dagster/column_lineage as JSON only (its column lineage graph is a Dagster+ feature)."""
    lines = ["| column | computed from |", "|---|---|"]
    for column, deps in lineage.deps_by_column.items():
        sources = ", ".join(f"`{d.asset_key.to_user_string()}.{d.column_name}`" for d in deps)
        lines.append(f"| `{column}` | {sources or 'no column (a count, or a constant)'} |")
    return dg.MetadataValue.md("\n".join(lines))


class LineageStore:
    """The lineage derived so far, per model, in target/column_lineage.json (shared by every home:
    its keys hold everything a lineage depends on)."""

    def __init__(self, folder: Path):
        self.path = folder / KEPT
        try:
            self.kept: dict[str, Any] = json.loads(self.path.read_text())
        except (OSError, ValueError):  # none yet, or unreadable: derived again
            self.kept = {}
        self.changed = False

    @staticmethod
    def key(compiled_sql: str, columns: list[Any]) -> str:
        # The run's days (and days counted from them) are the only literals that change with the day.
        text = DATE_LITERAL.sub("<day>", compiled_sql)
        return hashlib.sha256(json.dumps([text, columns]).encode()).hexdigest()

    def lineage(
        self,
        manifest: Mapping[str, Any],
        unique_id: str,
        compiled_sql: str | None,
        columns: Columns,
        key_of: KeyOf,
    ) -> dg.TableColumnLineage | None:
        """The model's lineage: derived from this run's SQL unless kept for the same SQL and columns;
        for a model not built this run, as kept from its last build (None if never derived)."""
        entry = self.kept.get(unique_id)
        if compiled_sql is None:
            return as_metadata(entry["deps"]) if entry and entry["deps"] is not None else None
        tables = [relation(_node(manifest, p)) for p in [*table_parents(manifest, unique_id), unique_id]]
        key = self.key(compiled_sql, [[list(t), columns.get(t, [])] for t in tables])
        if entry is None or entry["key"] != key:
            from sqlglot.errors import SqlglotError

            try:
                entry = {"key": key, "deps": derive(manifest, unique_id, compiled_sql, columns, key_of)}
            except SqlglotError as error:  # SQL sqlglot cannot follow: no lineage, never a failed run
                entry = {"key": key, "deps": None, "error": str(error)[:300]}
            self.kept[unique_id] = entry
            self.changed = True
        return as_metadata(entry["deps"]) if entry["deps"] is not None else None

    def save(self) -> None:
        """Write what was derived, atomically: a run reading it meanwhile sees the old file or the new."""
        if not self.changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{KEPT}.{uuid.uuid4().hex[:8]}")
        partial.write_text(json.dumps(self.kept, sort_keys=True))
        os.replace(partial, self.path)
