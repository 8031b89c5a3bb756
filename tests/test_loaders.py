"""Every validation rule of the data contract, each triggered by a bad file.

Each test breaks one cell (or the file) of a small valid dataset and asserts that the single
``DataValidationError`` names the file, the row as a person counts it (header = row 1) and the
column, and keeps the bad value.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from rm_analytics import DataValidationError, load_pilot
from rm_analytics.data.synthetic import generate

TODAY = "2026-09-30"


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory) -> Path:
    data = generate(n_employees=300, n_cohorts=1, pairs_per_cohort=4, seed=7)
    out = tmp_path_factory.mktemp("small")
    data.write(out)
    return out


@pytest.fixture
def work(small_dir, tmp_path) -> Path:
    dst = tmp_path / "pilot"
    shutil.copytree(small_dir, dst)
    return dst


def read(d: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)


def write(d: Path, table: str, df: pd.DataFrame) -> None:
    df.to_csv(d / f"{table}.csv", index=False)


def set_cell(d: Path, table: str, pos: int, column: str, value: str) -> int:
    """Change one cell; returns the row number a person sees in the file."""
    df = read(d, table)
    df.loc[pos, column] = value
    write(d, table, df)
    return pos + 2


def problems(d: Path, **kw) -> list:
    with pytest.raises(DataValidationError) as info:
        load_pilot(d, today=TODAY, **kw)
    return info.value.problems


def find(ps, *, file, row=None, column=None, rule):
    hits = [
        p
        for p in ps
        if p.file == file
        and (row is None or p.row == row)
        and (column is None or p.column == column)
        and rule in p.rule
    ]
    assert hits, (
        f"no problem with file={file} row={row} column={column} rule~{rule!r}: "
        + "\n".join(map(str, ps))
    )
    return hits[0]


def test_sample_is_valid_and_complete(sample_pilot):
    assert set(sample_pilot.tables) == {
        "employees",
        "cohorts",
        "pairs",
        "control",
        "sessions",
        "surveys",
        "skills",
        "checkpoints",
        "outcomes",
        "interventions",
    }
    q = sample_pilot.quality
    assert (q.loc[q.check == "rows read", "rows"] > 0).all()


def test_small_dataset_loads(small_dir):
    pilot = load_pilot(small_dir, today=TODAY)
    assert len(pilot.pairs) == 4
    assert pilot.employees.index[0] == 2  # index = file row number


# -- single-cell rules ----------------------------------------------------------------------
CELL_CASES = [
    # table, column, bad value, expected rule fragment
    ("employees", "hire_date", "2019-13-45", "not a date"),
    ("employees", "hire_date", "2024-01", "not a date"),
    ("employees", "annual_salary", "forty thousand", "not a number"),
    ("employees", "birth_year", "1890", "implausible birth year"),
    ("employees", "hire_date", "2030-01-01", "hire date in the future"),
    ("employees", "termination_type", "fired", "not one of"),
    ("employees", "hire_date", "", "blank cell in a required column"),
    ("cohorts", "planned_sessions", "-3", "below the minimum"),
    ("pairs", "status", "ongoing", "not one of"),
    ("pairs", "cohort_id", "C99", "unknown cohort_id"),
    ("pairs", "mentor_id", "E999999", "unknown employee_id"),
    ("sessions", "pair_id", "C01-P99", "unknown pair_id"),
    ("sessions", "date", "2027-01-01", "session date in the future"),
    ("sessions", "date", "2019-01-01", "outside the plausible window"),
    ("sessions", "status", "postponed", "not one of"),
    ("skills", "score", "11", "outside the scale"),
    ("skills", "phase", "middle", "not one of"),
    ("checkpoints", "progress", "6", "above the maximum"),
    ("checkpoints", "pair_id", "C01-P77", "unknown pair_id"),
    ("control", "employee_id", "E888888", "unknown employee_id"),
]


@pytest.mark.parametrize(("table", "column", "value", "rule"), CELL_CASES)
def test_cell_rule(work, table, column, value, rule):
    row = set_cell(work, table, 0, column, value)
    p = find(problems(work), file=f"{table}.csv", row=row, column=column, rule=rule)
    if value:
        assert p.value == value
    assert f"{table}.csv" in str(p) and f"row {row}" in str(p) and repr(column) in str(p)


def test_survey_value_outside_likert_scale(work):
    sv = read(work, "surveys")
    pos = int(sv.index[(sv.survey == "engagement")][0])
    row = set_cell(work, "surveys", pos, "value", "6")
    p = find(
        problems(work),
        file="surveys.csv",
        row=row,
        column="value",
        rule="outside the item's scale 1 to 5",
    )
    assert p.value == "6"


def test_survey_psych_safety_uses_seven_points_and_row_override(work):
    sv = read(work, "surveys")
    ps = sv.index[sv.survey == "psych_safety"]
    set_cell(work, "surveys", int(ps[0]), "value", "7")  # fine on the 7-point scale
    sv = read(work, "surveys")
    sv["scale_min"] = ""
    sv["scale_max"] = ""
    # the 5-point variant of one item: every row of the item carries the override
    item = sv.item == sv.loc[int(ps[1]), "item"]
    variant = (sv.survey == "psych_safety") & item
    sv.loc[variant, ["scale_min", "scale_max"]] = ["1", "5"]
    capped = pd.to_numeric(sv.loc[variant, "value"]).clip(upper=5)
    sv.loc[variant, "value"] = capped.map(lambda v: "" if pd.isna(v) else f"{v:g}")
    assert int(ps[0]) not in sv.index[variant]
    sv.loc[int(ps[1]), "value"] = "6"
    write(work, "surveys", sv)
    ps_ = problems(work)
    assert len(ps_) == 1
    find(
        ps_,
        file="surveys.csv",
        row=int(ps[1]) + 2,
        column="value",
        rule="outside the item's scale 1 to 5",
    )


def test_survey_number_and_yes_no_items(work):
    sv = read(work, "surveys")
    num = int(sv.index[sv.survey == "engagement"][0])
    rec = int(sv.index[sv["item"] == "recommend"][0])
    r1 = set_cell(work, "surveys", num, "value", "agree")
    r2 = set_cell(work, "surveys", rec, "value", "maybe")
    ps = problems(work)
    find(ps, file="surveys.csv", row=r1, column="value", rule="not a number")
    find(ps, file="surveys.csv", row=r2, column="value", rule="yes/no")


def test_free_text_survey_answers_are_kept_as_text(sample_pilot):
    sv = sample_pilot.surveys
    text = sv[sv["item"].isin(["worked", "improve"])]
    assert len(text) > 0 and text["value"].isna().all() and text["text"].notna().any()


# -- cross-column and cross-table rules -----------------------------------------------------
def test_termination_before_hire(work):
    e = read(work, "employees")
    pos = int(e.index[e.termination_date == ""][0])
    e.loc[pos, ["hire_date", "termination_date", "termination_type"]] = [
        "2020-05-01",
        "2019-05-01",
        "voluntary",
    ]
    write(work, "employees", e)
    find(
        problems(work),
        file="employees.csv",
        row=pos + 2,
        column="termination_date",
        rule="termination before hire",
    )


def test_termination_type_required_and_consistent(work):
    e = read(work, "employees")
    left = int(e.index[e.termination_date != ""][0])
    stays = int(e.index[e.termination_date == ""][0])
    e.loc[left, "termination_type"] = ""
    e.loc[stays, "termination_type"] = "voluntary"
    write(work, "employees", e)
    ps = problems(work)
    find(
        ps,
        file="employees.csv",
        row=left + 2,
        column="termination_type",
        rule="required when termination_date",
    )
    find(
        ps,
        file="employees.csv",
        row=stays + 2,
        column="termination_type",
        rule="termination_date is blank",
    )


def test_duplicate_employee_id(work):
    e = read(work, "employees")
    e.loc[5, "employee_id"] = e.loc[3, "employee_id"]
    write(work, "employees", e)
    p = find(
        problems(work),
        file="employees.csv",
        row=7,
        column="employee_id",
        rule="duplicate employee_id",
    )
    assert "first on row 5" in p.rule
    # the first row of the set names the next one, not itself
    first = find(problems(work), file="employees.csv", row=5, column="employee_id", rule="")
    assert first.rule == "duplicate employee_id (also on row 7)"


def test_own_manager(work):
    e = read(work, "employees")
    e.loc[4, "manager_id"] = e.loc[4, "employee_id"]
    write(work, "employees", e)
    find(problems(work), file="employees.csv", row=6, column="manager_id", rule="own manager")


def test_cohort_ends_before_start(work):
    row = set_cell(work, "cohorts", 0, "end_date", "2020-01-01")
    find(
        problems(work),
        file="cohorts.csv",
        row=row,
        column="end_date",
        rule="cohort ends before it starts",
    )


def test_mentor_is_mentee(work):
    p = read(work, "pairs")
    p.loc[1, "mentee_id"] = p.loc[1, "mentor_id"]
    write(work, "pairs", p)
    find(problems(work), file="pairs.csv", row=3, column="mentee_id", rule="same person")


def test_same_person_in_two_pairs_of_a_cohort(work):
    p = read(work, "pairs")
    p.loc[2, "mentor_id"] = p.loc[0, "mentor_id"]
    write(work, "pairs", p)
    hit = find(problems(work), file="pairs.csv", row=4, rule="two pairs of cohort")
    assert "also row 2" in hit.rule


def test_reshuffled_pair_may_be_followed_by_a_new_pair(work):
    p = read(work, "pairs")
    start = pd.Timestamp(read(work, "cohorts").start_date[0])
    switch = (start + pd.Timedelta(days=28)).strftime("%Y-%m-%d")
    restart = (start + pd.Timedelta(days=29)).strftime("%Y-%m-%d")
    new = p.loc[0].copy()
    new["pair_id"] = "C01-P90"
    new["mentee_id"] = p.loc[1, "mentee_id"]
    new["start_date"] = restart
    p.loc[0, ["status", "end_date"]] = ["reshuffled", switch]
    p.loc[1, ["status", "end_date"]] = ["withdrawn", switch]
    write(work, "pairs", pd.concat([p, new.to_frame().T], ignore_index=True))
    pilot = load_pilot(work, today=TODAY)  # no problem: both earlier pairs ended first
    assert len(pilot.pairs) == 5
    p = read(work, "pairs")
    p.loc[0, "status"] = "active"  # the earlier pair did not close: now it is a problem
    write(work, "pairs", p)
    find(problems(work), file="pairs.csv", row=6, rule="two pairs of cohort")


def test_pair_member_not_employed_at_start(work):
    e = read(work, "employees")
    p = read(work, "pairs")
    pos = int(e.index[e.employee_id == p.loc[0, "mentee_id"]][0])
    e.loc[pos, ["termination_date", "termination_type"]] = ["2015-01-01", "voluntary"]
    e.loc[pos, "hire_date"] = min(e.loc[pos, "hire_date"], "2014-01-01")
    write(work, "employees", e)
    find(
        problems(work),
        file="pairs.csv",
        row=2,
        column="mentee_id",
        rule="not employed on the pair's start date",
    )


def test_pair_ends_before_start(work):
    row = set_cell(work, "pairs", 0, "end_date", "2000-01-01")
    find(
        problems(work),
        file="pairs.csv",
        row=row,
        column="end_date",
        rule="pair ends before it starts",
    )


def test_control_person_is_a_participant(work):
    c = read(work, "control")
    p = read(work, "pairs")
    c.loc[0, "employee_id"] = p.loc[0, "mentor_id"]
    c.loc[0, "cohort_id"] = p.loc[0, "cohort_id"]
    write(work, "control", c)
    find(
        problems(work),
        file="control.csv",
        row=2,
        column="employee_id",
        rule="also a mentor or mentee",
    )


def test_held_session_needs_duration(work):
    s = read(work, "sessions")
    pos = int(s.index[s.status == "held"][0])
    row = set_cell(work, "sessions", pos, "duration_minutes", "0")
    find(
        problems(work),
        file="sessions.csv",
        row=row,
        column="duration_minutes",
        rule="duration above 0",
    )


def test_skills_scale_min_above_max(work):
    row = set_cell(work, "skills", 0, "scale_min", "20")
    find(problems(work), file="skills.csv", row=row, column="scale_max", rule="above scale_min")


def test_goal_met_only_at_endpoint(work):
    cp = read(work, "checkpoints")
    pos = int(cp.index[cp.checkpoint == "week6"][0])
    row = set_cell(work, "checkpoints", pos, "goal_met", "yes")
    find(problems(work), file="checkpoints.csv", row=row, column="goal_met", rule="endpoint only")


def test_outcome_needs_a_subject(work):
    o = read(work, "outcomes")
    o.loc[0, ["employee_id", "pair_id", "unit"]] = ["", "", ""]
    write(work, "outcomes", o)
    find(
        problems(work), file="outcomes.csv", row=2, rule="names an employee_id, a pair_id or a unit"
    )


def test_survey_key_duplicates(work):
    sv = read(work, "surveys")
    sv = pd.concat([sv, sv.iloc[[0]]], ignore_index=True)
    write(work, "surveys", sv)
    p = find(
        problems(work), file="surveys.csv", row=len(sv) + 1, rule="duplicate row (first on row 2;"
    )
    assert "respondent_id" in p.column
    find(
        problems(work), file="surveys.csv", row=2, rule=f"duplicate row (also on row {len(sv) + 1};"
    )


# -- whole-file rules -----------------------------------------------------------------------
def test_missing_required_column(work):
    e = read(work, "employees").drop(columns=["hire_date"])
    write(work, "employees", e)
    p = find(
        problems(work),
        file="employees.csv",
        row=1,
        column="hire_date",
        rule="required column is missing",
    )
    assert "employee_id" in p.rule  # lists the columns found


def test_header_alias_and_extra_columns_are_kept(work):
    c = read(work, "cohorts").rename(columns={"cadence_days": "Planned Cadence Days"})
    c["sponsor"] = "CEO office"
    write(work, "cohorts", c)
    pilot = load_pilot(work, today=TODAY)
    assert "cadence_days" in pilot.cohorts and pilot.cohorts["sponsor"].iloc[0] == "CEO office"
    assert pilot.extra_columns["cohorts"] == ["sponsor"]


def test_missing_required_table(work):
    (work / "pairs.csv").unlink()
    p = find(problems(work), file="pairs.csv", rule="required table 'pairs' is missing")
    assert p.row is None


def test_empty_file(work):
    (work / "sessions.csv").write_bytes(b"")
    find(problems(work), file="sessions.csv", rule="empty")


def test_header_only_required_table(work):
    (work / "cohorts.csv").write_text(
        "cohort_id,start_date,end_date,cadence_days,planned_sessions\n"
    )
    ps = problems(work)
    find(ps, file="cohorts.csv", rule="header but no rows")


def test_utf8_bom_is_accepted(work):
    raw = (work / "employees.csv").read_bytes()
    (work / "employees.csv").write_bytes(b"\xef\xbb\xbf" + raw)
    assert len(load_pilot(work, today=TODAY).employees) == 300


def test_utf16_file_is_rejected_with_the_encoding_named(work):
    text = (work / "cohorts.csv").read_text(encoding="utf-8")
    (work / "cohorts.csv").write_bytes(text.encode("utf-16"))
    p = find(problems(work), file="cohorts.csv", rule="UTF-16")
    assert "UTF-8" in p.rule


def test_cp1252_file_is_rejected_with_line_and_guess(work):
    c = read(work, "cohorts")
    c["name"] = "Coh\u00f6rt M\u00fcnchen"
    (work / "cohorts.csv").write_bytes(c.to_csv(index=False).encode("cp1252"))
    p = find(problems(work), file="cohorts.csv", rule="UTF-8")
    assert p.row == 2 and ("1252" in p.rule or "Latin" in p.rule)


def test_duplicate_header(work):
    text = (work / "cohorts.csv").read_text()
    lines = text.splitlines()
    lines[0] = lines[0] + ",cohort_id"
    lines[1:] = [line + ",X" for line in lines[1:]]
    (work / "cohorts.csv").write_text("\n".join(lines) + "\n")
    find(problems(work), file="cohorts.csv", row=1, column="cohort_id", rule="more than once")


def test_two_files_for_one_table(work):
    shutil.copy(work / "cohorts.csv", work / "cohorts.csv.gz")
    find(problems(work), file="cohorts.csv, cohorts.csv.gz", rule="more than one file")


def test_blank_lines_are_counted_not_silently_dropped(work):
    text = (work / "cohorts.csv").read_text()
    (work / "cohorts.csv").write_text(text + "\n,,,,,\n")
    pilot = load_pilot(work, today=TODAY)
    q = pilot.quality
    blank = q[(q.table == "cohorts") & q.check.str.contains("blank")]
    assert blank.rows.sum() >= 1


def test_every_problem_reported_at_once(work):
    set_cell(work, "employees", 0, "hire_date", "yesterday")
    set_cell(work, "pairs", 0, "status", "ongoing")
    set_cell(work, "sessions", 0, "duration_minutes", "abc")
    ps = problems(work)
    assert {p.file for p in ps} >= {"employees.csv", "pairs.csv", "sessions.csv"}


def test_message_truncates_but_problems_keep_everything(work):
    e = read(work, "employees")
    e["hire_date"] = "soon"
    write(work, "employees", e)
    with pytest.raises(DataValidationError) as info:
        load_pilot(work, today=TODAY)
    err = info.value
    bad_dates = [p for p in err.problems if p.column == "hire_date" and "not a date" in p.rule]
    assert len(bad_dates) == 300
    # one root cause (the column is not dates), named once, with the first rows
    assert "290 more row(s)" in str(err)
    assert len(str(err).splitlines()) == 3
    frame = err.to_frame()
    assert list(frame.columns) == ["file", "row", "column", "value", "rule", "cause"]
    assert isinstance(err, ValueError)


def test_non_iso_dates_with_explicit_format(work):
    c = read(work, "cohorts")
    for col in ("start_date", "end_date"):
        c[col] = pd.to_datetime(c[col]).dt.strftime("%d/%m/%Y")
    write(work, "cohorts", c)
    ps = problems(work)
    find(ps, file="cohorts.csv", row=2, column="start_date", rule="not a date")
    # with the format, those cells parse; ISO dates elsewhere then fail, so convert all tables
    tables = ("employees", "pairs", "sessions", "surveys", "skills", "checkpoints", "outcomes")
    for table in (*tables, "interventions"):
        df = read(work, table)
        for col in [x for x in df.columns if x.endswith("date")]:
            ok = df[col] != ""
            df.loc[ok, col] = pd.to_datetime(df.loc[ok, col]).dt.strftime("%d/%m/%Y")
        write(work, table, df)
    pilot = load_pilot(work, today=TODAY, date_format="%d/%m/%Y")
    assert pilot.cohorts.start_date.dt.year.iloc[0] >= 2020


# -- other formats and the round trip --------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_round_trip_gives_identical_frames(sample_pilot, small_dir, tmp_path, fmt):
    # Excel writing is slow (openpyxl): round-trip the small pilot there, the sample elsewhere
    original = load_pilot(small_dir, today=TODAY) if fmt == "xlsx" else sample_pilot
    original.save(tmp_path, format=fmt)
    again = load_pilot(tmp_path, today=TODAY)
    assert set(again.tables) == set(original.tables)
    for name, frame in original.tables.items():
        got = again.tables[name]
        if fmt == "parquet":  # Parquet has no header row: its first record is row 1, not 2
            assert got.index[0] == 1
            got = got.set_axis(frame.index)
        pd.testing.assert_frame_equal(got, frame, obj=name)


def test_parquet_with_typed_or_text_columns_loads_the_same(sample_pilot, tmp_path):
    """Parquet is written typed (timestamps, booleans); a Parquet export with the dates and
    yes/no values as text loads to the same frames."""
    from rm_analytics.data.readers import to_contract_frame

    sample_pilot.save(tmp_path / "typed", format="parquet")
    emp = pd.read_parquet(tmp_path / "typed" / "employees.parquet")
    assert pd.api.types.is_datetime64_any_dtype(emp.hire_date)
    text = tmp_path / "text"
    text.mkdir()
    for name, frame in sample_pilot.tables.items():
        to_contract_frame(name, frame).to_parquet(text / f"{name}.parquet", index=False)
    assert not pd.api.types.is_datetime64_any_dtype(
        pd.read_parquet(text / "employees.parquet").hire_date
    )
    typed, plain = load_pilot(tmp_path / "typed"), load_pilot(text)
    for name, frame in typed.tables.items():
        pd.testing.assert_frame_equal(plain.tables[name], frame, obj=name)


def test_parquet_row_numbers_and_type_errors(work, tmp_path):
    pilot_dir = tmp_path / "pq"
    load_pilot(work, today=TODAY).save(pilot_dir, format="parquet")
    c = pd.read_parquet(pilot_dir / "cohorts.parquet")
    c["planned_sessions"] = c["planned_sessions"].astype(object)
    c.loc[0, "planned_sessions"] = "twelve"
    c.to_parquet(pilot_dir / "cohorts.parquet")
    find(
        problems(pilot_dir), file="cohorts.parquet", column="planned_sessions", rule="not a number"
    )


def test_workbook_rows_name_the_sheet(work, tmp_path):
    from openpyxl import load_workbook

    from rm_analytics.data.readers import write_tables

    tables = load_pilot(work, today=TODAY).tables
    write_tables(
        {t: tables[t] for t in ("employees", "cohorts", "pairs")}, tmp_path / "x", format="xlsx"
    )
    book = tmp_path / "pilot.xlsx"
    shutil.move(next((tmp_path / "x").glob("*.xlsx")), book)
    wb = load_workbook(book)
    ws = wb["pairs"]
    header = [c.value for c in ws[1]]
    ws.cell(row=3, column=header.index("status") + 1, value="ongoing")
    wb.save(book)
    find(problems(book), file="pilot.xlsx[pairs]", row=3, column="status", rule="not one of")


def test_pulse_waves_keep_their_order_across_cohorts(sample_pilot):
    """Two cohorts a year apart: pooled median dates would put endpoint before midpoint."""
    order = [w for w in sample_pilot.surveys.wave.cat.categories if not w[0].isdigit()]
    assert order == ["baseline", "midpoint", "endpoint"]
    dates = [w for w in sample_pilot.surveys.wave.cat.categories if w[0].isdigit()]
    assert dates == sorted(dates)


def test_trimmed_check_agrees_with_strip():
    """The one-scan check of distinct values equals ``v.strip() == v != ""`` for every value,
    including every Unicode whitespace character at either end; a value holding the NUL
    separator may only be sent to the exact path (False), never passed as clean."""
    import sys

    from rm_analytics.data.validation import _all_trimmed

    spaces = [chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace()]
    cases = [[], ["a", "b"], ["a", "", "b"], ["x y"], ["E1", "E2 "], ["a\x00", "b"]]
    cases += [["ok", f"{w}id"] for w in spaces] + [["ok", f"id{w}"] for w in spaces]
    for values in cases:
        expected = all(v.strip() == v != "" for v in values)
        if "\x00" in "".join(values):
            assert not _all_trimmed(values)
        else:
            assert _all_trimmed(values) == expected, values
