"""SQL sources: the sample pilot from PostgreSQL, DuckDB and SQLite gives the figures of the
native files; problems name the query and its row; database trouble is named once, with an
install hint when a driver is missing, and passwords never appear.

PostgreSQL: ``.ci/run`` starts a server and sets ``RM_TEST_POSTGRES_URL``. Without it the tests
start a throwaway server of their own (``.ci/postgres.sh``, Debian's postgresql package), or
skip when PostgreSQL is not installed -- except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pandas as pd
import pytest
from figures import assert_same_figures

from rm_analytics import DataValidationError, load_pilot
from rm_analytics.cli import run
from rm_analytics.data.readers import _text_categories
from rm_analytics.data.sources import SourceError, create_engine, redact

sa = pytest.importorskip("sqlalchemy")
ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-09-30"


def _no_postgres(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is needed under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url():
    url = os.environ.get("RM_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    if not (glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("pg_ctl")):
        _no_postgres("PostgreSQL is not installed and RM_TEST_POSTGRES_URL is not set")
    folder = tempfile.mkdtemp(prefix="rm-pg-")  # reachable by the postgres user
    started = subprocess.run(
        ["bash", str(ROOT / ".ci" / "postgres.sh"), "start", folder],
        capture_output=True,
        text=True,
    )
    if started.returncode != 0:
        subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh"), "stop", folder])
        _no_postgres(f"could not start a throwaway server: {started.stderr.strip()}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh"), "stop", folder])


def db_frames(pilot) -> dict[str, pd.DataFrame]:
    """The pilot's typed tables as a warehouse holds them (text, dates, numbers, booleans)."""
    out = {}
    for name, frame in pilot.tables.items():
        f = _text_categories(frame)
        for c in f.columns:
            if pd.api.types.is_string_dtype(f[c]) and not pd.api.types.is_object_dtype(f[c]):
                f[c] = f[c].astype(object).where(f[c].notna(), None)
        out[name] = f
    return out


def fill(url: str, frames: dict[str, pd.DataFrame], schema: str | None) -> None:
    if url.startswith("duckdb:///"):  # duckdb-engine inserts row by row: load natively
        import duckdb

        con = duckdb.connect(url.removeprefix("duckdb:///"))
        if schema:
            con.execute(f"create schema {schema}")
        for name, f in frames.items():
            con.register("frame", f)
            con.execute(
                f"create table {schema + '.' if schema else ''}{name} as select * from frame"
            )
            con.unregister("frame")
        con.close()
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if schema:
                conn.exec_driver_sql(f"create schema {schema}")
            for name, f in frames.items():
                f.to_sql(name, conn, schema=schema, index=False, chunksize=5000)
    finally:
        engine.dispose()


def write_mapping(folder: Path, url: str, schema: str | None, tables) -> Path:
    prefix = f"{schema}." if schema else ""
    lines = [f"source: {url}", "tables:"]
    for t in tables:
        if t == "cohorts":  # a query; the other tables by name
            lines.append(
                f'  cohorts: {{query: "select * from {prefix}cohorts order by start_date"}}'
            )
        else:
            lines.append(f"  {t}: {{table: {prefix}{t}}}")
    path = folder / "rm-mapping.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(params=["sqlite", "duckdb", "postgresql"])
def database(request, tmp_path, sample_pilot):
    """(mapping file, url, schema) of the sample pilot in a database of each kind."""
    kind = request.param
    schema = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'pilot.db'}"
        mapping_url = "sqlite:///pilot.db"  # relative to the mapping file
    elif kind == "duckdb":
        pytest.importorskip("duckdb_engine")
        url = f"duckdb:///{tmp_path / 'pilot.duckdb'}"
        mapping_url = "duckdb:///pilot.duckdb"
        schema = "mentoring"
    else:
        url = mapping_url = request.getfixturevalue("postgres_url")
        schema = f"rm_{uuid.uuid4().hex[:10]}"
    fill(url, db_frames(sample_pilot), schema)
    mapping = write_mapping(tmp_path, mapping_url, schema, sample_pilot.tables)
    yield mapping, url, schema
    if kind == "postgresql":
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"drop schema {schema} cascade")
        engine.dispose()


def test_database_gives_the_figures_of_the_files(database, sample_pilot):
    mapping, _, _ = database
    pilot = load_pilot(config=mapping, today=TODAY)
    assert pilot.sources["cohorts"].startswith('query "select * from')
    for name, frame in sample_pilot.tables.items():
        assert len(pilot.tables[name]) == len(frame), name
    assert_same_figures(pilot, sample_pilot)


def test_problems_name_the_query_and_its_row(tmp_path, sample_pilot, capsys):
    frames = db_frames(sample_pilot)
    frames["cohorts"].loc[1, "planned_sessions"] = 0
    url = f"sqlite:///{tmp_path / 'pilot.db'}"
    fill(url, frames, None)
    mapping = write_mapping(tmp_path, url, None, frames)
    with pytest.raises(DataValidationError) as info:
        load_pilot(config=mapping, today=TODAY)
    (p,) = info.value.problems
    assert p.file == 'query "select * from cohorts order by start_date"'
    assert (p.row, p.column) == (2, "planned_sessions")
    assert run(["validate", "--config", str(mapping), "--today", TODAY]) == 2
    assert 'query "select * from cohorts order by start_date", row 2' in capsys.readouterr().err


def test_a_failing_query_is_named(tmp_path, sample_pilot, capsys):
    url = f"sqlite:///{tmp_path / 'pilot.db'}"
    fill(url, db_frames(sample_pilot), None)
    mapping = write_mapping(tmp_path, url, None, sample_pilot.tables)
    text = mapping.read_text().replace("{table: pairs}", "{table: pears}")
    mapping.write_text(text)
    assert run(["validate", "--config", str(mapping), "--today", TODAY]) == 2
    err = capsys.readouterr().err
    assert 'query "select * from pears"' in err and "the query failed" in err and "pears" in err


def test_no_connection_is_one_root_cause_without_the_password(tmp_path, capsys):
    url = "postgresql://analytics:s3cret@/hr?host=/nonexistent-socket-dir"
    (tmp_path / "rm-mapping.yaml").write_text(
        f"source: {url}\ntables:\n  employees: {{table: employees}}\n  cohorts: {{table: cohorts}}\n"
        "  pairs: {table: pairs}\n"
    )
    assert run(["validate", "--config", str(tmp_path / "rm-mapping.yaml")]) == 2
    err = capsys.readouterr().err
    assert "s3cret" not in err
    assert "cannot connect to postgresql://analytics:***@" in err
    assert err.count("cannot connect") == 1 and "3 problems" in err


def test_missing_dialect_and_missing_sqlalchemy_give_an_install_hint(tmp_path, capsys, monkeypatch):
    (tmp_path / "rm-mapping.yaml").write_text(
        "source: snowflake://analyst:pw@acme/hr\ntables:\n  cohorts: {table: mentoring.cohorts}\n"
    )
    assert run(["validate", "--config", str(tmp_path / "rm-mapping.yaml")]) == 2
    err = capsys.readouterr().err
    assert "snowflake-sqlalchemy" in err and "rm-analytics[sql]" in err and ":pw@" not in err
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(SourceError, match=r'pip install "rm-analytics\[sql\]"'):
        create_engine("sqlite://")


def test_password_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RM_ANALYTICS_DB_PASSWORD", "from-env")
    engine = create_engine("postgresql://analytics@warehouse/hr")
    assert engine.url.password == "from-env"
    monkeypatch.setenv("HR_DB_PASSWORD", "from-var")
    engine = create_engine("postgresql://analytics:${HR_DB_PASSWORD}@warehouse/hr")
    assert engine.url.password == "from-var"
    monkeypatch.delenv("HR_DB_PASSWORD")
    with pytest.raises(SourceError, match="HR_DB_PASSWORD is not set"):
        create_engine("postgresql://analytics:${HR_DB_PASSWORD}@warehouse/hr")


def test_redact():
    assert redact("postgresql://a:b@c/d") == "postgresql://a:***@c/d"
    assert (
        redact("snowflake://u@acct/db?password=x&role=r")
        == "snowflake://u@acct/db?password=***&role=r"
    )
    assert redact("duckdb:///x.duckdb") == "duckdb:///x.duckdb"


def test_manifest_inputs_list_queries_without_passwords(tmp_path, sample_dir):
    from rm_analytics.report import input_fingerprint

    (tmp_path / "rm-mapping.yaml").write_text(
        "source: postgresql://analytics:s3cret@warehouse/hr\n"
        "tables:\n  cohorts: {query: select * from mentoring.cohorts}\n"
    )
    described = input_fingerprint(sample_dir, tmp_path / "rm-mapping.yaml")
    text = json.dumps(described)
    assert "s3cret" not in text
    assert described["queries"] == [
        {
            "table": "cohorts",
            "query": "select * from mentoring.cohorts",
            "source": "postgresql://analytics:***@warehouse/hr",
        }
    ]
    assert "employees.csv" in "".join(described["files"])
