"""SQL sources: pilot tables read from a database with a query (SQLAlchemy + pandas).

A mapping file names the database once (``source:``, any SQLAlchemy URL) and a query per table
(``query:``, or ``table:`` for ``select * from <table>``). The rows a query returns go through
the same validation as a file; messages name the query and its row (the first row returned is
row 1).

Passwords never appear in messages or report manifests (:func:`redact`). Give one in the URL
through an environment variable (``postgresql://analytics:${HR_DB_PASSWORD}@warehouse/hr``) or
leave it out of the URL and set ``RM_ANALYTICS_DB_PASSWORD``.

SQLAlchemy and the PostgreSQL and DuckDB drivers come with the ``sql`` extra
(``pip install "rm-analytics[sql]"``); SQLite needs no driver; other warehouses need their
SQLAlchemy dialect (e.g. ``snowflake-sqlalchemy``).
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Problem, RmAnalyticsError

if TYPE_CHECKING:
    from .readers import RawTable

#: Environment variable holding the database password when the URL has none.
PASSWORD_ENV = "RM_ANALYTICS_DB_PASSWORD"
INSTALL_HINT = 'pip install "rm-analytics[sql]"'

#: Dialect packages of common warehouses (for the hint when a dialect is missing).
DIALECT_PACKAGES = {
    "snowflake": "snowflake-sqlalchemy",
    "bigquery": "sqlalchemy-bigquery",
    "redshift": "sqlalchemy-redshift",
    "databricks": "databricks-sqlalchemy",
    "mssql": "pyodbc",
    "mysql": "pymysql (URL mysql+pymysql://...)",
    "oracle": "oracledb (URL oracle+oracledb://...)",
    "duckdb": "duckdb-engine",
    "postgresql": "psycopg[binary]",
}

_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PASSWORD_IN_URL = re.compile(r"(?P<head>^[A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#]*:)(?P<pw>[^@/?#]*)@")
_PASSWORD_PARAM = re.compile(r"(?i)(?P<head>[?&](?:password|pwd|token|secret)=)[^&]*")


class SourceError(RmAnalyticsError, ValueError):
    """A database cannot be used: a missing driver, a bad URL, a missing variable."""


def redact(url: str) -> str:
    """The URL with its password (and password-like query parameters) replaced by ``***``."""
    text = _PASSWORD_IN_URL.sub(lambda m: m.group("head") + "***@", str(url))
    return _PASSWORD_PARAM.sub(lambda m: m.group("head") + "***", text)


def expand_url(url: str) -> str:
    """Replace ``${VAR}`` by the environment variable's value (SourceError when unset)."""

    def value(m: re.Match) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise SourceError(
                f"the database URL {redact(url)} uses ${{{name}}}, but the environment "
                f"variable {name} is not set"
            )
        return os.environ[name]

    return _ENV_VAR.sub(value, url)


def _sqlalchemy():
    try:
        import sqlalchemy
    except ImportError:
        raise SourceError(
            f"SQL sources need SQLAlchemy and a database driver: {INSTALL_HINT}"
        ) from None
    return sqlalchemy


def resolve_file_url(url: str, folder: str | os.PathLike | None) -> str:
    """A ``sqlite:///`` or ``duckdb:///`` URL with a relative database path made relative to
    ``folder`` (the mapping file's folder) rather than the working folder."""
    m = re.match(r"^(sqlite|duckdb)(\+\w+)?:///(?!/)(?P<path>[^?]+)(?P<rest>\?.*)?$", url)
    if not m or folder is None or m.group("path") in (":memory:", ""):
        return url
    path = Path(folder) / m.group("path")
    head = url[: m.start("path")]
    return f"{head}{path.resolve()}{m.group('rest') or ''}"


def create_engine(url: str):
    """A SQLAlchemy engine for ``url`` (``${VAR}`` expanded, password from
    ``RM_ANALYTICS_DB_PASSWORD`` when the URL has none); SourceError with an install hint
    when SQLAlchemy, the dialect or the driver is missing."""
    sa = _sqlalchemy()
    shown = redact(url)
    try:
        u = sa.engine.make_url(expand_url(url))
    except sa.exc.ArgumentError:
        raise SourceError(
            f"not a database URL: {shown}; expected e.g. postgresql://user@host/database, "
            "duckdb:///pilot.duckdb or sqlite:///pilot.db"
        ) from None
    if u.password is None and os.environ.get(PASSWORD_ENV) and u.get_backend_name() != "sqlite":
        u = u.set(password=os.environ[PASSWORD_ENV])
    backend = u.get_backend_name()
    if (
        u.drivername == "postgresql"
        and importlib.util.find_spec("psycopg2") is None
        and importlib.util.find_spec("psycopg") is not None
    ):
        u = u.set(drivername="postgresql+psycopg")  # the driver the sql extra installs
    try:
        return sa.create_engine(u)
    except sa.exc.NoSuchModuleError:
        package = DIALECT_PACKAGES.get(backend, f"the SQLAlchemy dialect for {backend}")
        raise SourceError(
            f"no SQLAlchemy dialect {u.drivername!r} for {shown}: install {package} "
            f"(PostgreSQL and DuckDB come with {INSTALL_HINT})"
        ) from None
    except ImportError as exc:
        package = DIALECT_PACKAGES.get(backend, f"the driver for {backend}")
        raise SourceError(
            f"the database driver for {shown} is not installed ({exc}): {INSTALL_HINT}, or "
            f"install {package}"
        ) from None


def query_label(query: str, limit: int = 70) -> str:
    """How messages name a query: ``query "select * from mentoring.cohorts"``."""
    text = " ".join(str(query).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f'query "{text}"'


class Connections:
    """Engines by URL, created once per load and disposed at the end (``with`` block)."""

    def __init__(self, folder: str | os.PathLike | None = None) -> None:
        self.folder = folder
        self._engines: dict[str, Any] = {}

    def engine(self, url: str):
        key = resolve_file_url(url, self.folder)
        if key not in self._engines:
            self._engines[key] = create_engine(key)
        return self._engines[key]

    def close(self) -> None:
        for e in self._engines.values():
            e.dispose()
        self._engines.clear()

    def __enter__(self) -> Connections:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_query(name: str, url: str, query: str, connections: Connections) -> RawTable:
    """Run ``query`` on the database at ``url``; the rows as a RawTable of table ``name``.

    Problems of the database (cannot connect, the query fails) are in ``.problems``; a failed
    connection is one root cause however many tables it concerns.
    """
    import pandas as pd

    from .readers import RawTable, normalise_header

    sa = _sqlalchemy()
    label = query_label(query)
    raw = RawTable(name, None, label, "", first_row=1, typed=True)
    engine = connections.engine(url)
    try:
        conn = engine.connect()
    except sa.exc.SQLAlchemyError as exc:
        rule = f"cannot connect to {redact(url)}: {_first_line(exc)}"
        raw.problems.append(Problem(label, None, None, None, rule, cause=rule))
        return raw
    try:
        with conn:
            frame = pd.read_sql(query, conn)
    except sa.exc.SQLAlchemyError as exc:
        raw.problems.append(
            Problem(label, None, None, None, f"the query failed: {_first_line(exc)}")
        )
        return raw
    raw.headers = {normalise_header(c): str(c) for c in frame.columns}
    frame.columns = [normalise_header(c) for c in frame.columns]
    raw.frame = frame.reset_index(drop=True)
    return raw


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return redact(text[0] if text else type(exc).__name__)
