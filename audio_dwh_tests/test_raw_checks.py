"""Each raw check passes on good data and fails on the defect it is there to catch (real DuckDB)."""

from datetime import date, timedelta

import dagster as dg

from audio_dwh.events.contract import TOPICS
from audio_dwh.quality.raw_checks import (
    check_contract,
    check_event_id_unique,
    check_rejected_share,
    check_required_not_null,
    check_volume,
)
from audio_dwh.raw.duckdb_loader import ensure_raw_tables

TOPIC = TOPICS["auth_events"]
DAY = date(2026, 11, 10)


def _insert(con, day: date, n: int, *, event_id: str | None = "id", level: str | None = "free") -> None:
    con.execute(
        """INSERT INTO raw.auth_events ("ts", "sessionId", level, "itemInSession", success, event_id, partition_date)
           SELECT 1, i, ?, 0, true, CASE WHEN ? IS NULL THEN NULL ELSE ? || '-' || ? || '-' || i END, ?
           FROM range(?) t(i)""",
        [level, event_id, event_id, str(day), day, n],
    )


def test_volume_warns_when_a_day_strays_from_the_trailing_median(warehouse):
    ensure_raw_tables(warehouse, [TOPIC])
    for k, n in ((1, 100), (2, 90), (3, 110)):
        _insert(warehouse, DAY - timedelta(days=k), n)
    _insert(warehouse, DAY, 140)
    ok = check_volume(warehouse, TOPIC, DAY, 0.01)
    assert ok.passed and ok.severity == dg.AssetCheckSeverity.WARN and ok.metadata["trailing_median"].value == 100
    _insert(warehouse, DAY, 20)  # 160 rows: +60%
    high = check_volume(warehouse, TOPIC, DAY, 0.01)
    assert not high.passed and high.severity == dg.AssetCheckSeverity.WARN
    assert not check_volume(warehouse, TOPIC, DAY + timedelta(days=1), 0.01).passed  # an empty day


def test_volume_does_not_judge_without_enough_history(warehouse):
    ensure_raw_tables(warehouse, [TOPIC])
    _insert(warehouse, DAY - timedelta(days=1), 100)
    _insert(warehouse, DAY, 1000)
    assert check_volume(warehouse, TOPIC, DAY, 0.01).passed


def test_keys_nulls_contract_and_rejects_are_caught(warehouse):
    ensure_raw_tables(warehouse, [TOPIC])
    _insert(warehouse, DAY, 10)
    for check in (check_contract, check_event_id_unique, check_required_not_null, check_rejected_share):
        assert check(warehouse, TOPIC, DAY, 0.01).passed, check.__name__
    _insert(warehouse, DAY, 2)  # the same ids again
    assert not check_event_id_unique(warehouse, TOPIC, DAY, 0.01).passed
    _insert(warehouse, DAY, 1, event_id="other", level=None)
    failed = check_required_not_null(warehouse, TOPIC, DAY, 0.01)
    assert not failed.passed and failed.metadata["null_counts"].value == "level: 1"
    warehouse.execute(
        "INSERT INTO raw.rejected_events (topic, partition_date, reason) SELECT 'auth_events', ?, 'x' FROM range(5)",
        [DAY],
    )
    assert not check_rejected_share(warehouse, TOPIC, DAY, 0.01).passed
    assert check_rejected_share(warehouse, TOPIC, DAY, 0.5).passed
    warehouse.execute('ALTER TABLE raw.auth_events ALTER COLUMN "itemInSession" TYPE BIGINT')
    broken = check_contract(warehouse, TOPIC, DAY, 0.01)
    assert not broken.passed and "itemInSession" in broken.metadata["differences"].value
