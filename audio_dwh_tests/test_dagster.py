"""The code location: definitions load, and raw partitions materialize through Dagster for real."""

import tomllib
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from audio_dwh.counts import ROWS_OF_RUN_DAYS, TABLE_ROWS
from audio_dwh.definitions import DAILY_JOB
from audio_dwh.events.contract import TOPICS
from audio_dwh.events.landing import day_folder
from audio_dwh.partitions import range_tags
from audio_dwh.resources import build_resources
from audio_dwh_tests.conftest import DEFS, LAYERS

ROOT = Path(__file__).resolve().parents[1]
RAW_KEYS = {dg.AssetKey(["raw", t]) for t in TOPICS}
CHECK_NAMES = {
    "contract", "required_fields_not_null", "event_id_unique", "rejected_share", "new_categorical_values", "volume"
}  # fmt: skip


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(DEFS)
    graph = DEFS.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    assert RAW_KEYS | {dg.AssetKey(["landing", "eventsim_events"])} <= keys
    for key in RAW_KEYS:
        node = graph.get(key)
        assert node.group_name == "raw"
        assert node.partitions_def == LAYERS.partitions
        assert node.parent_keys == {dg.AssetKey(["landing", "eventsim_events"])}
        assert {k.name for k in node.check_keys} == CHECK_NAMES | {"freshness_check"}
        assert node.description and node.kinds >= {"duckdb", "python"}
    assert DEFS.resolve_job_def(DAILY_JOB)


def test_dbt_models_continue_the_lineage_from_raw_through_staging_to_vault():
    graph = DEFS.resolve_asset_graph()
    stg = graph.get(dg.AssetKey(["staging", "stg_listen_events"]))
    assert dg.AssetKey(["raw", "listen_events"]) in stg.parent_keys
    assert stg.group_name == "staging" and stg.partitions_def == LAYERS.partitions
    hub_user = graph.get(dg.AssetKey(["vault", "hub_user"]))
    assert hub_user.group_name == "vault" and hub_user.partitions_def == LAYERS.partitions
    assert {dg.AssetKey(["staging", f"stg_{t}"]) for t in TOPICS} <= hub_user.parent_keys
    assert hub_user.description and "dbt" in hub_user.kinds and "duckdb" in hub_user.kinds
    checks = {k.name for k in hub_user.check_keys}
    assert "primary_key_hub_user_user_pk" in checks
    link_checks = {k.name for k in graph.get(dg.AssetKey(["vault", "link_user_plan"])).check_keys}
    assert {"references_in_run_link_user_plan", "not_null_in_run_link_user_plan_user_pk__plan_pk"} <= link_checks
    assert graph.get(dg.AssetKey(["vault", "hub_user"])).backfill_policy == dg.BackfillPolicy.single_run()


def test_project_files_name_the_same_code_location():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    module = pyproject["tool"]["dagster"]["module_name"]
    assert module == "audio_dwh.definitions"
    assert workspace["load_from"][0]["python_module"]["module_name"] == module
    assert "setup()" in (ROOT / "setup.py").read_text() and "name=" not in (ROOT / "setup.py").read_text()


def _materialize(settings, day: str, selection=None, raise_on_error=True):
    return dg.materialize(
        [LAYERS.landing, *LAYERS.raw],
        partition_key=day,
        resources=build_resources(settings),
        instance=dg.DagsterInstance.ephemeral(),
        selection=selection,
        raise_on_error=raise_on_error,
    )


def test_raw_partitions_materialize_into_the_warehouse(settings):
    for day in ("2026-11-02", "2026-11-03"):
        result = _materialize(settings, day)
        assert result.success
        evaluations = result.get_asset_check_evaluations()
        assert {(e.asset_key, e.check_name) for e in evaluations} == {(k, c) for k in RAW_KEYS for c in CHECK_NAMES}
        assert all(e.passed for e in evaluations if e.check_name != "volume")
        metadata = {e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()}
        rows = {key: figures[ROWS_OF_RUN_DAYS].value for key, figures in metadata.items()}
        con = duckdb.connect(str(settings.warehouse))
        for key in RAW_KEYS:
            counted, total = con.execute(
                f'SELECT count(*) FILTER (WHERE partition_date = ?), count(*) FROM raw."{key.path[1]}"', [day]
            ).fetchall()[0]
            assert (counted, total) == (rows[key], metadata[key][TABLE_ROWS].value)
        con.close()
        assert rows[dg.AssetKey(["raw", "listen_events"])] > 100
    con = duckdb.connect(str(settings.warehouse))
    days = con.execute("SELECT DISTINCT partition_date::VARCHAR FROM raw.page_view_events ORDER BY 1").fetchall()
    con.close()
    assert days == [("2026-11-02",), ("2026-11-03",)]


def test_materialization_metadata_describes_the_load(settings):
    result = _materialize(settings, "2026-11-02")
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.path == ["raw", "listen_events"]]
    metadata = event.materialization.metadata
    assert {TABLE_ROWS, ROWS_OF_RUN_DAYS, "rejected", "source_files", "first_event", "last_event",
            "dagster/column_schema", "preview", "top_reject_reasons", "unknown_fields"} <= set(metadata)  # fmt: skip
    assert "listen_events/date=2026-11-02" in metadata["source_files"].value
    assert metadata["first_event"].value.startswith("2026-11-02")
    columns = [c.name for c in metadata["dagster/column_schema"].schema.columns]
    assert columns[: len(TOPICS["listen_events"].fields)] == list(TOPICS["listen_events"].field_names)


def test_a_blocking_check_fails_the_run_when_the_table_breaks_its_contract(settings):
    assert _materialize(settings, "2026-11-02").success
    con = duckdb.connect(str(settings.warehouse))
    con.execute("ALTER TABLE raw.listen_events ADD COLUMN surprise VARCHAR")
    con.close()
    result = _materialize(settings, "2026-11-03", raise_on_error=False)
    assert not result.success
    failed = {
        (e.asset_key.path[1], e.check_name)
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    }
    assert failed == {("listen_events", "contract")}


def test_a_day_of_bad_files_fails_naming_the_file_and_keeps_the_old_rows(settings):
    assert _materialize(settings, "2026-11-02").success
    con = duckdb.connect(str(settings.warehouse))
    before = con.execute("SELECT count(*) FROM raw.auth_events").fetchall()
    con.close()
    bad = settings.landing / "auth_events" / "date=2026-11-02" / "broken.json"
    bad.write_text("not json\n" * 50)
    files_settings = type(settings)(**{**settings.__dict__, "source": "files"})
    result = _materialize(files_settings, "2026-11-02", selection=[dg.AssetKey(["raw", "auth_events"])],
                          raise_on_error=False)  # fmt: skip
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.cause.message if failure.step_failure_data.error.cause else ""
    message += failure.step_failure_data.error.message
    assert "auth_events/date=2026-11-02/broken.json (50 bad)" in message and "invalid JSON (50)" in message
    con = duckdb.connect(str(settings.warehouse))
    assert con.execute("SELECT count(*) FROM raw.auth_events").fetchall() == before
    con.close()


def test_files_source_loads_what_is_in_the_landing_folder_without_generating(settings):
    files_settings = type(settings)(**{**settings.__dict__, "source": "files"})
    result = _materialize(files_settings, "2026-11-02", raise_on_error=False)
    assert not result.success  # nothing landed at all: not an empty day
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.cause.message
    assert "Nothing landed for 2026-11-02" in message and "status_change_events/date=2026-11-02" in message
    assert not (settings.landing / "listen_events").exists()
    for topic in TOPICS:  # the producers' "nothing today": an empty folder per topic
        day_folder(settings.landing, topic, date(2026, 11, 2)).mkdir(parents=True)
    result = _materialize(files_settings, "2026-11-02")
    assert result.success
    assert all(
        e.materialization.metadata[ROWS_OF_RUN_DAYS].value == 0
        for e in result.get_asset_materialization_events()
        if e.asset_key in RAW_KEYS
    )


VAULT_TABLES = [
    "hub_user", "hub_plan", "hub_user_agent", "hub_session", "hub_song_play", "hub_song", "hub_artist",
    "hub_web_page", "hub_location_geo", "hub_location_zip", "hub_location_city", "hub_location_state",
    "link_user_plan", "link_user_agent_user", "link_song_play_context", "link_song_artist", "link_location_geo_zip",
    "link_location_zip_city", "link_location_city_state", "t_link_authorization", "t_link_web_clickstream",
    "sat_user_profile", "sat_user_plan", "sat_song_play_details", "sat_authorization_status", "sat_location_geo",
]  # fmt: skip


def test_three_days_through_dagster_fill_every_vault_table_and_pass_its_checks(settings):
    instance = dg.DagsterInstance.ephemeral()
    graph = DEFS.resolve_asset_graph()
    vault_nodes = [node for node in graph.asset_nodes if node.key.path[0] == "vault"]
    expected_vault_checks = {(key.asset_key, key.name) for node in vault_nodes for key in node.check_keys}
    assert expected_vault_checks  # which they are is the code location's snapshot (test_definitions.py)
    for day in ("2026-11-02", "2026-11-03", "2026-11-04"):
        result = dg.materialize(
            [LAYERS.landing, *LAYERS.raw, LAYERS.dbt],
            partition_key=day,
            resources=build_resources(settings),
            instance=instance,
        )
        assert result.success
        evaluations = result.get_asset_check_evaluations()
        failed = [(e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed]
        assert not [f for f in failed if f[1] != "volume"], failed
        vault_checks = {(e.asset_key, e.check_name) for e in evaluations if e.asset_key.path[0] == "vault"}
        assert vault_checks == expected_vault_checks
        rows = {
            e.asset_key.to_user_string(): e.materialization.metadata[ROWS_OF_RUN_DAYS].value
            for e in result.get_asset_materialization_events()
        }
        assert rows["staging/stg_listen_events"] == rows["raw/listen_events"] == rows["vault/hub_song_play"]
        _assert_the_catalog_describes_and_traces_every_column(result)
    con = duckdb.connect(str(settings.warehouse))
    counts = {t: con.execute(f"SELECT count(*), count(DISTINCT load_date) FROM vault.{t}").fetchall()[0]
              for t in VAULT_TABLES}  # fmt: skip
    plays = con.execute("SELECT count(*) FROM raw.listen_events").fetchall()[0][0]
    con.close()
    assert all(n > 0 for n, _ in counts.values()), counts
    assert counts["hub_song_play"] == (plays, 3) and counts["sat_song_play_details"][0] == plays


def _assert_the_catalog_describes_and_traces_every_column(result: dg.ExecuteInProcessResult) -> None:
    """Every dbt model's materialization (built, or left as it was) traces each of its columns to its
    parents' (dagster/column_lineage), and every mart column has its description."""
    metadata = {e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()}
    for key in (spec.key for spec in LAYERS.dbt.specs):
        columns = metadata[key]["dagster/column_schema"].schema.columns
        lineage = metadata[key]["dagster/column_lineage"].value.deps_by_column
        assert set(lineage) == {c.name for c in columns}, key
        if key.path[0] == "marts":
            assert [c.name for c in columns if not c.description] == [], key
    traced = {(d.asset_key.to_user_string(), d.column_name) for d in lineage_of(metadata, "marts/mart_daily_kpis")}
    assert ("marts/mart_song_play", "song_played_sec") in traced
    assert lineage_of(metadata, "staging/stg_listen_events", "song_name") == [
        dg.TableColumnDep(asset_key=dg.AssetKey(["raw", "listen_events"]), column_name="song")
    ]


def lineage_of(metadata: dict, asset: str, column: str = "listening_hours") -> list[dg.TableColumnDep]:
    return list(metadata[dg.AssetKey(asset.split("/"))]["dagster/column_lineage"].value.deps_by_column[column])


@pytest.mark.parametrize("key", ["2026-11-2", "2026-11-02'; DROP TABLE x; --"])
def test_malformed_partition_keys_are_refused(settings, key):
    with pytest.raises(Exception, match="YYYY-MM-DD|partition"):
        _materialize(settings, key)


def test_a_range_run_loads_each_day_and_evaluates_each_days_checks(settings):
    """A backfill run over a range (single-run policy) gives every day its own materialization and
    its own check evaluations, each naming its partition."""
    days = ["2026-11-02", "2026-11-03", "2026-11-04"]
    result = dg.materialize(
        [LAYERS.landing, *LAYERS.raw],
        resources=build_resources(settings),
        instance=dg.DagsterInstance.ephemeral(),
        tags=range_tags(date(2026, 11, 2), date(2026, 11, 4)),
    )
    assert result.success
    materialized = {(e.asset_key, e.partition) for e in result.get_asset_materialization_events()}
    assert materialized == {(k, d) for k in RAW_KEYS | {LAYERS.landing.key} for d in days}
    evaluations = result.get_asset_check_evaluations()
    assert sorted((e.asset_key, e.check_name, e.partition) for e in evaluations) == sorted(
        (k, c, d) for k in RAW_KEYS for c in CHECK_NAMES for d in days
    )
    # each targets this run's materialization of its day: what the UI needs to count it for that day
    assert all(e.target_materialization_data and e.target_materialization_data.run_id == result.run_id
               for e in evaluations)  # fmt: skip
    (listen,) = {e.materialization.metadata["by_day"].value for e in result.get_asset_materialization_events()
                 if e.asset_key.path == ["raw", "listen_events"]}  # fmt: skip
    con = duckdb.connect(str(settings.warehouse))
    per_day = dict(con.execute("SELECT partition_date::VARCHAR, count(*) FROM raw.listen_events GROUP BY 1").fetchall())
    con.close()
    assert sorted(per_day) == days
    for day, rows in per_day.items():
        assert f"| {day} | {rows} |" in listen


def test_a_blocking_check_failing_on_one_day_of_a_range_fails_the_run(settings):
    assert _materialize(settings, "2026-11-02").success
    con = duckdb.connect(str(settings.warehouse))
    con.execute("ALTER TABLE raw.auth_events ADD COLUMN surprise VARCHAR")
    con.close()
    result = dg.materialize(
        [LAYERS.landing, *LAYERS.raw],
        resources=build_resources(settings),
        instance=dg.DagsterInstance.ephemeral(),
        tags=range_tags(date(2026, 11, 3), date(2026, 11, 4)),
        raise_on_error=False,
    )
    assert not result.success
    failed = {(e.asset_key.path[1], e.check_name, e.partition) for e in result.get_asset_check_evaluations()
              if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR}  # fmt: skip
    assert failed == {("auth_events", "contract", "2026-11-03"), ("auth_events", "contract", "2026-11-04")}
