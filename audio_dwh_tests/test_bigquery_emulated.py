"""The production path, exercised for real on emulators: the landing bucket (fake-gcs-server) and
BigQuery (bqemulator), through Dagster, compared row for row with the DuckDB run of the same day."""

import datetime
import decimal
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import sqlglot
from google.cloud import bigquery

from audio_dwh.counts import ROWS_OF_RUN_DAYS, TABLE_ROWS
from audio_dwh.dashboard import figures
from audio_dwh.dashboard.report import fetch_day
from audio_dwh.definitions import build_layers
from audio_dwh.events.landing import fingerprint
from audio_dwh.orchestration.sensors import SETTLE_SECONDS, ready_days
from audio_dwh.resources import build_resources
from audio_dwh.settings import load_settings
from audio_dwh_tests.conftest import DEFS, comparable_columns
from audio_dwh_tests.dbt_helpers import run_dbt
from audio_dwh_tests.emulators import Emulators, google_emulators

pytestmark = pytest.mark.emulator

DAY = "2026-11-03"
# Only loaded_at left out, as this comparison always did (the clean day rejects nothing).
LOAD_TIME_COLUMNS = frozenset({"loaded_at"})


@pytest.fixture(scope="module")
def emulators(tmp_path_factory) -> Emulators:
    with google_emulators(tmp_path_factory.mktemp("emulators")) as running:
        yield running


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """These variables set for the block only."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, value)
        yield


def _settings(home: Path, env: dict[str, str]):
    """Settings as the code location reads them, from this environment."""
    with _environment({"AUDIO_DWH_HOME": str(home), "AUDIO_DWH_USERS": "300", **env}):
        return load_settings()


def _materialize(settings, day: str, selection=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        build_layers(settings).all,
        partition_key=day,
        resources=build_resources(settings),
        instance=dg.DagsterInstance.ephemeral(),
        selection=selection,
    )


def _query(client: bigquery.Client, sql: str) -> list[tuple]:
    """Rows of a query; an error surfaces at once instead of being retried for minutes."""
    from google.api_core.retry import Retry

    job = client.query(sql, retry=Retry(timeout=30), job_retry=None)
    return [tuple(row.values()) for row in job.result(timeout=120)]


def _normal(value):
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, float | decimal.Decimal):
        return round(float(value), 6)
    return value


@pytest.fixture(scope="module")
def both_runs(emulators, tmp_path_factory):
    """The same day through Dagster on DuckDB and on the emulated BigQuery + bucket."""
    duck = _settings(tmp_path_factory.mktemp("duckdb"), {})
    assert _materialize(duck, DAY).success
    bq = _settings(tmp_path_factory.mktemp("bigquery"), emulators.env)
    with _environment(emulators.env):  # the Google clients and the dbt subprocess read these
        result = _materialize(bq, DAY)
    assert result.success
    return duck, bq, result


def test_a_day_lands_in_the_bucket_and_every_table_matches_duckdb(both_runs, emulators):
    duck, bq, result = both_runs
    landed = sorted((emulators.storage_root / emulators.bucket / "landing").rglob("*.json"))
    assert {p.parent.parent.name for p in landed} == {"listen_events", "page_view_events", "auth_events",
                                                        "status_change_events"}  # fmt: skip
    con = duckdb.connect(str(duck.warehouse), read_only=True)
    client = _client(emulators)
    compared = 0
    for table, columns in comparable_columns(con, ("raw", "vault", "marts"), skip=LOAD_TIME_COLUMNS).items():
        select = ", ".join(columns)
        expected = sorted(tuple(map(_normal, row)) for row in con.execute(f"SELECT {select} FROM {table}").fetchall())
        where = " WHERE play_start_date IS NOT NULL" if table == "marts.mart_song_play" else ""  # partition filter
        actual = sorted(
            tuple(map(_normal, row))
            for row in _query(client, f"SELECT {select} FROM `{emulators.project}.{table}`{where}")
        )
        assert actual == expected, table
        compared += 1
    con.close()
    assert compared >= 4 + 1 + 26 + 6  # raw topics + rejects, vault tables, marts
    rows = {
        e.asset_key.to_user_string(): (
            e.materialization.metadata[ROWS_OF_RUN_DAYS].value,
            e.materialization.metadata[TABLE_ROWS].value,
        )
        for e in result.get_asset_materialization_events()
        if TABLE_ROWS in e.materialization.metadata
    }
    # one day in a new warehouse: the table holds the day's rows and nothing else
    assert rows["marts/mart_song_play"] == rows["raw/listen_events"] and rows["raw/listen_events"][0] > 100
    assert rows["raw/listen_events"][0] == rows["raw/listen_events"][1]
    (landing,) = [e.materialization.metadata for e in result.get_asset_materialization_events()
                  if e.asset_key.path == ["landing", "eventsim_events"]]  # fmt: skip
    assert landing["bucket"].value == f"gs://{emulators.bucket}/landing/"
    assert f"listen_events/date={DAY}/" in landing["files"].value and landing["missing_topics"].value == "none"
    # The dashboard reads the marts where they are: the same page from BigQuery as from DuckDB.
    duck_page = (duck.reports / f"{DAY}.html").read_text()
    assert (bq.reports / f"{DAY}.html").read_text() == duck_page and "listens" in duck_page


def _client(emulators: Emulators) -> bigquery.Client:
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(
        emulators.env["GOOGLE_APPLICATION_CREDENTIALS"], scopes=["https://www.googleapis.com/auth/bigquery"]
    )
    return bigquery.Client(
        project=emulators.project,
        credentials=credentials,
        client_options={"api_endpoint": emulators.env["BIGQUERY_EMULATOR_HOST"]},
    )


def test_the_dashboards_sql_gives_the_same_figures_on_bigquery(both_runs, emulators):
    """On the BigQuery target the dashboard and the report query the marts there: the same SQL, the
    same figures as on DuckDB, for every plan."""
    duck, _, _ = both_runs
    day = datetime.date.fromisoformat(DAY)
    period = figures.Period(day, day)
    con = duckdb.connect(str(duck.warehouse), read_only=True)
    client = _client(emulators)
    for plan in figures.PLANS:
        for name in ("headline", "daily_trends", "hourly_profile", "top_songs", "top_artists", "listens_by_state",
                     "splits"):  # fmt: skip
            on_duckdb, on_bigquery = (getattr(figures, name)(reader, period, plan) for reader in (con, client))
            assert _figures(on_bigquery) == _figures(on_duckdb), (name, plan)
    assert _figures(figures.page_funnel(client, period)) == _figures(figures.page_funnel(con, period))
    loaded = figures.loaded_days(con)
    assert _figures(figures.retention(client, period, loaded).cells) == _figures(
        figures.retention(con, period, loaded).cells
    )
    assert figures.loaded_days(client) == figures.loaded_days(con) == figures.LoadedDays((day,))
    report = fetch_day(client, day, loaded)
    assert report.headline.listens > 100 and not report.top_songs.empty
    con.close()


def _figures(found) -> list:
    """A figure set as plain rows, floats rounded (the engines sum doubles in their own order)."""
    rows = found.values.tolist() if hasattr(found, "values") else [list(vars(found).values())]
    return [[round(float(v), 6) if isinstance(v, float | decimal.Decimal) else str(v) for v in row] for row in rows]


def test_bad_lines_in_the_bucket_are_rejected_with_their_line_and_the_good_ones_replace_the_day(both_runs, emulators):
    _, bq, _ = both_runs
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    gcs = storage.Client(
        project=emulators.project,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emulators.env["STORAGE_EMULATOR_HOST"]},
    )
    blob = gcs.bucket(emulators.bucket).blob(f"landing/page_view_events/date={DAY}/late-arrivals.json")
    blob.upload_from_string('{"ts": "soon"}\nnot json\n')  # what a producer dropped in
    lenient = type(bq)(**{**bq.__dict__, "reject_threshold": 0.5, "source": "files"})
    with _environment(emulators.env):
        assert _materialize(lenient, DAY, selection=[dg.AssetKey(["raw", "page_view_events"])]).success
    client = _client(emulators)
    rejected = _query(
        client,
        f"SELECT source_file, line_number, reason FROM `{emulators.project}.raw.rejected_events` "
        "WHERE topic = 'page_view_events' ORDER BY line_number",
    )
    assert [(f.rsplit("/", 1)[-1], n) for f, n, _ in rejected] == [("late-arrivals.json", 1), ("late-arrivals.json", 2)]
    assert "invalid JSON" in rejected[1][2]
    duck_rows = duckdb.connect(str(both_runs[0].warehouse), read_only=True)
    expected = duck_rows.execute("SELECT count(*) FROM raw.page_view_events").fetchall()[0][0]
    duck_rows.close()
    ((count,),) = _query(client, f"SELECT count(*) FROM `{emulators.project}.raw.page_view_events`")
    assert count == expected  # the day replaced, not appended to


def test_every_model_compiles_for_bigquery_and_parses_as_bigquery_sql(both_runs, emulators, tmp_path):
    _, bq, _ = both_runs
    env = {**emulators.env, **bq.dbt_profile_environment(), "AUDIO_DWH_HOME": str(bq.home)}
    run_dbt(["compile", "--target", "bigquery", "--vars", f"{{min_date: {DAY}, max_date: {DAY}}}"], bq.warehouse,
            tmp_path, env)  # fmt: skip
    compiled = sorted((tmp_path / "target" / "compiled" / "audio_dwh" / "models").rglob("*.sql"))
    assert len(compiled) >= 40
    for path in compiled:
        sqlglot.parse(path.read_text(), read="bigquery")  # raises on anything BigQuery would not parse
    # Compiled against the tables the run built, so incremental models take their incremental branch.
    hub_user = next(p for p in compiled if p.name == "hub_user.sql").read_text()
    assert f"`{emulators.project}`.`vault`.`hub_user`" in hub_user
    assert os.environ.get("BIGQUERY_EMULATOR_HOST") is None  # the test left the environment as it was


def test_the_landing_sensor_watches_the_bucket(both_runs, emulators):
    _, bq, _ = both_runs
    resources = build_resources(bq)
    source = type(resources["event_source"])(**{**resources["event_source"].__dict__, "source": "files"})
    with _environment(emulators.env), dg.DagsterInstance.ephemeral() as instance:
        client = resources["gcs"].get_client()
        inventory = source.bucket.inventory(client)
        context = dg.build_sensor_context(
            instance=instance, resources={"event_source": source, "gcs": resources["gcs"]}
        )
        result = DEFS.resolve_sensor_def("landing_sensor")(context)
        # A copy still in progress changes nothing that is loaded: not part of the day's fingerprint.
        client.bucket(emulators.bucket).blob(f"landing/auth_events/date={DAY}/.part.json.x1").upload_from_string("{")
        partial = source.bucket.inventory(client)
    assert set(inventory[DAY]) == {"listen_events", "page_view_events", "auth_events", "status_change_events"}
    assert "_validated" not in str(inventory)  # the loader's own files are not landing files
    latest = max(s.modified for stamps in inventory[DAY].values() for s in stamps)
    day = datetime.date.fromisoformat(DAY)
    assert list(ready_days(inventory, now=latest + SETTLE_SECONDS)) == [day]
    assert ready_days(inventory, now=latest + SETTLE_SECONDS - 1) == {}  # a file still settling
    assert fingerprint(partial[DAY]) == fingerprint(inventory[DAY]) == ready_days(inventory, latest + 60)[day]
    assert json.loads(result.cursor) == {r.partition_key: r.tags["audio_dwh/landing_fingerprint"]
                                         for r in result.run_requests}  # launched = remembered  # fmt: skip
