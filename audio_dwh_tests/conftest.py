from __future__ import annotations

import json
import os
import socket
from datetime import date
from pathlib import Path

import duckdb
import pytest

from audio_dwh.definitions import build_definitions, build_layers
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig
from audio_dwh.settings import Settings

DAY = date(2026, 11, 2)  # a Monday
USERS = 600


@pytest.fixture(scope="session")
def simulator() -> DaySimulator:
    return DaySimulator(SimulatorConfig(seed=7, users=USERS))


@pytest.fixture(scope="session")
def day_events(simulator: DaySimulator) -> dict[str, list[dict]]:
    """One simulated day, parsed."""
    return {topic: [json.loads(line) for line in lines] for topic, lines in simulator.simulate(DAY).items()}


def make_settings(home: Path) -> Settings:
    """Settings for a warehouse, landing folder and reports under `home`."""
    return Settings(
        home=home,
        landing=home / "landing",
        start_date=date(2026, 11, 1),
        source="simulator",
        users=1000,
        seed=11,
        reject_threshold=0.01,
    )


# The code location the tests' settings make. Its assets depend on the first day, the freshness
# deadline and the target, not on the home, so one build serves every test's warehouse.
LAYERS = build_layers(make_settings(Path("data")))
DEFS = build_definitions(make_settings(Path("data")))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def warehouse(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield con
    con.close()


def require(path: Path, message: str) -> Path:
    """A prerequisite the suite's own files install (reference data, emulators, a server): CI must
    have it, so there its absence fails; elsewhere it skips the test instead."""
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LOAD_TIME_COLUMNS = frozenset({"loaded_at", "rejected_at"})


def comparable_columns(
    con: duckdb.DuckDBPyConnection,
    schemas: tuple[str, ...],
    skip: frozenset[str] = LOAD_TIME_COLUMNS,
    views: bool = True,
) -> dict[str, list[str]]:
    """'schema.table' -> its columns in order, without the ones that differ by when a load ran: what
    two warehouses that hold the same data agree on (views too, unless views=False)."""
    rows = con.execute(
        """SELECT c.table_schema || '.' || c.table_name, list(c.column_name ORDER BY c.ordinal_position)
           FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
           WHERE c.table_schema IN ? AND (? OR t.table_type = 'BASE TABLE') GROUP BY 1 ORDER BY 1""",
        [list(schemas), views],
    ).fetchall()
    return {name: [c for c in columns if c not in skip] for name, columns in rows}


RELIABILITY_RESULTS = Path(__file__).parent / "artifacts" / "reliability"


def pytest_sessionstart(session: pytest.Session) -> None:
    """This run's reliability records only: docs/reliability.md's table must not show an older run's. Cleared
    once, by the controlling process (pytest-xdist workers share the folder)."""
    if not hasattr(session.config, "workerinput"):
        for stale in RELIABILITY_RESULTS.glob("*.json"):
            stale.unlink()


@pytest.fixture
def reliability(request: pytest.FixtureRequest):
    """record(what=..., tried=..., held=..., **figures): called after a test's assertions, so a record
    exists only for what held. `make reliability` renders them into docs/reliability.md's table."""

    def record(what: str, tried: str, held: str, **figures: int) -> None:
        entry = {"test": request.node.nodeid, "what": what, "tried": tried, "held": held, "figures": figures}
        name = request.node.name.replace("/", "_")
        RELIABILITY_RESULTS.mkdir(parents=True, exist_ok=True)
        (RELIABILITY_RESULTS / f"{name}.json").write_text(json.dumps(entry, indent=2))

    return record


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules of minutes first, each kept whole and in its own order. `make test` hands whole
    modules to two workers in collection order (--dist loadfile --no-loadscope-reorder): a long
    module collected last would run alone at the end while the other worker idles."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)
