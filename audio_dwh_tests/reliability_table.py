"""Render docs/reliability.md's table from the records the reliability tests wrote
(audio_dwh_tests/artifacts/reliability/*.json, one per test that held). `make reliability` runs the
tests, then this. A row whose test did not hold (or did not run) says so instead of a result.

    python -m audio_dwh_tests.reliability_table [--page docs/reliability.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from audio_dwh.doc_sections import fill_section
from audio_dwh_tests.conftest import RELIABILITY_RESULTS

SECTION = "reliability-table"
PAGE = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
# The tests the table reports on, in the order of the issue; a missing record is a test that failed.
EXPECTED = [
    "test_rerunning_a_day_three_times_changes_no_table",
    "test_ten_days_in_shuffled_order_give_the_vault_and_marts_of_loading_them_in_order",
    "test_a_killed_cli_run_blocks_no_later_run[raw]",
    "test_a_killed_cli_run_blocks_no_later_run[dbt]",
    "test_a_ui_launched_run_killed_and_the_ui_killed_under_a_run_block_no_later_run",
    "test_a_waiting_run_says_who_holds_the_pool_and_stops_cleanly_on_ctrl_c_and_sigterm",
    "test_seven_one_day_runs_launched_at_once_queue_on_the_pool_and_all_succeed",
    "test_hostile_files_through_dagster_every_bad_line_accounted_every_good_line_loaded",
    "test_values_outside_their_domain_are_rejected_and_every_day_still_builds",
    "test_the_property_runs_tried_what_they_claim",
    "test_the_sent_again_property_tried_what_it_claims",
    "test_a_day_sent_again_corrected_is_replaced_exactly_and_a_cut_file_fails_it",
    "test_the_loader_reads_only_what_a_producer_meant_to_land",
    "test_late_and_partial_days_are_loaded_by_the_landing_sensor_and_nothing_is_lost",
    "test_schema_drift_extra_field_reported_missing_optional_field_null",
    "test_injection_is_refused_before_sql_or_lands_as_data",
    "test_secrets_never_reach_logs_run_metadata_or_alerts",
]


def render(results: Path = RELIABILITY_RESULTS) -> str:
    rows = ["| what | tried | held | figures |", "|---|---|---|---|"]
    for name in EXPECTED:
        path = results / f"{name}.json"
        if not path.exists():
            rows.append(f"| `{name}` | | **did not hold, or did not run** | |")
            continue
        entry = json.loads(path.read_text())
        figures = ", ".join(f"{k.replace('_', ' ')}: {v:,}" for k, v in entry["figures"].items())
        rows.append(f"| {entry['what']} | {entry['tried']} | {entry['held']} | {figures} |")
    return "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--page", type=Path, default=PAGE, help="the page holding the table (default: %(default)s)")
    args = parser.parse_args()
    table = render()
    try:
        fill_section(args.page, SECTION, table)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 1
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
