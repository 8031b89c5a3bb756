"""One set of load options for every command that reads a pilot (validate, report,
check-pairs), and grade labels without numbers need their order in every one of them."""

from __future__ import annotations

import pandas as pd
import pytest

from rm_analytics.cli import run
from rm_analytics.data.contract import TABLES
from rm_analytics.report.collector import read_metrics

WORDS = {
    "L1": "Analyst",
    "L2": "Associate",
    "L3": "Manager",
    "L4": "Senior Manager",
    "L5": "Director",
    "L6": "Vice President",
    "L7": "Executive",
}
ORDER = ",".join(WORDS.values())


@pytest.fixture(scope="module")
def exported(tmp_path_factory, sample_dir):
    """The sample as an HRIS would export it: word grades and day/month/year dates."""
    out = tmp_path_factory.mktemp("export")
    for f in sample_dir.glob("*.csv"):
        name = f.name[: -len(".csv")]
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        for col in TABLES[name].columns:
            if col.kind == "date" and col.name in df:
                d = pd.to_datetime(df[col.name].replace("", None))
                df[col.name] = d.dt.strftime("%d/%m/%Y").fillna("")
        if name == "employees":
            df["level"] = df.level.map(WORDS)
        df.to_csv(out / f.name, index=False)
    return out


@pytest.mark.parametrize("command", ["validate", "report", "check-pairs"])
def test_word_grades_without_an_order_exit_2_asking_for_it(exported, tmp_path, capsys, command):
    extra = ["--out", str(tmp_path / "out")] if command == "report" else []
    code = run([command, "--data", str(exported), "--date-format", "%d/%m/%Y", *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    # file, column, row, value and rule (grouped by rule, each label at its first row)
    assert "employees.csv" in err and "column 'level'" in err
    assert "row 2" in err and "'Associate'" in err and "'Vice President'" in err
    assert "grade label without a number" in err and "--level-order" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("command", ["validate", "check-pairs"])
def test_every_command_takes_the_same_load_options(exported, capsys, command):
    args = ["--data", str(exported), "--date-format", "%d/%m/%Y", "--level-order", ORDER]
    code = run([command, *args, "--today", "2026-09-30"])
    out = capsys.readouterr()
    assert code == (0 if command == "validate" else 3), out.err  # the sample plants a conflict
    assert "Traceback" not in out.err


@pytest.mark.slow
def test_report_of_the_export_equals_the_report_of_the_sample(exported, sample_dir, tmp_path):
    """Read with its date format and grade order, the export gives the sample's figures."""
    args = ["--date-format", "%d/%m/%Y", "--level-order", ORDER, "--quiet"]
    assert run(["report", "--data", str(exported), "--out", str(tmp_path / "a"), *args]) == 0
    assert run(["report", "--data", str(sample_dir), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    a = read_metrics(tmp_path / "a" / "sponsor-report.metrics.json")
    b = read_metrics(tmp_path / "b" / "sponsor-report.metrics.json")
    assert a["metrics"] == b["metrics"]
    assert a["recommendation"] == b["recommendation"]
