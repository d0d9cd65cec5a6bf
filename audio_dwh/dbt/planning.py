"""Which of a run's dbt models have work to do, so that dbt runs only those (and none at all on a
day that brought nothing).

Every model's stored rows are a function of its inputs' rows; a run's window only says which part
it recomputes. So a model whose inputs hold no rows of the run's days, and which holds none itself
(nothing to add, nothing to delete), would be rebuilt exactly as it is: it is left alone. What has
work, `changed`, starts from the sources and the incremental models holding rows of the window, and
from the models not in the warehouse yet; everything downstream of those changes with them.

Two kinds of model are built beside what changed, though their result is the same:
- every model of a test attached to a model that changed, so that dbt runs the test (it leaves out
  a test as soon as one of its models is excluded);
- the tables and views a built model reads through: staging tables hold only the last run's days,
  so they are rebuilt for this window before anything reads them.

docs/orchestration.md spells out the semantics for the UI, crashes and order independence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from graphlib import TopologicalSorter
from typing import Any

from audio_dwh.warehouse.reading import WarehouseReader, columns_of, fetch_rows, table_ref
from audio_dwh.warehouse.sql import sql_string

# The raw tables' day: each event's UTC day, the partition it was loaded for.
SOURCE_DAY_COLUMN = "partition_date"


@dataclass(frozen=True)
class BuildPlan:
    """Of a run's selected models: those dbt builds, and those left as they are (with their tests)."""

    build: frozenset[str]
    unchanged: frozenset[str]

    def runs_test(self, test: Mapping[str, Any]) -> bool:
        """Whether dbt runs the test: none of its models is left out."""
        return not any(parent in self.unchanged for parent in test["depends_on"]["nodes"])


def _day_column(node: Mapping[str, Any]) -> str:
    return node["config"].get("meta", {}).get("day_column", "load_date")


def _reachable(start: Iterable[str], edges: Mapping[str, list[str]], through: set[str] | None = None) -> set[str]:
    """Every node reached from `start` along `edges`, continuing only through `through` when given."""
    found: set[str] = set()
    pending = list(start)
    while pending:
        for nxt in edges.get(pending.pop(), []):
            if nxt not in found:
                found.add(nxt)
                if through is None or nxt in through:
                    pending.append(nxt)
    return found


def _holding_window_rows(reader: WarehouseReader, probes: Mapping[str, tuple[str, str, str]], days: Mapping[str, str]):
    """The probes (unique id -> schema, table, day column) holding a row of the run's days, in one query."""
    if not probes:
        return set()
    window = f"BETWEEN DATE {sql_string(days['min_date'])} AND DATE {sql_string(days['max_date'])}"
    parts = [
        f"SELECT {sql_string(unique_id)} AS node, count(*) AS hits FROM "
        f"(SELECT 1 AS hit FROM {table_ref(reader, schema, table)} WHERE {day_column} {window} LIMIT 1) AS probe"
        for unique_id, (schema, table, day_column) in probes.items()
    ]
    return {node for node, hits in fetch_rows(reader, "\nUNION ALL\n".join(parts)) if hits}


def plan_build(
    manifest: Mapping[str, Any], selected: set[str], reader: WarehouseReader, days: Mapping[str, str]
) -> BuildPlan:
    """The selected models (unique ids) dbt must build for the run's days, judged from the warehouse
    as it is before the run's dbt step."""
    nodes, sources = manifest["nodes"], manifest["sources"]
    models = {uid for uid, node in nodes.items() if node["resource_type"] == "model"}
    ephemeral = {uid for uid in models if nodes[uid]["config"]["materialized"] == "ephemeral"}
    stored = models - ephemeral
    incremental = {uid for uid in stored if nodes[uid]["config"]["materialized"] == "incremental"}
    existing = columns_of(reader, [(nodes[uid]["schema"], nodes[uid]["alias"]) for uid in stored])
    missing = {uid for uid in stored if (nodes[uid]["schema"], nodes[uid]["alias"]) not in existing}

    probes = {uid: (s["schema"], s["identifier"], SOURCE_DAY_COLUMN) for uid, s in sources.items()}
    probes |= {
        uid: (nodes[uid]["schema"], nodes[uid]["alias"], _day_column(nodes[uid])) for uid in incremental - missing
    }
    seeds = _holding_window_rows(reader, probes, days) | missing
    changed = (seeds | _reachable(seeds, manifest["child_map"])) & stored

    # A test judges the rows of the model it is attached to; when that model changed, the test's
    # other models are built too (as they are), so that dbt runs it.
    partners = {
        parent
        for node in nodes.values()
        if node["resource_type"] == "test" and node.get("attached_node") in changed
        for parent in node["depends_on"]["nodes"]
        if parent in stored
    }
    build = changed | partners
    rebuilt = stored - incremental
    build |= _reachable(build, manifest["parent_map"], through=ephemeral | rebuilt) & rebuilt
    return BuildPlan(build=frozenset(build & selected), unchanged=frozenset(selected - build))


def topological_order(manifest: Mapping[str, Any]) -> dict[str, int]:
    """Each node's place in an order where every node comes after its parents (Dagster takes a
    step's materializations only in such an order)."""
    order = TopologicalSorter(manifest["parent_map"]).static_order()
    return {unique_id: place for place, unique_id in enumerate(order)}
