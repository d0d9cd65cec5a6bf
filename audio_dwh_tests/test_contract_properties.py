"""The event contract's invariants, proven on generated lines (Hypothesis, strategies derived from the
contract): every line is exactly one raw row or one rejected line, with the reason its first broken
rule gives; and every line the loader admits builds through staging, vault and marts in a real
`dbt build`.

A failing example replays: Hypothesis keeps it in audio_dwh_tests/artifacts/hypothesis/ and prints
the @reproduce_failure blob. AUDIO_DWH_PROPERTY_SCALE multiplies both properties' example counts.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from audio_dwh.events.contract import TOPICS, Topic
from audio_dwh.events.landing import day_folder, scan_day
from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, write_day
from audio_dwh.raw.duckdb_loader import load_day
from audio_dwh.warehouse.sql import quote
from audio_dwh_tests.conftest import DAY
from audio_dwh_tests.contract_strategies import Landed, Line, all_topics, day_files, sent_again
from audio_dwh_tests.dbt_helpers import assert_same_as_final, run_dbt, warehouse_tables

pytestmark = pytest.mark.slow

SCALE = float(os.environ.get("AUDIO_DWH_PROPERTY_SCALE", "1"))
PROPERTIES = settings(
    database=DirectoryBasedExampleDatabase(Path(__file__).parent / "artifacts" / "hypothesis"),
    print_blob=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
LOADER_EXAMPLES = int(300 * SCALE)
BUILD_EXAMPLES = int(8 * SCALE)
RESENT_EXAMPLES = int(6 * SCALE)


def _land(landing: Path, topic: str, day: date, files: list[tuple[str, bytes, list[Line]]]) -> None:
    folder = day_folder(landing, topic, day)
    folder.mkdir(parents=True)
    for name, data, _ in files:
        (folder / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)


def _expected(topic: str, day: date, files: list[tuple[str, bytes, list[Line]]]) -> dict[tuple, tuple]:
    """(source_file, line number) -> (reason prefix or None, the line), repeated identities judged as
    the loader must: lines of one identity with the same values load once, from the first by file name
    and line number (the others "duplicate event"); with other values all are "conflicting event"."""
    expected, by_key = {}, {}
    for name, _, lines in sorted(files):
        for number, line in enumerate(lines, start=1):
            where = (f"{topic}/date={day.isoformat()}/{name}", number)
            expected[where] = (line.reason, line)
            if line.reason is None:
                by_key.setdefault(line.key, []).append(where)
    for places in by_key.values():
        values = [expected[where][1].values for where in places]
        for i, where in enumerate(places):
            if any(v != values[0] for v in values):
                expected[where] = ("conflicting event", expected[where][1])
            elif i:
                expected[where] = ("duplicate event", expected[where][1])
    return expected


def _check_loaded(con: duckdb.DuckDBPyConnection, topic: Topic, day: date, expected: dict[tuple, tuple]) -> int:
    """Every line is exactly one raw row (holding the generated values) or one rejected line (with
    the predicted reason). Returns the admitted lines."""
    columns = ", ".join(quote(n) for n in topic.field_names)
    raw = {
        (row[0], row[1]): row[2:]
        for row in con.execute(
            f"SELECT source_file, source_line, {columns} FROM raw.{quote(topic.name)} WHERE partition_date = ?", [day]
        ).fetchall()
    }
    rejected = dict(
        ((f, n), reason)
        for f, n, reason in con.execute(
            "SELECT source_file, line_number, reason FROM raw.rejected_events WHERE topic = ? AND partition_date = ?",
            [topic.name, day],
        ).fetchall()
    )
    assert not raw.keys() & rejected.keys(), "a line both loaded and rejected"
    assert raw.keys() | rejected.keys() == expected.keys(), "lines lost or invented"
    for where, (reason, line) in expected.items():
        if reason is None:
            assert where in raw, (where, rejected.get(where), line.data[:300])
            assert raw[where] == tuple(line.values[n] for n in topic.field_names), (where, line.data[:300])
        else:
            assert where in rejected, (where, reason, line.data[:300])
            assert rejected[where].startswith(reason), (where, rejected[where], reason, line.data[:300])
    return len(raw)


def _load(warehouse: Path, landing: Path, day: date, landed: Landed) -> dict[str, int]:
    for topic, files in landed.items():
        _land(landing, topic, day, files)
    con = duckdb.connect(str(warehouse))
    try:
        admitted = {}
        for name, files in landed.items():
            topic = TOPICS[name]
            load_day(con, topic, day, scan_day(landing, name, day), landing, reject_threshold=1.0)
            admitted[name] = _check_loaded(con, topic, day, _expected(name, day, files))
        return admitted
    finally:
        con.close()


one_topic = st.sampled_from(sorted(TOPICS)).flatmap(lambda t: day_files(TOPICS[t], DAY).map(lambda f: (t, f)))


STATS = {"loads": 0, "loaded_lines": 0, "builds": 0, "lines": 0, "admitted": 0, "resent": 0, "resent_lines": 0,
         "collisions": 0, "proven": set()}  # fmt: skip


@settings(PROPERTIES, max_examples=LOADER_EXAMPLES)
@given(landed=one_topic)
def every_line_is_one_raw_row_or_one_rejected_line(landed):
    topic, files = landed
    with tempfile.TemporaryDirectory() as tmp:
        _load(Path(tmp) / "warehouse.duckdb", Path(tmp) / "landing", DAY, {topic: files})
    STATS["loads"] += 1
    STATS["loaded_lines"] += sum(len(lines) for _, _, lines in files)


@pytest.fixture(scope="module")
def built_day_before(tmp_path_factory) -> Path:
    """A warehouse holding the day before DAY, built: the generated day then loads incrementally,
    as a daily run does, onto real history."""
    tmp = tmp_path_factory.mktemp("history")
    before = DAY - timedelta(days=1)
    write_day(DaySimulator(SimulatorConfig(seed=5, users=150)), before, tmp / "landing")
    warehouse = tmp / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    for name, topic in TOPICS.items():
        load_day(con, topic, before, scan_day(tmp / "landing", name, before), tmp / "landing", 0.0)
    con.close()
    run_dbt(["build", "--vars", json.dumps({"min_date": str(before), "max_date": str(before)})], warehouse, tmp)
    return warehouse


def test_every_line_is_one_raw_row_or_one_rejected_line_with_the_reason_of_its_first_broken_rule():
    every_line_is_one_raw_row_or_one_rejected_line()  # every example; raises on the first that fails
    STATS["proven"].add("loader")


def _build(warehouse: Path, work: Path) -> None:
    """A real `dbt build` of DAY, as a daily run makes it: every model and test passes."""
    run_dbt(["build"], warehouse, work, env={"AUDIO_DWH_MIN_DATE": str(DAY), "AUDIO_DWH_MAX_DATE": str(DAY)})
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    broken = [(r["unique_id"], r["status"], (r.get("message") or "")[:500]) for r in results
              if r["status"] not in ("success", "pass")]  # fmt: skip
    assert not broken, broken


@settings(PROPERTIES, max_examples=BUILD_EXAMPLES)
@given(landed=all_topics(DAY, min_lines=10, max_lines=60))
def every_admitted_line_builds(built_day_before: Path, tmp_path_factory, landed):
    work = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    warehouse = work / "warehouse.duckdb"
    shutil.copy(built_day_before, warehouse)
    admitted = _load(warehouse, work / "landing", DAY, landed)
    _build(warehouse, work)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for name in TOPICS:
            staged = con.execute(f"SELECT count(*) FROM staging.stg_{name} WHERE load_date = ?", [DAY]).fetchall()
            assert staged == [(admitted[name],)], name
        listens = [r for r, _ in _expected("listen_events", DAY, landed["listen_events"]).values() if r is None]
        plays = con.execute("SELECT count(*) FROM marts.mart_song_play WHERE play_start_date = ?", [DAY]).fetchall()
        assert plays == [(len(listens),)]  # every admitted listen one play
    finally:
        con.close()
    shutil.rmtree(work)
    STATS["builds"] += 1
    STATS["lines"] += sum(len(lines) for files in landed.values() for _, _, lines in files)
    STATS["admitted"] += sum(admitted.values())


def test_every_admitted_line_builds_through_staging_vault_and_marts(built_day_before, tmp_path_factory):
    every_admitted_line_builds(built_day_before, tmp_path_factory)
    STATS["proven"].add("build")


@settings(PROPERTIES, max_examples=RESENT_EXAMPLES)
@given(days=sent_again(DAY, min_lines=5, max_lines=30))
def a_day_sent_again_equals_its_final_files(built_day_before: Path, tmp_path_factory, days):
    first, final = days
    work = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    homes = {}
    for name, sendings in (("sent_again", [first, final]), ("final_only", [final])):
        warehouse = work / name / "warehouse.duckdb"  # the name dbt's kept parse was made for
        warehouse.parent.mkdir()
        shutil.copy(built_day_before, warehouse)
        for i, landed in enumerate(sendings):
            landing = work / f"{name}-landing-{i}"  # each sending replaces the day's files
            _load(warehouse, landing, DAY, landed)
            _build(warehouse, work / f"{name}-{i}")
        homes[name] = warehouse_tables(warehouse, with_raw=True, first_seen=False)
    assert_same_as_final(homes["final_only"], homes["sent_again"])
    shutil.rmtree(work)
    STATS["resent"] += 1
    STATS["resent_lines"] += sum(len(lines) for sent in (first, final) for f in sent.values() for _, _, lines in f)
    STATS["collisions"] += sum(
        reason in ("duplicate event", "conflicting event")
        for name, files in final.items()
        for reason, _ in _expected(name, DAY, files).values()
    )


def test_a_day_sent_again_with_edits_additions_removals_and_collisions_equals_its_final_files(
    built_day_before, tmp_path_factory
):
    a_day_sent_again_equals_its_final_files(built_day_before, tmp_path_factory)
    STATS["proven"].add("resent")


def test_the_property_runs_tried_what_they_claim(reliability):
    """After the two properties (file order): what they tried, for the Reliability table; only when
    both held in this process."""
    if not {"loader", "build"} <= STATS["proven"]:
        pytest.skip("the properties did not both run and hold in this process")
    reliability(
        what="Property-based run",
        tried=f"{STATS['loads']} generated landing days of one topic through the real loader, and "
        f"{STATS['builds']} of all four topics through the loader and a real dbt build; values at and beyond every "
        "domain edge from the contract (0, negatives, NaN/Infinity literals, 1e308, 1e400, the largest BIGINT and "
        "past it, the ends of the timestamp range, empty, blank and 10,000-character strings, any Unicode), whole "
        "lines broken, CRLF and mixed line endings, gzip",
        held="every line exactly one raw row (with its values) or one rejected line (with the reason of its first "
        "broken rule); every build passed, staging holding every admitted line and mart_song_play every play",
        examples_tried=STATS["loads"] + STATS["builds"],
        lines_through_the_loader=STATS["loaded_lines"],
        lines_through_dbt=STATS["lines"],
        admitted_lines_built=STATS["admitted"],
        failures=0,
    )


def test_the_sent_again_property_tried_what_it_claims(reliability):
    """After the property of days sent again (file order): what it tried, for the Reliability table."""
    if "resent" not in STATS["proven"]:
        pytest.skip("the property of days sent again did not run and hold in this process")
    reliability(
        what="Days sent again (property-based)",
        tried=f"{STATS['resent']} generated days of all four topics loaded and built, then sent again with lines "
        "dropped, corrected (a field other than the identity given another value of its domain) and added, and "
        "lines repeated with their identity, with the same values or others, loaded and built again; beside them "
        "a home that only ever saw the final files",
        held="both homes equal: every raw table, every vault table of events or their states, the business vault "
        "and every mart; hubs and links of shared entities hold the final home's rows and what they saw before; "
        "repeated identities loaded once (same values) or rejected on every line (a conflict), as predicted",
        days_sent_again=STATS["resent"],
        days_replaced_exactly=STATS["resent"],
        lines_generated=STATS["resent_lines"],
        repeated_identities_judged=STATS["collisions"],
        rows_lost=0,
    )
