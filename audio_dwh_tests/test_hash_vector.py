"""One hash test vector: DuckDB results and the BigQuery-target SQL give the same keys.

The expected keys are computed here from the rules in vault-semantics.md (hashlib), independent of
the macros. The BigQuery SQL is compiled by dbt offline, must parse with sqlglot's BigQuery dialect,
and is then run through sqlglot's BigQuery -> DuckDB translation (no BigQuery is reachable here).
"""

import hashlib
import re

import duckdb
import sqlglot

from audio_dwh_tests.dbt_helpers import compile_inline, offline_bigquery_env


def md5(*parts: str | None) -> str:
    text = "||".join("^^" if p is None or not p.strip() else p.strip().upper() for p in parts)
    return hashlib.md5(text.encode()).hexdigest().upper()


# (name, macro call over the columns of the `v` row below, expected key)
VECTOR = [
    ("user_id", "hash('user_id')", md5("1001")),
    ("song", "hash(['song', 'artist'])", md5("Undo", "Björk")),
    ("padded", "hash('padded')", md5("björk")),
    ("null_part", "hash(['missing', 'letter'])", md5(None, "x")),
    ("empty", "hash('empty')", None),
    ("null", "hash('missing')", None),
    ("all_null", "hash(['missing', 'empty'])", None),
    ("epoch_ms", "hash(['user_id', 'session_id', 'ts'])", md5("1001", "9802000000", "1793577874030")),
    ("boolean", "hash('success')", md5("TRUE")),
    ("fixed", "hash([audio_dwh.fixed_text('lat', 6), audio_dwh.fixed_text('lon', 6)])", md5("42.350000", "-71.100000")),
    ("hashdiff_sorted", "hashdiff(['zeta', 'alpha'])", md5("a", "b")),
    ("hashdiff_null", "hashdiff(['missing', 'empty'])", md5(None, None)),
]

INLINE = (
    "with v as (select 1001 as user_id, 9802000000 as session_id, 1793577874030 as ts, 'Undo' as song, "
    "'Björk' as artist, '  björk ' as padded, cast(null as {{ dbt.type_string() }}) as missing, 'x' as letter, "
    "'' as empty, true as success, 42.35 as lat, -71.1 as lon, 'b' as zeta, 'a' as alpha) select "
    + ", ".join(f"{{{{ audio_dwh.{call} }}}} as {name}" for name, call, _ in VECTOR)
    + " from v"
)
EXPECTED = {name: expected for name, _, expected in VECTOR}


def _as_dict(con: duckdb.DuckDBPyConnection, sql: str) -> dict:
    cursor = con.execute(sql)
    names = [d[0].lower() for d in cursor.description]
    return dict(zip(names, cursor.fetchall()[0], strict=True))


def test_duckdb_keys_match_the_vector(tmp_path):
    sql = compile_inline(INLINE, tmp_path / "w.duckdb", tmp_path)
    assert _as_dict(duckdb.connect(), sql) == EXPECTED


def test_bigquery_sql_parses_and_gives_the_same_keys(tmp_path):
    sql = compile_inline(INLINE, tmp_path / "w.duckdb", tmp_path, offline_bigquery_env(tmp_path))
    assert "to_hex(md5(" in sql and "printf" not in sql, "the BigQuery dispatch was used"
    parsed = sqlglot.parse_one(sql, read="bigquery")
    assert parsed.find(sqlglot.exp.Select) is not None
    # sqlglot passes BigQuery's printf-style FORMAT through unchanged, but DuckDB's FORMAT takes {}
    # placeholders: its printf-style function is PRINTF (a gap of the translation, not of our SQL).
    as_duckdb = re.sub(r"\bFORMAT\(", "PRINTF(", sqlglot.transpile(sql, read="bigquery", write="duckdb")[0])
    assert _as_dict(duckdb.connect(), as_duckdb) == EXPECTED
