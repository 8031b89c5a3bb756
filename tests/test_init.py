"""``rm-analytics init``: a starter mapping proposed from the headers (and values) of vendor
exports, right for the standard columns, with TODO where it could not map."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from _vendor import LEVELS, native_tables, other_surveys, wide_engagement, workday_roster
from figures import assert_same_figures

from rm_analytics import load_pilot
from rm_analytics.cli import run
from rm_analytics.data.mapping import read_mapping, starter_mapping, suggest_header

TODAY = "2026-09-30"


@pytest.fixture
def exports(tmp_path, sample_dir):
    workday_roster(sample_dir, tmp_path, LEVELS)
    wide_engagement(sample_dir, tmp_path)
    other_surveys(sample_dir, tmp_path)
    native_tables(
        sample_dir,
        tmp_path,
        (
            "cohorts",
            "pairs",
            "control",
            "sessions",
            "skills",
            "checkpoints",
            "outcomes",
            "interventions",
        ),
    )
    return tmp_path


def test_init_proposes_a_mapping_that_loads_the_native_figures(exports, sample_pilot, capsys):
    assert run(["init", "--data", str(exports)]) == 0
    assert "rm-mapping.yaml" in capsys.readouterr().out
    m = read_mapping(exports / "rm-mapping.yaml")
    emp = m.tables["employees"][0]
    assert emp.columns == {
        "employee_id": "Employee ID",
        "hire_date": "Hire Date",
        "termination_date": "Termination Date",
        "termination_type": "Termination Reason",
        "department": "Supervisory Organization",
        "level": "Job Level",
        "manager_id": "Manager ID",
    }
    assert emp.date_format == "%m/%d/%Y"
    assert emp.level_order == list(LEVELS.values())
    assert emp.values["termination_type"]["job abandonment"] == "voluntary"
    wide = m.tables["surveys"][0]
    assert wide.layout == "wide" and wide.survey.value == "engagement"
    assert wide.items == {f"eng{i}": f"Q1_{i}" for i in range(1, 6)}
    assert wide.respondent_id.column == "ExternalReference"
    pilot = load_pilot(config=exports / "rm-mapping.yaml", today=TODAY)
    assert_same_figures(pilot, sample_pilot)


def test_init_never_overwrites_without_force(exports, capsys):
    (exports / "rm-mapping.yaml").write_text("# mine\n")
    assert run(["init", "--data", str(exports)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (exports / "rm-mapping.yaml").read_text() == "# mine\n"
    assert run(["init", "--data", str(exports), "--force"]) == 0
    assert "tables:" in (exports / "rm-mapping.yaml").read_text()


ROSTERS = {
    "successfactors": {
        "employee_id": "User ID",
        "hire_date": "Original Hire Date",
        "termination_date": "Termination Date",
        "termination_type": "Event Reason",
        "department": "Division",
        "level": "Pay Grade",
        "manager_id": "Manager User ID",
    },
    "bamboohr": {
        "employee_id": "Employee #",
        "hire_date": "Hire Date",
        "termination_date": "Termination Date",
        "termination_type": "Termination Type",
        "department": "Department",
        "level": "Job Level",
        "manager_id": "Reports To ID",
    },
}


@pytest.mark.parametrize("vendor", list(ROSTERS))
def test_standard_columns_of_other_hris_exports(tmp_path, vendor):
    headers = ROSTERS[vendor]
    frame = pd.DataFrame(
        {
            headers["employee_id"]: ["1001", "1002", "1003"],
            headers["hire_date"]: ["31.01.2019", "15.06.2020", "01.02.2021"],
            headers["termination_date"]: ["", "30.09.2024", "31.03.2025"],
            headers["termination_type"]: ["", "Resignation", "Redundancy"],
            headers["department"]: ["Sales", "Sales", "IT"],
            headers["level"]: ["Manager", "Analyst", "Director"],
            headers["manager_id"]: ["", "1001", "1001"],
            "Preferred Name": ["A", "B", "C"],
        }
    )
    frame.to_csv(tmp_path / f"{vendor}_employee_export.csv", index=False)
    text = starter_mapping(tmp_path)
    doc = yaml.safe_load(text)
    emp = doc["tables"]["employees"]
    assert emp["columns"] == headers
    assert emp["date_format"] == "%d.%m.%Y"
    assert emp["values"]["termination_type"] == {
        "voluntary": ["Resignation"],
        "involuntary": ["Redundancy"],
    }
    assert emp["level_order"] == ["Analyst", "Manager", "Director"]


def test_unmapped_columns_are_marked_todo_with_did_you_mean(tmp_path):
    pd.DataFrame(
        {"Worker": ["1"], "Hire Date": ["2020-01-01"], "Org": ["Sales"], "Grade Lvl": ["3"]}
    ).to_csv(tmp_path / "workers.csv", index=False)
    text = starter_mapping(tmp_path)
    assert "# TODO employee_id: no column found" in text
    assert "# TODO level: no column found; did you mean 'Grade Lvl'?" in text
    assert "hire_date: Hire Date" in text
    assert "termination_type" not in text.split("columns:")[1].split("# TODO")[0]


def test_semicolon_export_and_qualtrics_rows_are_recognised(tmp_path):
    rows = [
        {
            "ResponseId": "ResponseId",
            "ExternalReference": "External Data Reference",
            "RecordedDate": "Recorded Date",
            "Q2_1": "I feel safe",
            "Q2_2": "Mistakes are held against me",
        },
        {
            "ResponseId": '{"ImportId":"_recordId"}',
            "ExternalReference": '{"ImportId":"externalDataReference"}',
            "RecordedDate": '{"ImportId":"recordedDate"}',
            "Q2_1": '{"ImportId":"QID2_1"}',
            "Q2_2": '{"ImportId":"QID2_2"}',
        },
        {
            "ResponseId": "R_1",
            "ExternalReference": "E1",
            "RecordedDate": "2025-01-10 10:00:00",
            "Q2_1": "Agree",
            "Q2_2": "Strongly disagree",
        },
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "psych_safety_pulse.csv", index=False, sep=";")
    text = starter_mapping(tmp_path)
    entry = yaml.safe_load(text)["tables"]["surveys"]
    assert entry["delimiter"] == ";"
    assert entry["skip_rows"] == 2
    assert entry["survey"] == "psych_safety"
    assert entry["respondent_id"] == "ExternalReference"
    assert entry["response_date"] == "RecordedDate"
    assert entry["items"] == {"ps1": "Q2_1", "ps2": "Q2_2"}
    assert "TODO" in text  # the wave is not in the export


def test_suggest_header_uses_vendor_synonyms():
    headers = ["Worker ID", "Most Recent Hire Date", "Supervisory Organization", "Management Level"]
    assert suggest_header("employees", "employee_id", headers) == "Worker ID"
    assert suggest_header("employees", "hire_date", headers) == "Most Recent Hire Date"
    assert suggest_header("employees", "department", headers) == "Supervisory Organization"
    assert suggest_header("employees", "level", headers) == "Management Level"
    assert suggest_header("employees", "manager_id", headers) is None
