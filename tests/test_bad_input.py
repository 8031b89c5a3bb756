"""The bad-input corpus: nothing lost, nothing accepted silently.

Every case starts from a small valid pilot (CSV files written by the generator), breaks one
file in one way -- as CSV, gzip CSV, Excel or Parquet -- and runs ``rm-analytics validate``
in-process. A case either

* is rejected: exit code 2, no traceback, and the message names the file, the row and the
  column (where a row or a column is meaningful); the ``DataValidationError`` raised by
  ``load_pilot`` holds a problem with exactly that file, row and column; or
* loads with nothing lost: exit code 0, every record of the file is a row of the table, and
  rows set aside (blank lines, planned terminations) are counted in ``pilot.quality``.

A few cases run the real command in a subprocess with a timeout (a named pipe must not hang
it; exit codes as a scheduler sees them).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rm_analytics import DataValidationError, load_pilot
from rm_analytics.cli import run
from rm_analytics.data.synthetic import generate

TODAY = "2026-09-30"


# -- the valid starting point ------------------------------------------------------------------
@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    data = generate(n_employees=300, n_cohorts=1, pairs_per_cohort=4, seed=7)
    out = tmp_path_factory.mktemp("valid")
    data.write(out)
    return out


@pytest.fixture(scope="module")
def base_pilot(base):
    return load_pilot(base, today=TODAY)


def frame(d: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)


def text(d: Path, table: str) -> str:
    return (d / f"{table}.csv").read_text(encoding="utf-8")


def lines(d: Path, table: str) -> list[str]:
    return text(d, table).split("\n")


def put_lines(d: Path, table: str, rows: list[str]) -> None:
    (d / f"{table}.csv").write_text("\n".join(rows), encoding="utf-8")


def put(d: Path, table: str, df: pd.DataFrame) -> None:
    df.to_csv(d / f"{table}.csv", index=False)


def as_gzip(d: Path, table: str, data: bytes | None = None) -> Path:
    """Replace ``table.csv`` by ``table.csv.gz`` (of ``data``, default: the CSV's bytes)."""
    src = d / f"{table}.csv"
    raw = src.read_bytes() if data is None else data
    src.unlink()
    out = d / f"{table}.csv.gz"
    out.write_bytes(gzip.compress(raw, mtime=0))
    return out


def as_xlsx(d: Path, table: str, df: pd.DataFrame | None = None) -> Path:
    """Replace ``table.csv`` by ``table.xlsx`` (text cells, one sheet)."""
    df = frame(d, table) if df is None else df
    (d / f"{table}.csv").unlink()
    out = d / f"{table}.xlsx"
    df.to_excel(out, index=False, sheet_name=table)
    return out


def as_parquet(d: Path, table: str, df: pd.DataFrame | None = None) -> Path:
    """Replace ``table.csv`` by ``table.parquet`` (typed columns, as a warehouse writes)."""
    df = frame(d, table) if df is None else df
    (d / f"{table}.csv").unlink()
    out = d / f"{table}.parquet"
    df.to_parquet(out, index=False)
    return out


def typed_employees(d: Path) -> pd.DataFrame:
    e = frame(d, "employees").replace("", None)
    for c in ("annual_salary", "performance_rating"):
        e[c] = pd.to_numeric(e[c])
    e["birth_year"] = pd.to_numeric(e["birth_year"]).astype("Int64")
    for c in ("hire_date", "termination_date"):
        e[c] = pd.to_datetime(e[c])
    return e


def first_open_row(d: Path, table: str = "employees") -> int:
    """Position of the first employee still employed (no termination date)."""
    e = frame(d, table)
    return int(np.flatnonzero(e.termination_date.eq("").to_numpy())[0])


# -- cases ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reject:
    file: str
    row: int | None
    column: str | None
    rule: str


@dataclass(frozen=True)
class Loads:
    """The data load; ``check(pilot, folder)`` asserts nothing was lost."""

    check: Callable


@dataclass(frozen=True)
class Case:
    id: str
    fmt: str
    build: Callable[[Path], int | None]
    """Breaks the folder; returns the row expected in the message when it depends on the
    data (None: the row given in ``expect``)."""
    expect: Reject | Loads
    args: tuple[str, ...] = ()


CASES: list[Case] = []


def case(id: str, fmt: str, expect, args: tuple[str, ...] = ()):
    def register(build):
        CASES.append(Case(id, fmt, build, expect, args))
        return build

    return register


# ---- CSV: structure (the fast reader must not swallow rows) -----------------------------------
@case("quote-open-to-eof", "csv", Reject("checkpoints.csv", 4, "wins", "quote opens"))
def _(d):
    rows = lines(d, "checkpoints")
    rows[3] = rows[3].rsplit(",", 1)[0] + ',"Positive feedback from the team'
    put_lines(d, "checkpoints", rows)


@case("quote-closed-by-later-quote", "csv", Reject("checkpoints.csv", 3, "wins", "quote opens"))
def _(d):
    rows = lines(d, "checkpoints")
    rows[2] = rows[2].rsplit(",", 1)[0] + ',"We met every week'
    rows[7] = rows[7].rsplit(",", 1)[0] + ',"Adopted, and shared"'
    put_lines(d, "checkpoints", rows)


@case("quote-closed-by-stray-quote", "csv", Reject("checkpoints.csv", 2, "wins", "quote opens"))
def _(d):
    rows = lines(d, "checkpoints")
    rows[1] = rows[1].rsplit(",", 1)[0] + ',"Good start'
    rows[6] = rows[6].rsplit(",", 1)[0] + ',Good end of cohort 1"'
    put_lines(d, "checkpoints", rows)


@case(
    "quote-open-in-middle-column", "csv", Reject("checkpoints.csv", 5, "roadblocks", "quote opens")
)
def _(d):
    cp = frame(d, "checkpoints")
    rows = lines(d, "checkpoints")
    head = ",".join(cp.iloc[3, :5])
    rows[4] = head + ',"Travel in weeks 3-5,'
    put_lines(d, "checkpoints", rows)


@case("quote-open-in-roster", "csv", Reject("employees.csv", 11, "department", "quote opens"))
def _(d):
    rows = lines(d, "employees")
    cells = rows[10].split(",")
    cells[4] = '"' + cells[4]
    rows[10] = ",".join(cells)
    put_lines(d, "employees", rows)


@case("quote-open-in-goal", "csv", Reject("pairs.csv", 2, "goal", "quote opens"))
def _(d):
    rows = lines(d, "pairs")
    rows[1] = rows[1].rsplit(",", 1)[0] + ',"Publish four videos'
    put_lines(d, "pairs", rows)


@case("missing-last-field", "csv", Reject("employees.csv", 6, "name", "field"))
def _(d):
    rows = lines(d, "employees")
    rows[5] = rows[5].rsplit(",", 1)[0]
    put_lines(d, "employees", rows)


@case("missing-two-fields", "csv", Reject("employees.csv", 9, "location", "field"))
def _(d):
    rows = lines(d, "employees")
    rows[8] = rows[8].rsplit(",", 2)[0]
    put_lines(d, "employees", rows)


@case("missing-field-last-line", "csv", Reject("sessions.csv", 40, "status", "field"))
def _(d):
    rows = [r for r in lines(d, "sessions") if r]
    rows[-1] = rows[-1].rsplit(",", 1)[0]
    put_lines(d, "sessions", rows)


@case("extra-field", "csv", Reject("employees.csv", 6, "name", "more after the last column"))
def _(d):
    rows = lines(d, "employees")
    rows[5] += ",stray"
    put_lines(d, "employees", rows)


@case("unquoted-comma", "csv", Reject("cohorts.csv", 2, "name", "more after the last column"))
def _(d):
    c = frame(d, "cohorts")
    rows = lines(d, "cohorts")
    rows[1] = ",".join(c.iloc[0, :5]) + ",Cohort 1, spring"
    put_lines(d, "cohorts", rows)


@case("every-row-one-field-more", "csv", Reject("control.csv", 2, "cohort_id", "more after"))
def _(d):
    rows = lines(d, "control")
    put_lines(d, "control", [rows[0]] + [r + ",x" if r else r for r in rows[1:]])


@case("header-twice", "csv", Reject("cohorts.csv", 1, "cohort_id", "more than once"))
def _(d):
    rows = lines(d, "cohorts")
    put_lines(d, "cohorts", [rows[0] + ",cohort_id"] + [r + ",X" if r else r for r in rows[1:]])


@case("header-case-differs", "csv", Reject("employees.csv", 1, "level", "more than once"))
def _(d):
    rows = lines(d, "employees")
    put_lines(d, "employees", [rows[0] + ",Level"] + [r + ",L1" if r else r for r in rows[1:]])


@case(
    "header-space-vs-underscore", "csv", Reject("employees.csv", 1, "hire_date", "more than once")
)
def _(d):
    e = frame(d, "employees")
    e["Hire Date"] = e["hire_date"]
    put(d, "employees", e)


@case("two-blank-headers", "csv", Reject("cohorts.csv", 1, None, "no header"))
def _(d):
    rows = lines(d, "cohorts")
    put_lines(d, "cohorts", [rows[0] + ",,"] + [r + ",a,b" if r else r for r in rows[1:]])


@case("semicolons", "csv", Reject("cohorts.csv", None, None, "semicolon"))
def _(d):
    put(d, "cohorts", frame(d, "cohorts"))
    frame(d, "cohorts").to_csv(d / "cohorts.csv", index=False, sep=";")


# ---- CSV: encoding and the wrong kind of file -----------------------------------------------
@case("utf16-with-bom", "csv", Reject("cohorts.csv", 1, None, "UTF-16"))
def _(d):
    (d / "cohorts.csv").write_bytes(text(d, "cohorts").encode("utf-16"))


@case("utf16le-without-bom", "csv", Reject("cohorts.csv", None, None, "UTF-16"))
def _(d):
    (d / "cohorts.csv").write_bytes(text(d, "cohorts").encode("utf-16-le"))


@case("utf16be-without-bom", "csv", Reject("pairs.csv", None, None, "UTF-16"))
def _(d):
    (d / "pairs.csv").write_bytes(text(d, "pairs").encode("utf-16-be"))


@case("cp1252", "csv", Reject("cohorts.csv", 2, "name", "not UTF-8"))
def _(d):
    c = frame(d, "cohorts")
    c["name"] = "Coh\u00f6rt M\u00fcnchen"
    (d / "cohorts.csv").write_bytes(c.to_csv(index=False).encode("cp1252"))


@case("binary-garbage", "csv", Reject("cohorts.csv", None, None, "binary data"))
def _(d):
    rng = np.random.default_rng(3)
    (d / "cohorts.csv").write_bytes(b"\x00" + rng.bytes(4000))


@case("empty-file", "csv", Reject("sessions.csv", None, None, "empty"))
def _(d):
    (d / "sessions.csv").write_bytes(b"")


@case("whitespace-only", "csv", Reject("cohorts.csv", None, None, "empty"))
def _(d):
    (d / "cohorts.csv").write_bytes(b"\n\n   \n")


@case("header-only", "csv", Reject("pairs.csv", None, None, "header but no rows"))
def _(d):
    (d / "pairs.csv").write_text(lines(d, "pairs")[0] + "\n")


@case("workbook-named-csv", "csv", Reject("cohorts.csv", None, None, "zip archive"))
def _(d):
    c = frame(d, "cohorts")
    c.to_excel(d / "x.xlsx", index=False)
    (d / "x.xlsx").replace(d / "cohorts.csv")


@case("parquet-named-csv", "csv", Reject("cohorts.csv", None, None, "Parquet file"))
def _(d):
    frame(d, "cohorts").to_parquet(d / "x.parquet")
    (d / "x.parquet").replace(d / "cohorts.csv")


@case("gzip-named-csv", "csv", Reject("cohorts.csv", None, None, "gzip"))
def _(d):
    (d / "cohorts.csv").write_bytes(gzip.compress((d / "cohorts.csv").read_bytes()))


@case("old-excel-named-csv", "csv", Reject("cohorts.csv", None, None, "97-2003"))
def _(d):
    (d / "cohorts.csv").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))


@case("pdf-named-csv", "csv", Reject("employees.csv", None, None, "PDF"))
def _(d):
    (d / "employees.csv").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")


@case("folder-named-like-a-table", "csv", Reject("cohorts.csv", None, None, "a folder"))
def _(d):
    (d / "cohorts.csv").unlink()
    (d / "cohorts.csv").mkdir()
    (d / "cohorts.csv" / "part-0.csv").write_text("x\n1\n")


@case("named-pipe", "csv", Reject("cohorts.csv", None, None, "named pipe"))
def _(d):
    (d / "cohorts.csv").unlink()
    os.mkfifo(d / "cohorts.csv")


# ---- CSV: values accepted silently before -----------------------------------------------------
def _cell(table: str, pos: int, column: str, value: str):
    def build(d):
        df = frame(d, table)
        df.loc[pos, column] = value
        put(d, table, df)

    return build


for _id, _t, _pos, _col, _val, _rule in (
    ("salary-1e300", "employees", 3, "annual_salary", "1e300", "above the maximum"),
    ("salary-negative", "employees", 4, "annual_salary", "-5000", "below the minimum"),
    ("salary-infinite", "employees", 5, "annual_salary", "inf", "not a number"),
    ("rating-5000", "employees", 6, "performance_rating", "5000", "plausibility"),
    ("grade-other-spelling", "employees", 7, "level", "Level 4", "spelled in different ways"),
    ("grade-number-and-label", "employees", 8, "level", "4", "spelled in different ways"),
    ("hire-date-1900", "employees", 9, "hire_date", "1900-01-01", "hire date before"),
    ("hire-date-future", "employees", 10, "hire_date", "2027-01-04", "in the future"),
    ("birth-year-1800", "employees", 11, "birth_year", "1800", "implausible birth year"),
    ("skills-scale-1e9", "skills", 2, "scale_max", "1e9", "above the maximum"),
    ("outcome-value-1e20", "outcomes", 1, "value", "1e20", "above the maximum"),
    ("cadence-0", "cohorts", 0, "cadence_days", "0", "below the minimum"),
    ("session-600-plus", "sessions", 2, "duration_minutes", "100000", "above the maximum"),
):
    case(_id, "csv", Reject(f"{_t}.csv", _pos + 2, _col, _rule))(_cell(_t, _pos, _col, _val))


@case("hired-at-ten", "csv", Reject("employees.csv", 14, "hire_date", "minimum working age"))
def _(d):
    e = frame(d, "employees")
    e.loc[12, "hire_date"] = f"{int(e.loc[12, 'birth_year']) + 10}-06-01"
    e.loc[12, ["termination_date", "termination_type"]] = ""
    put(d, "employees", e)


GRADE_WORDS = ["Analyst", "Associate", "Manager", "Senior Manager", "Director", "VP", "SVP"]


def _word_grades(d: Path) -> int:
    """Grades as words; returns the first row of a grade other than the most common one."""
    e = frame(d, "employees")
    e["level"] = e["level"].map(dict(zip([f"L{i}" for i in range(1, 8)], GRADE_WORDS, strict=True)))
    put(d, "employees", e)
    common = e["level"].value_counts().index[0]
    return int(np.flatnonzero(e["level"].ne(common).to_numpy())[0]) + 2


case("word-grades-without-order", "csv", Reject("employees.csv", None, "level", "level_order"))(
    _word_grades
)


@case(
    "survey-scale-differs-in-item", "csv", Reject("surveys.csv", None, "scale_max", "scale differs")
)
def _(d):
    sv = frame(d, "surveys")
    sv["scale_min"] = ""
    sv["scale_max"] = ""
    eng1 = sv.index[(sv.survey == "engagement") & (sv.item == "eng1")]
    sv.loc[eng1[:5], ["scale_min", "scale_max", "value"]] = ["1", "100", "80"]
    put(d, "surveys", sv)
    return int(eng1[0]) + 2


@case("survey-unscaled-answer-1e6", "csv", Reject("surveys.csv", 2, "value", "plausibility"))
def _(d):
    sv = frame(d, "surveys")
    sv.loc[0, ["survey", "item", "value"]] = ["hours_online", "hours", "1000000"]
    put(d, "surveys", sv)


@case("pair-before-cohort", "csv", Reject("pairs.csv", 2, "start_date", "outside its cohort"))
def _(d):
    p = frame(d, "pairs")
    p.loc[0, "start_date"] = (pd.Timestamp(p.loc[0, "start_date"]) - pd.Timedelta(days=60)).date()
    put(d, "pairs", p)


@case("pair-after-cohort", "csv", Reject("pairs.csv", 3, "start_date", "outside its cohort"))
def _(d):
    p = frame(d, "pairs")
    c = frame(d, "cohorts")
    p.loc[1, "start_date"] = (pd.Timestamp(c.loc[0, "end_date"]) + pd.Timedelta(days=30)).date()
    p.loc[1, "end_date"] = ""
    put(d, "pairs", p)


@case(
    "pair-ends-long-after-cohort",
    "csv",
    Reject("pairs.csv", 4, "end_date", "after the end of its cohort"),
)
def _(d):
    p = frame(d, "pairs")
    c = frame(d, "cohorts")
    p.loc[2, "end_date"] = (pd.Timestamp(c.loc[0, "end_date"]) + pd.Timedelta(days=200)).date()
    put(d, "pairs", p)


@case("date-format-of-a-column", "csv", Reject("employees.csv", 2, "hire_date", "%d/%m/%Y"))
def _(d):
    e = frame(d, "employees")
    e["hire_date"] = pd.to_datetime(e["hire_date"]).dt.strftime("%d/%m/%Y")
    e.loc[0, "hire_date"] = "25/12/2015"
    put(d, "employees", e)


# ---- CSV: files that load, with nothing lost -------------------------------------------------
def _rows_equal(table: str, n: int | None = None):
    def check(pilot, d, base_pilot):
        want = len(getattr(base_pilot, table)) if n is None else n
        assert len(getattr(pilot, table)) == want

    return check


def _multi_line_kept(pilot, d, b):
    assert len(pilot.checkpoints) == len(b.checkpoints)
    assert pilot.checkpoints.wins.loc[4] == "Two wins:\nthe checklist, and the demo"


@case("multi-line-text-value", "csv", Loads(_multi_line_kept))
def _(d):
    cp = frame(d, "checkpoints")
    cp.loc[2, "wins"] = "Two wins:\nthe checklist, and the demo"
    put(d, "checkpoints", cp)


def _stray_quote_kept(pilot, d, b):
    assert len(pilot.cohorts) == len(b.cohorts)
    assert pilot.cohorts.name.iloc[0] == 'Cohort "Alpha'


@case("quote-inside-unquoted-value", "csv", Loads(_stray_quote_kept))
def _(d):
    c = frame(d, "cohorts")
    rows = lines(d, "cohorts")
    rows[1] = ",".join(c.iloc[0, :5]) + ',Cohort "Alpha'
    put_lines(d, "cohorts", rows)


def _doubled_quotes_kept(pilot, d, b):
    assert len(pilot.pairs) == len(b.pairs)
    assert pilot.pairs.goal.iloc[0] == 'Ship "v2", then rest'


@case("doubled-quotes", "csv", Loads(_doubled_quotes_kept))
def _(d):
    p = frame(d, "pairs")
    p.loc[0, "goal"] = 'Ship "v2", then rest'
    put(d, "pairs", p)


@case("crlf-line-ends", "csv", Loads(_rows_equal("employees")))
def _(d):
    (d / "employees.csv").write_bytes(text(d, "employees").replace("\n", "\r\n").encode())


@case("no-final-newline", "csv", Loads(_rows_equal("sessions")))
def _(d):
    (d / "sessions.csv").write_text(text(d, "sessions").rstrip("\n"))


def _blank_rows_counted(pilot, d, b):
    assert len(pilot.employees) == len(b.employees)
    q = pilot.quality
    blank = q[(q.table == "employees") & (q.check == "blank lines")]
    assert blank.rows.sum() == 2


@case("blank-lines", "csv", Loads(_blank_rows_counted))
def _(d):
    rows = lines(d, "employees")
    rows[3:3] = ["", "," * rows[0].count(",")]  # a blank line and a row of empty cells
    put_lines(d, "employees", rows)


@case("utf8-bom", "csv", Loads(_rows_equal("employees")))
def _(d):
    (d / "employees.csv").write_bytes(b"\xef\xbb\xbf" + (d / "employees.csv").read_bytes())


def _planned_leave(pilot, d, b):
    assert len(pilot.employees) == len(b.employees)
    q = pilot.quality.set_index("check")
    assert q.loc["planned termination after the analysis date", "rows"] == 1
    assert pilot.snapshot_date() == b.snapshot_date()  # 2031 does not become the analysis date


@case("termination-in-the-future", "csv", Loads(_planned_leave))
def _(d):
    e = frame(d, "employees")
    i = first_open_row(d)
    e.loc[i, ["termination_date", "termination_type"]] = ["2031-03-31", "other"]
    put(d, "employees", e)


def _grades_in_given_order(pilot, d, b):
    assert len(pilot.employees) == len(b.employees)
    assert list(pilot.employees.level.cat.categories) == GRADE_WORDS
    back = dict(zip(GRADE_WORDS, [f"L{i}" for i in range(1, 8)], strict=True))
    assert (
        pilot.employees.level.astype(str).map(back).tolist()
        == b.employees.level.astype(str).tolist()
    )


case(
    "word-grades-with-order",
    "csv",
    Loads(_grades_in_given_order),
    args=("--level-order", ",".join(GRADE_WORDS)),
)(_word_grades)


# ---- gzip ---------------------------------------------------------------------------------------
@case("gzip-truncated", "gzip", Reject("employees.csv.gz", None, None, "truncated"))
def _(d):
    gz = as_gzip(d, "employees")
    data = gz.read_bytes()
    gz.write_bytes(data[: len(data) // 2])


@case("gzip-damaged", "gzip", Reject("employees.csv.gz", None, None, "damaged"))
def _(d):
    gz = as_gzip(d, "employees")
    data = bytearray(gz.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 40):
        data[i] ^= 0xFF
    gz.write_bytes(bytes(data))


@case("gzip-not-compressed", "gzip", Reject("cohorts.csv.gz", None, None, "not gzip"))
def _(d):
    (d / "cohorts.csv").replace(d / "cohorts.csv.gz")


@case("gzip-of-nothing", "gzip", Reject("cohorts.csv.gz", None, None, "empty"))
def _(d):
    as_gzip(d, "cohorts", b"")


@case("gzip-quote-open", "gzip", Reject("checkpoints.csv.gz", 4, "wins", "quote opens"))
def _(d):
    rows = lines(d, "checkpoints")
    rows[3] = rows[3].rsplit(",", 1)[0] + ',"Positive feedback'
    as_gzip(d, "checkpoints", "\n".join(rows).encode())


@case("gzip-missing-field", "gzip", Reject("employees.csv.gz", 8, "name", "field"))
def _(d):
    rows = lines(d, "employees")
    rows[7] = rows[7].rsplit(",", 1)[0]
    as_gzip(d, "employees", "\n".join(rows).encode())


@case("gzip-header-case", "gzip", Reject("employees.csv.gz", 1, "department", "more than once"))
def _(d):
    e = frame(d, "employees")
    e["DEPARTMENT"] = e["department"]
    as_gzip(d, "employees", e.to_csv(index=False).encode())


@case(
    "gzip-salary-1e300", "gzip", Reject("employees.csv.gz", 5, "annual_salary", "above the maximum")
)
def _(d):
    e = frame(d, "employees")
    e.loc[3, "annual_salary"] = "1e300"
    as_gzip(d, "employees", e.to_csv(index=False).encode())


@case("gzip-valid", "gzip", Loads(_rows_equal("surveys")))
def _(d):
    as_gzip(d, "surveys")


@case("gzip-two-members", "gzip", Loads(_rows_equal("employees")))
def _(d):
    rows = text(d, "employees").split("\n")
    half = len(rows) // 2
    a = "\n".join(rows[:half]) + "\n"
    b = "\n".join(rows[half:])
    (d / "employees.csv").unlink()
    (d / "employees.csv.gz").write_bytes(gzip.compress(a.encode()) + gzip.compress(b.encode()))


# ---- Excel ----------------------------------------------------------------------------------------
def _xlsx_formula(d: Path, column: str, pos: int, formula: str, cached: str | None) -> None:
    """Put a formula in a cell of employees.xlsx, with or without a saved result."""
    from openpyxl import load_workbook

    path = as_xlsx(d, "employees")
    wb = load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[1]]
    ws.cell(row=pos + 2, column=header.index(column) + 1, value=formula)
    wb.save(path)
    if cached is None:
        return
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(
                    rb"(<f>[^<]*</f>)<v\s*/>", rb"\1<v>" + cached.encode() + b"</v>", data
                )
            zout.writestr(item, data)
    path.write_bytes(buf.getvalue())


@case("xlsx-formula-without-value", "xlsx", Reject("employees.xlsx", 7, "annual_salary", "formula"))
def _(d):
    _xlsx_formula(d, "annual_salary", 5, "=41200*1", None)


def _formula_value_kept(pilot, d, b):
    assert len(pilot.employees) == len(b.employees)
    assert pilot.employees.annual_salary.loc[7] == 41200


@case("xlsx-formula-with-value", "xlsx", Loads(_formula_value_kept))
def _(d):
    _xlsx_formula(d, "annual_salary", 5, "=41200*1", "41200")


@case("xlsx-two-headers-one-name", "xlsx", Reject("employees.xlsx", 1, "level", "more than once"))
def _(d):
    e = frame(d, "employees")
    e.insert(3, "level_copy", e["level"])
    e.columns = ["level" if c == "level_copy" else c for c in e.columns]
    as_xlsx(d, "employees", e)


@case("xlsx-header-case-differs", "xlsx", Reject("employees.xlsx", 1, "level", "more than once"))
def _(d):
    e = frame(d, "employees")
    e["Level"] = e["level"]
    as_xlsx(d, "employees", e)


@case(
    "xlsx-salary-1e300", "xlsx", Reject("employees.xlsx", 6, "annual_salary", "above the maximum")
)
def _(d):
    e = typed_employees(d)
    e.loc[4, "annual_salary"] = 1e300
    as_xlsx(d, "employees", e)


@case(
    "xlsx-grade-spelling", "xlsx", Reject("employees.xlsx", 3, "level", "spelled in different ways")
)
def _(d):
    e = frame(d, "employees")
    e.loc[1, "level"] = "Level 4"
    as_xlsx(d, "employees", e)


@case(
    "xlsx-missing-cell-in-required-column",
    "xlsx",
    Reject("cohorts.xlsx", 2, "start_date", "blank cell"),
)
def _(d):
    c = frame(d, "cohorts")
    c.loc[0, "start_date"] = ""
    as_xlsx(d, "cohorts", c)


@case("xlsx-is-csv-text", "xlsx", Reject("cohorts.xlsx", None, None, "name it cohorts.csv"))
def _(d):
    (d / "cohorts.csv").replace(d / "cohorts.xlsx")


@case("xlsx-empty-file", "xlsx", Reject("cohorts.xlsx", None, None, "empty"))
def _(d):
    (d / "cohorts.csv").unlink()
    (d / "cohorts.xlsx").write_bytes(b"")


@case("xlsx-binary-garbage", "xlsx", Reject("cohorts.xlsx", None, None, "not an Excel workbook"))
def _(d):
    (d / "cohorts.csv").unlink()
    (d / "cohorts.xlsx").write_bytes(np.random.default_rng(5).bytes(3000))


@case("xlsx-is-parquet", "xlsx", Reject("cohorts.xlsx", None, None, "Parquet"))
def _(d):
    frame(d, "cohorts").to_parquet(d / "cohorts.xlsx")
    (d / "cohorts.csv").unlink()


@case("xlsx-is-old-excel", "xlsx", Reject("cohorts.xlsx", None, None, "97-2003"))
def _(d):
    (d / "cohorts.csv").unlink()
    (d / "cohorts.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))


@case("xlsx-truncated", "xlsx", Reject("cohorts.xlsx", None, None, "cannot read"))
def _(d):
    path = as_xlsx(d, "cohorts")
    path.write_bytes(path.read_bytes()[:600])


@case("xlsx-empty-sheet", "xlsx", Reject("cohorts.xlsx", None, None, "sheet is empty"))
def _(d):
    as_xlsx(d, "cohorts", pd.DataFrame())


def _workbook(d: Path, edit: Callable) -> None:
    """Move the required tables into one workbook pilot.xlsx (a sheet per table), drop the
    others, and edit the workbook."""
    from openpyxl import load_workbook

    from rm_analytics.data.readers import write_tables

    tables = load_pilot(d, today=TODAY).tables
    for f in list(d.iterdir()):
        f.unlink()
    required = ("employees", "cohorts", "pairs")
    write_tables({t: tables[t] for t in required}, d / "pilot.xlsx", format="xlsx")
    wb = load_workbook(d / "pilot.xlsx")
    edit(wb)
    wb.save(d / "pilot.xlsx")


@case(
    "workbook-sheet-header-case", "xlsx", Reject("pilot.xlsx[cohorts]", 1, "name", "more than once")
)
def _(d):
    def edit(wb):
        ws = wb["cohorts"]
        ws.cell(row=1, column=ws.max_column + 1, value="NAME")

    _workbook(d, edit)


@case("workbook-sheet-formula", "xlsx", Reject("pilot.xlsx[pairs]", 3, "status", "formula"))
def _(d):
    def edit(wb):
        ws = wb["pairs"]
        header = [c.value for c in ws[1]]
        ws.cell(row=3, column=header.index("status") + 1, value='=LOWER("ACTIVE")')

    _workbook(d, edit)


# ---- Parquet --------------------------------------------------------------------------------------
@case(
    "parquet-header-case-differs",
    "parquet",
    Reject("employees.parquet", None, "level", "more than once"),
)
def _(d):
    e = typed_employees(d)
    e["LEVEL"] = e["level"]
    as_parquet(d, "employees", e)


@case(
    "parquet-same-name-twice", "parquet", Reject("cohorts.parquet", None, "name", "more than once")
)
def _(d):
    import pyarrow as pa
    import pyarrow.parquet as pq

    c = frame(d, "cohorts")
    (d / "cohorts.csv").unlink()
    arrays = [pa.array(c[col]) for col in c.columns] + [pa.array(c["name"])]
    pq.write_table(pa.table(arrays, names=[*c.columns, "name"]), d / "cohorts.parquet")


@case("parquet-list-column", "parquet", Reject("employees.parquet", 1, "department", "lists"))
def _(d):
    e = typed_employees(d)
    e["department"] = [[x, "Shared"] for x in e["department"]]
    as_parquet(d, "employees", e)


@case("parquet-struct-column", "parquet", Reject("employees.parquet", 1, "level", "structs"))
def _(d):
    e = typed_employees(d)
    e["level"] = [{"grade": x} for x in e["level"]]
    as_parquet(d, "employees", e)


@case("parquet-map-column", "parquet", Reject("cohorts.parquet", 1, "name", "maps"))
def _(d):
    import pyarrow as pa
    import pyarrow.parquet as pq

    c = frame(d, "cohorts")
    (d / "cohorts.csv").unlink()
    t = pa.Table.from_pandas(c.drop(columns="name"), preserve_index=False)
    names = pa.array([[("en", n)] for n in c["name"]], type=pa.map_(pa.string(), pa.string()))
    pq.write_table(t.append_column("name", names), d / "cohorts.parquet")


@case(
    "parquet-list-extra-column", "parquet", Reject("employees.parquet", 1, "skills_tags", "lists")
)
def _(d):
    e = typed_employees(d)
    e["skills_tags"] = [["excel"] for _ in range(len(e))]
    as_parquet(d, "employees", e)


@case(
    "parquet-truncated",
    "parquet",
    Reject("employees.parquet", None, None, "not a readable Parquet"),
)
def _(d):
    path = as_parquet(d, "employees", typed_employees(d))
    path.write_bytes(path.read_bytes()[:2000])


@case(
    "parquet-is-csv-text", "parquet", Reject("cohorts.parquet", None, None, "name it cohorts.csv")
)
def _(d):
    (d / "cohorts.csv").replace(d / "cohorts.parquet")


@case("parquet-empty-file", "parquet", Reject("cohorts.parquet", None, None, "empty"))
def _(d):
    (d / "cohorts.csv").unlink()
    (d / "cohorts.parquet").write_bytes(b"")


@case(
    "parquet-salary-1e300",
    "parquet",
    Reject("employees.parquet", 4, "annual_salary", "above the maximum"),
)
def _(d):
    e = typed_employees(d)
    e.loc[3, "annual_salary"] = 1e300
    as_parquet(d, "employees", e)


@case(
    "parquet-salary-infinite",
    "parquet",
    Reject("employees.parquet", 3, "annual_salary", "not a number"),
)
def _(d):
    e = typed_employees(d)
    e.loc[2, "annual_salary"] = np.inf
    as_parquet(d, "employees", e)


@case(
    "parquet-grade-spelling",
    "parquet",
    Reject("employees.parquet", 2, "level", "spelled in different ways"),
)
def _(d):
    e = typed_employees(d)
    e.loc[1, "level"] = "Level 4"
    as_parquet(d, "employees", e)


@case(
    "parquet-pair-before-cohort",
    "parquet",
    Reject("pairs.parquet", 1, "start_date", "outside its cohort"),
)
def _(d):
    p = frame(d, "pairs")
    for c in ("start_date", "end_date"):
        p[c] = pd.to_datetime(p[c].replace("", None))
    p.loc[0, "start_date"] -= pd.Timedelta(days=45)
    as_parquet(d, "pairs", p)


@case("parquet-termination-in-the-future", "parquet", Loads(_planned_leave))
def _(d):
    e = typed_employees(d)
    i = first_open_row(d)
    e.loc[i, "termination_date"] = pd.Timestamp("2031-03-31")
    e.loc[i, "termination_type"] = "other"
    as_parquet(d, "employees", e)


@case("parquet-valid", "parquet", Loads(_rows_equal("employees")))
def _(d):
    as_parquet(d, "employees", typed_employees(d))


# -- the corpus ------------------------------------------------------------------------------------
def test_the_corpus_covers_every_format():
    by_format = pd.Series([c.fmt for c in CASES]).value_counts()
    assert len(CASES) >= 60
    assert {"csv", "gzip", "xlsx", "parquet"} <= set(by_format.index)
    assert by_format.min() >= 8
    assert len({c.id for c in CASES}) == len(CASES)


def _mentions_row(message: str, row: int) -> bool:
    """The message names ``row`` ("row 6", "rows: 5, 6", "row 6 (line 9 ...)")."""
    return re.search(rf"\brows?\b[^\n]*?(?<![\d.]){row}(?![\d.])", message) is not None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, base, base_pilot, tmp_path, capsys):
    d = tmp_path / "pilot"
    shutil.copytree(base, d)
    row = case.build(d)
    code = run(["validate", "--data", str(d), "--today", TODAY, *case.args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "internal error" not in err
    if isinstance(case.expect, Loads):
        assert code == 0, err
        level = case.args[1].split(",") if case.args else None
        pilot = load_pilot(d, today=TODAY, level_order=level)
        case.expect.check(pilot, d, base_pilot)
        return
    e = case.expect if row is None else replace(case.expect, row=row)
    assert code == 2, f"exit {code}; stdout:\n{out}"
    assert err.startswith("rm-analytics validate: ")
    assert e.file in err
    if e.row is not None:
        assert _mentions_row(err, e.row), f"row {e.row} not in:\n{err}"
    if e.column is not None:
        assert f"'{e.column}'" in err or f"column {e.column!r}" in err, err
    # the same problem, structured: file, row and column exactly, and the rule
    with pytest.raises(DataValidationError) as info:
        load_pilot(d, today=TODAY)
    hits = [
        p
        for p in info.value.problems
        if p.file == e.file
        and (e.row is None or p.row == e.row)
        and (e.column is None or p.column == e.column)
        and e.rule in (p.rule + " " + (p.cause or ""))
    ]
    assert hits, "\n".join(map(str, info.value.problems))


# -- nothing lost, nothing kept unsaid: the examples of the issue ----------------------------------
def test_swallowed_rows_no_longer_change_a_figure(base, tmp_path):
    """The fast reader read every row after an open quote into one cell: 19 of 48 checkpoint
    rows were lost and "goal met" moved. Now the file is refused at the quote."""
    d = tmp_path / "pilot"
    shutil.copytree(base, d)
    rows = lines(d, "checkpoints")
    rows[3] = rows[3].rsplit(",", 1)[0] + ',"Positive feedback'
    put_lines(d, "checkpoints", rows)
    with pytest.raises(DataValidationError) as info:
        load_pilot(d, today=TODAY)
    (p,) = [p for p in info.value.problems if p.file == "checkpoints.csv"]
    assert (p.row, p.column) == (4, "wins")
    assert "end of the file" in p.rule


def test_problems_of_every_file_are_reported_together(base, tmp_path):
    d = tmp_path / "pilot"
    shutil.copytree(base, d)
    rows = lines(d, "employees")
    rows[5] = rows[5].rsplit(",", 1)[0]
    put_lines(d, "employees", rows)
    (d / "cohorts.csv").write_bytes(text(d, "cohorts").encode("utf-16-le"))
    _cell("sessions", 0, "duration_minutes", "100000")(d)
    with pytest.raises(DataValidationError) as info:
        load_pilot(d, today=TODAY)
    files = {p.file for p in info.value.problems}
    assert {"employees.csv", "cohorts.csv", "sessions.csv"} <= files
    df = info.value.to_frame()
    assert df.loc[df.file == "employees.csv", "row"].tolist() == [6]


def test_future_termination_leaves_every_retention_figure_unchanged(base, tmp_path):
    """A planned leave is not an exit: the mentor is employed at the analysis date."""
    from rm_analytics.metrics.retention import cohort_frame

    d = tmp_path / "pilot"
    shutil.copytree(base, d)
    before = load_pilot(d, today=TODAY)
    e = frame(d, "employees")
    staying = set(e.employee_id[e.termination_date.eq("")])
    mentor = next(m for m in before.pairs.mentor_id if m in staying)
    i = int(np.flatnonzero(e.employee_id.eq(mentor).to_numpy())[0])
    e.loc[i, ["termination_date", "termination_type"]] = ["2031-06-30", "voluntary"]
    put(d, "employees", e)
    after = load_pilot(d, today=TODAY)
    assert after.snapshot_date() == before.snapshot_date() <= pd.Timestamp(TODAY)
    cols = ["employee_id", "treated", "end_date", "duration", "event", "exit_type", "competing"]
    a = cohort_frame(after)[cols].reset_index(drop=True)
    b = cohort_frame(before)[cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    row = a.set_index("employee_id").loc[mentor]
    assert row.event == 0 and row.end_date == before.snapshot_date()


def test_analysis_date_after_today_is_an_input_error(base_pilot):
    from rm_analytics.errors import AnalysisDateError
    from rm_analytics.metrics.retention import cohort_frame

    with pytest.raises(AnalysisDateError, match="after today"):
        base_pilot.analysis_date("2099-01-01")
    with pytest.raises(AnalysisDateError, match="after today"):
        cohort_frame(base_pilot, as_of="2026-10-01")  # the pilot's today is 2026-09-30
    with pytest.raises(AnalysisDateError, match="not a date"):
        base_pilot.analysis_date("soon")
    assert base_pilot.analysis_date("2026-09-30") == pd.Timestamp("2026-09-30")
    assert base_pilot.analysis_date() == base_pilot.snapshot_date()


def test_report_as_of_in_the_future_exits_two(sample_dir, tmp_path, capsys):
    code = run(
        ["report", "--data", str(sample_dir), "--out", str(tmp_path / "r"), "--as-of", "2099-01-01"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "2099-01-01" in err and "after today" in err
    assert "Traceback" not in err
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_validate_today_that_is_not_a_date_exits_two(sample_dir, capsys):
    assert run(["validate", "--data", str(sample_dir), "--today", "someday"]) == 2
    assert "not a date" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["pilot.xlsx", "data"])
def test_data_path_that_is_a_named_pipe_exits_two(tmp_path, capsys, name):
    """``--data`` naming a pipe (as a workbook or as a folder) is refused before opening."""
    pipe = tmp_path / name
    os.mkfifo(pipe)
    assert run(["validate", "--data", str(pipe), "--today", TODAY]) == 2
    err = capsys.readouterr().err
    assert f"{name}: this is a named pipe" in err and "Traceback" not in err


def test_unreadable_file_exits_two(base, tmp_path, capsys, monkeypatch):
    """Permissions: as root every file is readable, so opening the file is made to fail the
    way it fails for a user without read permission."""
    import builtins

    d = tmp_path / "pilot"
    shutil.copytree(base, d)
    target = str(d / "cohorts.csv")
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if str(file) == target:
            raise PermissionError(13, "Permission denied", target)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    code = run(["validate", "--data", str(d), "--today", TODAY])
    err = capsys.readouterr().err
    assert code == 2
    assert "cohorts.csv" in err and "Permission denied" in err


# -- the real command in a subprocess ---------------------------------------------------------------
def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rm_analytics.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "case_id", ["named-pipe", "gzip-truncated", "parquet-list-column", "header-case-differs"]
)
def test_command_exits_two_without_traceback(case_id, base, tmp_path):
    """Exit code and stderr as a scheduler sees them; a named pipe must not block the run."""
    (c,) = [c for c in CASES if c.id == case_id]
    d = tmp_path / "pilot"
    shutil.copytree(base, d)
    c.build(d)
    res = _cli("validate", "--data", str(d), "--today", TODAY, timeout=120)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert c.expect.file in res.stderr and c.expect.rule in res.stderr


# -- DataFrames given directly (Pilot.from_frames) -------------------------------------------------
def test_frames_with_a_column_named_twice_or_lists_in_cells_are_refused(base_pilot):
    """The same rules when tables come from pandas (a notebook, a SQL query): a column named
    twice ignoring case, and cells holding lists, are problems with their column, not a crash."""
    from rm_analytics import Pilot

    frames = {t: base_pilot.tables[t].reset_index(drop=True) for t in ("cohorts", "pairs")}
    e = base_pilot.employees.reset_index(drop=True).copy()
    e["Level"] = e["level"]
    with pytest.raises(DataValidationError) as info:
        Pilot.from_frames(today=TODAY, employees=e, **frames)
    (p,) = [p for p in info.value.problems if p.file == "employees (DataFrame)"]
    assert p.column == "level" and "more than once" in p.rule

    e = base_pilot.employees.reset_index(drop=True).copy()
    e["department"] = e["department"].astype(object)
    e.at[3, "department"] = ["Sales", "Finance"]
    with pytest.raises(DataValidationError) as info:
        Pilot.from_frames(today=TODAY, employees=e, **frames)
    (p,) = [p for p in info.value.problems if p.column == "department"]
    assert (p.file, p.row) == ("employees (DataFrame)", 5) and "one value" in p.rule
