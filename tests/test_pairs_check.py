"""Pre-launch matching check: conflicts of interest and same-team pairs (issue 5, item 4)."""

from __future__ import annotations

import pandas as pd
import pytest

from rm_analytics.cli import run
from rm_analytics.errors import DataValidationError
from rm_analytics.metrics.pairs_check import (
    CHECKS,
    ISSUE_COLUMNS,
    check_pairs,
    reporting_conflicts,
)
from rm_analytics.results import ESTIMATE_COLUMNS


def check_pairs_cli(d) -> int:
    return run(["check-pairs", "--data", str(d)])


def roster() -> pd.DataFrame:
    # Technology: CTO <- TL <- J1, J2 ; Finance: CFO <- FM <- S1 ; S2 reports to CFO
    rows = [
        ("CTO", None, "Technology", "L7"),
        ("TL", "CTO", "Technology", "L5"),
        ("J1", "TL", "Technology", "L1"),
        ("J2", "TL", "Technology", "L1"),
        ("CFO", None, "Finance", "L7"),
        ("FM", "CFO", "Finance", "L6"),
        ("S1", "FM", "Finance", "L5"),
        ("S2", "CFO", "Finance", "L6"),
        ("J3", "FM", "Finance", "L1"),
    ]
    df = pd.DataFrame(rows, columns=["employee_id", "manager_id", "department", "level"])
    df["hire_date"] = "2020-01-01"
    df["termination_date"] = None
    df["termination_type"] = None
    return df


def proposal(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pair_id": [f"P{i + 1}" for i in range(len(pairs))],
            "cohort_id": "C1",
            "mentor_id": [m for m, _ in pairs],
            "mentee_id": [s for _, s in pairs],
        }
    )


def test_clean_matching_has_no_issues():
    res = check_pairs(roster(), proposal([("J1", "S1"), ("J2", "S2")]))
    out = res.issues_
    assert list(out.columns) == ISSUE_COLUMNS and len(out) == 0 and res.clean
    s = res.summary
    assert list(s.columns[:8]) == ["metric", "check", "kind", *ESTIMATE_COLUMNS]
    assert s["check"].tolist() == list(CHECKS) and (s.estimate == 0).all() and (s.n == 2).all()


def test_summary_counts_pairs_per_check():
    res = check_pairs(roster(), proposal([("J3", "S1"), ("J1", "TL"), ("J2", "S2")]))
    s = res.summary.set_index("check")
    assert s.loc["reporting_line", "estimate"] == 1  # P2
    assert s.loc["shared_manager", "estimate"] == 1  # P1
    assert s.loc["same_department", "estimate"] == 2  # P1 (Finance), P2 (Technology)
    assert s.loc["same_person", "estimate"] == 0 and (s.n == 3).all()
    assert not res.clean and res.issues_.pair_id.nunique() == 2
    off = check_pairs(roster(), proposal([("J3", "S2")]), same_department=False).summary
    assert off.set_index("check").estimate.isna().tolist() == [
        c == "same_department" for c in CHECKS
    ]


@pytest.mark.parametrize(
    "mentor, mentee, text",
    [
        ("J1", "TL", "the mentee is the mentor's direct manager"),
        ("J1", "CTO", "the mentee is the mentor's manager's manager"),
        ("TL", "J1", "the mentor is the mentee's direct manager"),
    ],
)
def test_reporting_line_either_way(mentor, mentee, text):
    out = check_pairs(roster(), proposal([(mentor, mentee)]), same_department=False).issues_
    assert out["check"].tolist() == ["reporting_line"]
    assert out.kind.iloc[0] == "conflict" and out.detail.iloc[0] == text


def test_shared_manager_and_same_department():
    out = check_pairs(roster(), proposal([("J3", "S1")])).issues_  # both report to FM and Finance
    assert set(out["check"]) == {"shared_manager", "same_department"}
    out = check_pairs(roster(), proposal([("J3", "S1")]), same_department=False).issues_
    assert out["check"].tolist() == ["shared_manager"]
    # same department without a shared manager or reporting line
    out = check_pairs(roster(), proposal([("J3", "S2")])).issues_
    assert out["check"].tolist() == ["same_department"] and out.kind.iloc[0] == "same_team"
    assert check_pairs(roster(), proposal([("J3", "S2")]), same_department=False).issues_.empty


def test_deep_chain_and_cycle_terminate():
    emp = pd.DataFrame(
        {
            "employee_id": [f"E{i}" for i in range(30)] + ["X", "Y"],
            "manager_id": [f"E{i + 1}" for i in range(29)] + [None, "Y", "X"],  # X <-> Y cycle
            "department": "D",
        }
    )
    c = reporting_conflicts(emp, proposal([("E0", "E29"), ("X", "E5")]))
    assert c.pair_id.tolist() == ["P1"] and c.levels.tolist() == [29]


def test_same_person_double_booking_and_leavers():
    emp = roster()
    emp.loc[emp.employee_id == "S2", ["termination_date", "termination_type"]] = [
        "2024-05-01",
        "voluntary",
    ]
    out = check_pairs(
        emp, proposal([("J1", "J1"), ("J2", "S1"), ("J2", "S2")]), as_of="2025-01-01"
    ).issues_
    got = set(zip(out.pair_id, out["check"], strict=True))
    assert ("P1", "same_person") in got
    assert ("P2", "double_booked") in got and ("P3", "double_booked") in got
    assert ("P3", "not_employed") in got
    # the leaver started the pair before leaving: not an issue
    prop = proposal([("J2", "S2")]).assign(start_date="2024-01-01")
    assert "not_employed" not in set(check_pairs(emp, prop, as_of="2025-01-01").issues_["check"])


def test_reshuffled_pairs_are_not_double_booked():
    prop = proposal([("J1", "S1"), ("J1", "S2")]).assign(status=["reshuffled", None])
    assert check_pairs(roster(), prop).issues_.empty


def test_bad_input_raises_clear_errors():
    with pytest.raises(DataValidationError, match="not an employee_id of the roster"):
        check_pairs(roster(), proposal([("J1", "NOBODY")]))
    with pytest.raises(DataValidationError, match="required column is missing"):
        check_pairs(roster(), proposal([("J1", "S1")]).drop(columns="cohort_id"))
    with pytest.raises(DataValidationError, match="pair_id repeats"):
        check_pairs(roster(), pd.concat([proposal([("J1", "S1")])] * 2))
    with pytest.raises(DataValidationError, match="same-department check needs"):
        check_pairs(roster().drop(columns="department"), proposal([("J1", "S1")]))


# -- command line ---------------------------------------------------------------------------------
def _write(tmp_path, pairs: pd.DataFrame, emp: pd.DataFrame | None = None):
    (emp if emp is not None else roster()).to_csv(tmp_path / "employees.csv", index=False)
    pairs.to_csv(tmp_path / "pairs.csv", index=False)
    return tmp_path


def test_cli_clean_exit_0(tmp_path, capsys):
    d = _write(tmp_path, proposal([("J1", "S1"), ("J2", "S2")]))
    assert check_pairs_cli(d) == 0
    assert "no conflicts found" in capsys.readouterr().out


def test_cli_conflicts_exit_3(tmp_path, capsys):
    d = _write(tmp_path, proposal([("J1", "TL"), ("J2", "S2")]))
    assert check_pairs_cli(d) == 3
    out = capsys.readouterr().out
    assert "P1" in out and "reporting_line" in out and "P2" not in out.split("\n", 2)[2]


@pytest.mark.parametrize(
    "setup",
    ["no_folder", "unknown_id", "missing_column", "bad_roster", "no_pairs_file"],
)
def test_cli_bad_input_exit_2_without_traceback(tmp_path, capsys, setup):
    d = tmp_path
    if setup == "no_folder":
        d = tmp_path / "nope"
    elif setup == "unknown_id":
        _write(tmp_path, proposal([("J1", "NOBODY")]))
    elif setup == "missing_column":
        _write(tmp_path, proposal([("J1", "S1")]).drop(columns="mentee_id"))
    elif setup == "bad_roster":
        emp = roster()
        emp.loc[0, "hire_date"] = "not a date"
        _write(tmp_path, proposal([("J1", "S1")]), emp)
    elif setup == "no_pairs_file":
        roster().to_csv(tmp_path / "employees.csv", index=False)
    assert check_pairs_cli(d) == 2
    err = capsys.readouterr().err
    assert err.startswith("rm-analytics check-pairs:") and "Traceback" not in err


def test_cli_on_the_sample_finds_the_planted_conflict(sample_dir, synthetic_sample, capsys):
    assert check_pairs_cli(sample_dir) == 3
    out = capsys.readouterr().out
    planted = synthetic_sample.truth["conflict_pairs"]
    assert planted, "the sample has no planted conflict of interest"
    for pair in planted:
        assert pair in out
