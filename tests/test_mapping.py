"""The mapping file: vendor exports (a Workday-style roster, a Qualtrics-style wide survey)
read as the data contract, with the same figures as the native files, and every mapping
mistake named with its file, line and entry (exit code 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from _vendor import (
    ITEMS,
    LEVELS,
    LEVELS_5,
    LIKERT,
    native_tables,
    other_surveys,
    read,
    wide_engagement,
    workday_roster,
)
from figures import assert_same_figures

from rm_analytics import DataValidationError, load_pilot
from rm_analytics.cli import run
from rm_analytics.data.mapping import MappingError, read_mapping

TODAY = "2026-09-30"
FOLDER_TABLES = (
    "cohorts",
    "pairs",
    "control",
    "sessions",
    "skills",
    "checkpoints",
    "outcomes",
    "interventions",
)

MAPPING = """\
# a Workday roster and a Qualtrics engagement pulse; the other tables are native files
tables:
  employees:
    file: Workday_Worker_Export.csv
    date_format: "%m/%d/%Y"
    columns: {employee_id: Employee ID, hire_date: Hire Date, termination_date: Termination Date,
              termination_type: Termination Reason, department: Supervisory Organization,
              level: Job Level, manager_id: Manager ID}
    values:
      termination_type:
        voluntary: [Resignation, Job Abandonment]
        involuntary: [Dismissal, Layoff]
        other: [Retirement, End of Contract]
    level_order: [Associate, Analyst, Senior Analyst, Manager, Senior Manager, Director, Vice President]
  surveys:
  - file: engagement_pulse.csv
    layout: wide
    survey: engagement
    respondent_id: ExternalReference
    response_date: EndDate
    wave: Wave
    pair_id: Pair
    items: {eng1: Q1_1, eng2: Q1_2, eng3: Q1_3, eng4: Q1_4, eng5: Q1_5}
    values: {Strongly disagree: 1, Disagree: 2, Neither agree nor disagree: 3, Agree: 4, Strongly agree: 5}
  - file: surveys_other.csv
"""


@pytest.fixture(scope="module")
def vendor(tmp_path_factory, sample_dir) -> Path:
    out = tmp_path_factory.mktemp("vendor")
    workday_roster(sample_dir, out, LEVELS)
    wide_engagement(sample_dir, out)
    other_surveys(sample_dir, out)
    native_tables(sample_dir, out, FOLDER_TABLES)
    (out / "rm-mapping.yaml").write_text(MAPPING)
    return out


@pytest.fixture
def work(vendor, tmp_path) -> Path:
    dst = tmp_path / "exports"
    shutil.copytree(vendor, dst)
    return dst


def edit(folder: Path, old: str, new: str) -> Path:
    path = folder / "rm-mapping.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def line_of(folder: Path, needle: str) -> int:
    lines = (folder / "rm-mapping.yaml").read_text().splitlines()
    exact = [i for i, ln in enumerate(lines, 1) if ln.strip() == needle.strip()]
    return exact[0] if exact else next(i for i, ln in enumerate(lines, 1) if needle in ln)


def cli_error(capsys, *argv) -> str:
    code = run(list(argv))
    err = capsys.readouterr().err
    assert code == 2, err
    return err


# -- the vendor exports give the native figures ----------------------------------------------
def test_vendor_exports_give_the_native_figures(vendor, sample_pilot):
    pilot = load_pilot(config=vendor / "rm-mapping.yaml", today=TODAY)
    e, n = pilot.employees, sample_pilot.employees
    assert e.termination_type.tolist() == n.termination_type.tolist()
    assert (e.hire_date.to_numpy() == n.hire_date.to_numpy()).all()
    assert e.level.cat.codes.tolist() == n.level.cat.codes.tolist()
    assert list(e.level.cat.categories) == list(LEVELS.values())
    assert len(pilot.surveys) == len(sample_pilot.surveys)
    # rows keep the roster's row numbers
    assert e.index[0] == 2
    assert_same_figures(pilot, sample_pilot)
    q = pilot.quality
    assert "wide export (engagement_pulse.csv)" in set(q.check)


def test_the_mapping_is_short(vendor):
    """The mapping replaces the 73 lines of pandas an analyst wrote for these exports."""
    lines = [ln for ln in MAPPING.splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(lines) <= 30


def test_cli_validate_with_config_only(vendor, capsys):
    assert run(["validate", "--config", str(vendor / "rm-mapping.yaml"), "--today", TODAY]) == 0
    out = capsys.readouterr().out
    assert "rm-mapping.yaml: valid." in out
    assert "Workday_Worker_Export.csv" in out


def test_check_pairs_with_config(vendor, capsys):
    code = run(["check-pairs", "--config", str(vendor / "rm-mapping.yaml")])
    assert code in (0, 3), capsys.readouterr().err


def test_data_overrides_the_folder_of_unnamed_tables(work, tmp_path, sample_dir):
    other = tmp_path / "native"
    other.mkdir()
    native_tables(sample_dir, other, FOLDER_TABLES)
    for t in FOLDER_TABLES:
        (work / f"{t}.csv").unlink()
    pilot = load_pilot(other, config=work / "rm-mapping.yaml", today=TODAY)
    assert len(pilot.pairs) == 36


def test_native_table_file_next_to_a_mapped_one_is_ignored_with_a_note(work, sample_dir):
    native_tables(sample_dir, work, ["employees"])
    pilot = load_pilot(config=work / "rm-mapping.yaml", today=TODAY)
    q = pilot.quality
    assert "not read: employees.csv" in set(q.check)
    assert pilot.sources["employees"] == "Workday_Worker_Export.csv"


# -- problems name the original file, row and header -------------------------------------------
def test_row_problems_name_the_vendor_file_row_and_header(work):
    roster = work / "Workday_Worker_Export.csv"
    e = pd.read_csv(roster, dtype=str, keep_default_na=False)
    e.loc[4, "Hire Date"] = "13/45/2020"
    e.to_csv(roster, index=False)
    wide = work / "engagement_pulse.csv"
    w = pd.read_csv(wide, dtype=str, keep_default_na=False)
    w.loc[9, "Q1_3"] = "9"
    w.to_csv(wide, index=False)
    with pytest.raises(DataValidationError) as info:
        load_pilot(config=work / "rm-mapping.yaml", today=TODAY)
    ps = info.value.problems
    date = next(p for p in ps if "not a date" in p.rule)
    assert (date.file, date.row, date.column) == ("Workday_Worker_Export.csv", 6, "Hire Date")
    scale = next(p for p in ps if "scale" in p.rule)
    assert (scale.file, scale.row, scale.column) == ("engagement_pulse.csv", 11, "Q1_3")


def test_duplicate_rows_name_rows_of_the_export(work):
    wide = work / "engagement_pulse.csv"
    w = pd.read_csv(wide, dtype=str, keep_default_na=False)
    pd.concat([w, w.iloc[[3]]]).to_csv(wide, index=False)
    with pytest.raises(DataValidationError) as info:
        load_pilot(config=work / "rm-mapping.yaml", today=TODAY)
    dup = [p for p in info.value.problems if "duplicate" in p.rule]
    assert len(dup) == 10  # five items, two rows each
    assert {p.file for p in dup} == {"engagement_pulse.csv"}
    assert {p.row for p in dup} == {5, len(w) + 2}
    assert any("row 5" in p.rule for p in dup if p.row == len(w) + 2)
    # one summary line per rule, not a line per duplicate
    text = str(info.value)
    assert text.count("rows break the rule: duplicate") == 1


def test_wrong_date_format_in_the_mapping_is_named_once_with_its_line(work):
    edit(work, 'date_format: "%m/%d/%Y"', 'date_format: "%d/%m/%Y"')
    with pytest.raises(DataValidationError) as info:
        load_pilot(config=work / "rm-mapping.yaml", today=TODAY)
    text = str(info.value)
    line = line_of(work, "date_format")
    assert f"rm-mapping.yaml, line {line} (tables.employees.date_format)" in text
    assert "'%m/%d/%Y'" in text
    assert len(text.splitlines()) < 12
    assert len(info.value.problems) > 500  # every row is still in .problems


def test_semicolon_file_is_one_problem_and_delimiter_reads_it(work):
    roster = work / "Workday_Worker_Export.csv"
    pd.read_csv(roster, dtype=str, keep_default_na=False).to_csv(roster, sep=";", index=False)
    with pytest.raises(DataValidationError) as info:
        load_pilot(config=work / "rm-mapping.yaml", today=TODAY)
    assert len(info.value.problems) == 1
    assert 'delimiter: ";"' in str(info.value)
    edit(
        work,
        "    file: Workday_Worker_Export.csv\n",
        '    file: Workday_Worker_Export.csv\n    delimiter: ";"\n',
    )
    assert len(load_pilot(config=work / "rm-mapping.yaml", today=TODAY).employees) == 1500


def test_latin1_file_with_encoding(work):
    roster = work / "Workday_Worker_Export.csv"
    e = pd.read_csv(roster, dtype=str, keep_default_na=False)
    e["Supervisory Organization"] = e["Supervisory Organization"] + " Zürich"
    roster.write_bytes(e.to_csv(index=False).encode("cp1252"))
    with pytest.raises(DataValidationError) as info:
        load_pilot(config=work / "rm-mapping.yaml", today=TODAY)
    assert "encoding: cp1252" in str(info.value)
    edit(
        work,
        "    file: Workday_Worker_Export.csv\n",
        "    file: Workday_Worker_Export.csv\n    encoding: cp1252\n",
    )
    pilot = load_pilot(config=work / "rm-mapping.yaml", today=TODAY)
    assert pilot.employees.department.str.endswith("Zürich").all()


def test_us_dates_without_a_format_are_one_root_cause_with_the_fix(work):
    edit(work, '    date_format: "%m/%d/%Y"\n', "")
    with pytest.raises(DataValidationError) as info:
        load_pilot(config=work / "rm-mapping.yaml", today=TODAY)
    text = str(info.value)
    assert "column 'Hire Date'" in text and "'%m/%d/%Y'" in text
    assert "date_format" in text
    # the unreadable termination dates do not cascade into termination_type problems
    assert not any("termination_date is blank" in p.rule for p in info.value.problems)


# -- sources of a wide survey ------------------------------------------------------------------
def test_fixed_wave_and_datetimes_with_a_format(work):
    wide = work / "engagement_pulse.csv"
    w = pd.read_csv(wide, dtype=str, keep_default_na=False)
    first = w[w.Wave == w.Wave.min()].copy()
    wave = first.Wave.iloc[0]
    first["EndDate"] = pd.to_datetime(first.EndDate).dt.strftime("%m/%d/%Y %I:%M %p")
    first.drop(columns="Wave").to_csv(wide, index=False)
    edit(
        work, "    wave: Wave\n", f"    wave: {{value: '{wave}'}}\n    date_format: \"%m/%d/%Y\"\n"
    )
    pilot = load_pilot(config=work / "rm-mapping.yaml", today=TODAY)
    eng = pilot.surveys[pilot.surveys.survey == "engagement"]
    assert set(eng.wave.astype(str)) == {wave}
    assert len(eng) == 5 * len(first)
    assert eng.response_date.notna().all()


def test_yes_and_no_labels_stay_text(tmp_path):
    (tmp_path / "m.yaml").write_text(
        "tables:\n  surveys:\n    file: s.csv\n    layout: wide\n    survey: feedback\n"
        "    respondent_id: id\n    response_date: d\n    wave: w\n    items: [recommend]\n"
        "    values: {Yes: 1, No: 0, On: 1}\n"
    )
    (tmp_path / "s.csv").write_text("id,d,w,recommend\n")
    m = read_mapping(tmp_path / "m.yaml")
    assert m.tables["surveys"][0].answers[None] == {"yes": 1.0, "no": 0.0, "on": 1.0}


# -- every mapping mistake: exit 2, the entry, the line, the real headers --------------------------
MISTAKES = [
    # (old text, new text, line marker, entry, expected words)
    (
        "termination_type: Termination Reason",
        "termination_type: Termination Reson",
        "termination_type: Termination Reson",
        "tables.employees.columns.termination_type",
        [
            "'Termination Reson' is not a column",
            "did you mean 'Termination Reason'",
            "'Employee ID'",
        ],
    ),
    (
        "other: [Retirement, End of Contract]",
        "other: [Retirement]",
        "termination_type:\n",
        "tables.employees.values.termination_type",
        ["'End of Contract'", "is not mapped", "column 'Termination Reason'"],
    ),
    (
        "Agree: 4, ",
        "",
        "values: {Strongly",
        "tables.surveys[0].values",
        ["answer 'Agree' is not mapped", "'Q1_1'"],
    ),
    (
        "Senior Manager, ",
        "",
        "level_order",
        "tables.employees.level_order",
        ["grade 'Senior Manager'", "not in level_order"],
    ),
    (
        "  employees:\n",
        "  employee:\n",
        "  employee:",
        "tables.employee",
        ["unknown table 'employee'", "did you mean 'employees'"],
    ),
    (
        "    layout: wide\n",
        "    layout: wide\n    colour: blue\n",
        "colour",
        "tables.surveys[0].colour",
        ["unknown key 'colour'"],
    ),
    (
        "level: Job Level",
        "grade: Job Level",
        "grade: Job Level",
        "tables.employees.columns.grade",
        ["'grade' is not a column of the employees table"],
    ),
    (
        "involuntary: [Dismissal, Layoff]",
        "fired: [Dismissal, Layoff]",
        "fired:",
        "tables.employees.values.termination_type.fired",
        ["'fired' is not a value of termination_type", "voluntary, involuntary, other"],
    ),
    (
        "file: Workday_Worker_Export.csv",
        "file: Workday_Worker_Exprt.csv",
        "Exprt",
        "tables.employees.file",
        ["no such file", "did you mean 'Workday_Worker_Export.csv'"],
    ),
    (
        "  - file: surveys_other.csv\n",
        "  - query: select * from surveys\n",
        "select * from surveys",
        "tables.surveys[1].query",
        ["needs a database", "source:"],
    ),
    (
        "    wave: Wave\n",
        "    wave: Wav\n",
        "wave: Wav",
        "tables.surveys[0].wave",
        ["did you mean the column 'Wave'", "{value: Wav}"],
    ),
    (
        "Q1_5}",
        "Q1_6}",
        "items:",
        "tables.surveys[0].items.eng5",
        ["'Q1_6' is not a column of engagement_pulse.csv", "'Q1_5'"],
    ),
    (
        'date_format: "%m/%d/%Y"',
        'date_format: "mm/dd/yyyy"',
        "date_format",
        "tables.employees.date_format",
        ["strftime codes"],
    ),
    (
        "other: [Retirement, End of Contract]",
        "other: [Retirement, End of Contract, Resignation]",
        "other: [",
        "tables.employees.values.termination_type.other",
        ["'Resignation' is mapped to both 'voluntary' and 'other'"],
    ),
    (
        "  - file: surveys_other.csv\n",
        "  - file: surveys_other.csv\n  control: {file: control.csv, layout: wide}\n",
        "control: {",
        "tables.control.layout",
        ["layout: wide is for surveys only"],
    ),
    (
        "    file: Workday_Worker_Export.csv\n",
        "    file: Workday_Worker_Export.csv\n    query: select 1\n",
        "  employees:",
        "tables.employees",
        ["exactly one of file:"],
    ),
    (
        "department: Supervisory Organization,\n",
        "\n",
        "  employees:",
        "tables.employees.columns",
        ["no column for the required 'department'", "did you mean 'Supervisory Organization'"],
    ),
    (
        "    survey: engagement\n",
        "    survey: engagement\n    survey: pulse\n",
        "survey: pulse",
        "tables.surveys[0].survey",
        ["given twice"],
    ),
    (
        "    layout: wide\n",
        "    layout: wide\n    items_: [\n",
        None,
        "",
        ["not valid YAML"],
    ),
]


@pytest.mark.parametrize(
    "old,new,marker,entry,words", MISTAKES, ids=[m[3] or "yaml" for m in MISTAKES]
)
def test_every_mapping_mistake_exits_2_naming_entry_and_line(
    work, capsys, old, new, marker, entry, words
):
    edit(work, old, new)
    err = cli_error(capsys, "validate", "--config", str(work / "rm-mapping.yaml"), "--today", TODAY)
    assert "problem" in err and "in the mapping file rm-mapping.yaml" in err
    if marker is not None:
        line = line_of(work, marker)
        assert f"rm-mapping.yaml, line {line} ({entry})" in err, err
    else:
        assert "rm-mapping.yaml, line " in err
    for w in words:
        assert w in err, err
    with pytest.raises(MappingError):
        load_pilot(config=work / "rm-mapping.yaml", today=TODAY)


def test_mistakes_in_check_pairs_and_report_exit_2(work, capsys, tmp_path):
    edit(work, "manager_id: Manager ID", "manager_id: Manager")
    err = cli_error(capsys, "check-pairs", "--config", str(work / "rm-mapping.yaml"))
    assert "'Manager' is not a column" in err and "'Manager ID'" in err
    err = cli_error(
        capsys, "report", "--config", str(work / "rm-mapping.yaml"), "--out", str(tmp_path / "r")
    )
    assert "tables.employees.columns.manager_id" in err


def test_missing_mapping_file_and_no_data(capsys, tmp_path):
    err = cli_error(capsys, "validate", "--config", str(tmp_path / "nope.yaml"))
    assert "no such mapping file" in err
    err = cli_error(capsys, "validate")
    assert "--data DIR" in err and "--config FILE" in err


# -- the issue's example, as written ---------------------------------------------------------
ISSUE_EXAMPLE = """\
source: postgresql://analytics@warehouse/hr   # optional: any SQLAlchemy URL (duckdb:///, sqlite:///, snowflake://)
tables:
  cohorts: {query: "select * from mentoring.cohorts"}     # with a source: a query per table
  employees:
    file: Workday_Worker_Export.csv
    date_format: "%m/%d/%Y"
    columns: {employee_id: Employee ID, hire_date: Hire Date, termination_date: Termination Date,
              termination_type: Termination Reason, department: Supervisory Organization,
              level: Job Level, manager_id: Manager ID}
    values:
      termination_type:
        voluntary: [Resignation, Job Abandonment]
        involuntary: [Dismissal, Layoff]
        other: [Retirement, End of Contract]
    level_order: [Associate, Analyst, Manager, Director, Vice President]
  surveys:                                  # a list: several exports make one table
  - file: engagement_pulse.csv
    layout: wide                            # one row per respondent (and wave), one column per item
    survey: engagement
    respondent_id: ExternalReference
    response_date: EndDate                  # date-times are read as their date
    wave: Wave                              # a column, or a fixed value
    pair_id: Pair                           # optional
    items: {eng1: Q1_1, eng2: Q1_2, eng3: Q1_3, eng4: Q1_4, eng5: Q1_5}
    values: {Strongly disagree: 1, Disagree: 2, Neither agree nor disagree: 3, Agree: 4, Strongly agree: 5}
"""


@pytest.fixture(scope="module")
def issue_example(tmp_path_factory, sample_dir) -> Path:
    """The example of the issue with a DuckDB warehouse in place of the PostgreSQL URL."""
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path_factory.mktemp("issue")
    workday_roster(sample_dir, out, LEVELS_5)
    wide_engagement(sample_dir, out)
    native_tables(
        sample_dir, out, ("pairs", "control", "sessions", "skills", "checkpoints", "outcomes")
    )
    con = duckdb.connect(str(out / "warehouse.duckdb"))
    con.execute("create schema mentoring")
    cohorts = read(sample_dir, "cohorts")  # noqa: F841 - read by duckdb by name
    con.execute("create table mentoring.cohorts as select * from cohorts")
    con.close()
    text = ISSUE_EXAMPLE.replace(
        "postgresql://analytics@warehouse/hr", "duckdb:///warehouse.duckdb"
    )
    (out / "rm-mapping.yaml").write_text(text)
    return out


def test_issue_example_validates(issue_example, sample_pilot, capsys):
    assert (
        run(["validate", "--config", str(issue_example / "rm-mapping.yaml"), "--today", TODAY]) == 0
    )
    assert 'query "select * from mentoring.cohorts"' in capsys.readouterr().out
    pilot = load_pilot(config=issue_example / "rm-mapping.yaml", today=TODAY)
    assert list(pilot.employees.level.cat.categories) == [
        "Associate",
        "Analyst",
        "Manager",
        "Director",
        "Vice President",
    ]
    assert pilot.cohorts.cohort_id.tolist() == sample_pilot.cohorts.cohort_id.tolist()
    eng = pilot.surveys
    native = sample_pilot.surveys[sample_pilot.surveys.survey == "engagement"]
    assert len(eng) == len(native)
    assert eng.value.sum() == native.value.sum()
    assert set(LIKERT) >= set(eng.value.astype(int))
    assert set(ITEMS) == set(eng["item"].astype(str))


@pytest.mark.slow
def test_issue_example_reports(issue_example, tmp_path):
    import json

    out = tmp_path / "reports"
    assert (
        run(
            [
                "report",
                "--config",
                str(issue_example / "rm-mapping.yaml"),
                "--out",
                str(out),
                "--quiet",
                "--today",
                TODAY,
            ]
        )
        == 0
    )
    manifest = json.loads((out / "sponsor-report.manifest.json").read_text())
    assert manifest["parameters"]["config"].endswith("rm-mapping.yaml")
    inputs = manifest["inputs"]
    assert "Workday_Worker_Export.csv" in inputs["files"] and "rm-mapping.yaml" in inputs["files"]
    assert inputs["queries"][0]["query"] == "select * from mentoring.cohorts"
    metrics = json.loads((out / "sponsor-report.metrics.json").read_text())
    assert metrics
