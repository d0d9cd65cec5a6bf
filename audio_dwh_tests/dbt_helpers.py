"""Running the project's dbt from tests: real dbt, in this process as a run's step runs it, against a
real DuckDB file."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from pathlib import Path

import duckdb
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from audio_dwh.dbt.project import kept_parse
from audio_dwh.dbt.resource import dbt_environment, invoke_dbt
from audio_dwh.warehouse.sql import quote
from audio_dwh_tests.conftest import make_settings


def run_dbt(
    args: list[str], warehouse: Path, tmp: Path, env: dict[str, str] | None = None, failing_tests_ok: bool = False
) -> str:
    """dbt's output; it must succeed (or fail only in data tests, when failing_tests_ok). dbt runs in
    this process as a run's step runs it: on the project's kept parse for the DuckDB target, parsing
    first for BigQuery."""
    environment = {"AUDIO_DWH_WAREHOUSE": str(warehouse), **(env or {})}
    bigquery = environment.get("AUDIO_DWH_TARGET") == "bigquery" or "bigquery" in args
    with dbt_environment(environment), contextlib.redirect_stdout(io.StringIO()) as output:
        parsed = None if bigquery else kept_parse(warehouse.stem)
        outcome = invoke_dbt(args, tmp / "target", tmp / "logs", parsed)
    printed = output.getvalue()
    held = outcome.success or (failing_tests_ok and outcome.exception is None)
    assert held, f"{outcome.exception}\n{printed[-6000:]}"
    return printed


def run_days(warehouse: Path, tmp: Path, first: str, last: str | None = None) -> None:
    """`dbt run` over the days (the data tests run in the Dagster tests, as asset checks)."""
    run_dbt(["run", "--vars", json.dumps({"min_date": first, "max_date": last or first})], warehouse, tmp)


# The vault tables that record what was once seen, and keep it when the day that showed it is sent
# again without it: hubs of shared entities and the links between them (docs/vault.md). Every other
# table holds events or their states and must equal a home that only saw the final files.
KEEPS_WHAT_IT_SAW = {
    "hub_user", "hub_plan", "hub_user_agent", "hub_session", "hub_song", "hub_artist", "hub_web_page",
    "hub_location_geo", "hub_location_zip", "hub_location_city", "hub_location_state", "link_user_plan",
    "link_user_agent_user", "link_song_artist", "link_location_geo_zip", "link_location_zip_city",
    "link_location_city_state",
}  # fmt: skip
LOAD_TIME_COLUMNS = ("loaded_at", "rejected_at")
# When and from which source a kept key was first seen: after a day sent again, possibly an event the
# source has since taken back, so a home that saw it may differ there from one that only saw the final files.
FIRST_SEEN_COLUMNS = ("load_date", "record_source")


def warehouse_tables(warehouse: Path, with_raw: bool = False, first_seen: bool = True) -> dict[str, list[tuple]]:
    """Every table of the raw vault, the business vault and the marts (and raw, load times left out),
    each as its sorted rows; without `first_seen`, the tables that keep what they saw hold their keys
    only (FIRST_SEEN_COLUMNS left out)."""
    schemas = ["vault", "business_vault", "marts"] + (["raw"] if with_raw else [])
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            f"""SELECT table_schema, table_name, list(column_name ORDER BY ordinal_position)
                FROM information_schema.columns WHERE table_schema IN ({", ".join(f"'{s}'" for s in schemas)})
                GROUP BY ALL"""
        ).fetchall()
        return {
            table: sorted(
                con.execute(
                    f"SELECT {', '.join(quote(c) for c in columns if c not in _left_out(table, first_seen))} "
                    f"FROM {schema}.{table}"
                ).fetchall(),
                key=repr,
            )
            for schema, table, columns in tables
        }
    finally:
        con.close()


def _left_out(table: str, first_seen: bool) -> tuple[str, ...]:
    return LOAD_TIME_COLUMNS + (() if first_seen or table not in KEEPS_WHAT_IT_SAW else FIRST_SEEN_COLUMNS)


def assert_same_as_final(final: dict[str, list[tuple]], sent_again: dict[str, list[tuple]]) -> None:
    """A home that saw a day sent again holds what a home that only saw the final files holds: every
    table equal, but those that keep what they saw, which hold at least the final home's rows."""
    assert set(sent_again) == set(final)
    differing = [t for t in final if t not in KEEPS_WHAT_IT_SAW and sent_again[t] != final[t]]
    assert not differing, {t: sorted(set(sent_again[t]) ^ set(final[t]), key=repr)[:4] for t in differing}
    for table in KEEPS_WHAT_IT_SAW & set(final):
        missing = set(final[table]) - set(sent_again[table])
        assert not missing, (table, sorted(missing, key=repr)[:4], sorted(set(sent_again[table]), key=repr)[:8])


def throwaway_service_account_key(path: Path, project: str, token_uri: str) -> Path:
    """A service-account key no Google server knows: the client signs with it and asks token_uri."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": project, "private_key_id": "0", "private_key": pem,
        "client_email": f"tests@{project}.iam.gserviceaccount.com", "client_id": "0", "token_uri": token_uri,
    }))  # fmt: skip
    return path


def offline_bigquery_env(tmp: Path) -> dict[str, str]:
    """A BigQuery target that compiles offline: a throwaway service-account key no server knows."""
    path = throwaway_service_account_key(
        tmp / "offline-service-account.json", "audio-dwh-offline", "https://oauth2.googleapis.com/token"
    )
    profile = dataclasses.replace(make_settings(tmp), bq_auth_method="service-account").dbt_profile_environment()
    return {**profile, "AUDIO_DWH_TARGET": "bigquery", "GOOGLE_APPLICATION_CREDENTIALS": str(path)}


def compile_inline(sql: str, warehouse: Path, tmp: Path, env: dict[str, str] | None = None) -> str:
    """The SQL dbt compiles from an inline query (Jinja and the project's macros)."""
    out = run_dbt(
        ["compile", "--no-populate-cache", "--quiet", "--output", "json", "--inline", sql], warehouse, tmp, env
    )
    return json.loads(out[out.index("{") :])["compiled"]
