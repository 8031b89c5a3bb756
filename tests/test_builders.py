"""The shared builder of small pilots (tests/builders.py) builds what it says."""

from __future__ import annotations

import pandas as pd
import pytest
from builders import copy_pilot, tiny_pilot


def test_tiny_pilot_validates_with_the_counts_asked_for(tmp_path):
    b = tiny_pilot(5, controls=3)
    p = b.pilot()
    assert len(p.pairs) == 5 and len(p.control) == 3
    assert len(p.employees) == 5 + 5 + 3
    assert set(p.pairs.mentor_id) == {f"M{i}" for i in range(1, 6)}
    assert set(p.pairs.mentee_id) == {f"S{i}" for i in range(1, 6)}
    assert p.cohort_ids == ["C1"]
    # 12 weekly held sessions per pair, all inside the cohort
    assert p.sessions.groupby("pair_id").size().tolist() == [12] * 5
    c = p.cohorts.iloc[0]
    assert p.sessions.date.between(c.start_date, c.end_date).all()
    assert (p.sessions.status == "held").all()
    q = p.quality
    assert not (q.action == "excluded").any(), q[q.action == "excluded"]
    # written to a folder and loaded, the same pilot
    loaded = b.load(tmp_path / "tiny")
    assert sorted(f.name for f in (tmp_path / "tiny").iterdir()) == [
        "cohorts.csv",
        "control.csv",
        "employees.csv",
        "pairs.csv",
        "sessions.csv",
    ]
    pd.testing.assert_frame_equal(loaded.pairs, p.pairs, check_dtype=False)


def test_tiny_pilot_plants_the_exits():
    exits = {"M2": ("2025-06-30", "voluntary"), "W1": ("2025-04-01", "involuntary")}
    p = tiny_pilot(4, controls=2, exits=exits).pilot()
    e = p.employees.set_index("employee_id")
    assert e.loc["M2", "termination_type"] == "voluntary"
    assert e.loc["M2", "termination_date"] == pd.Timestamp("2025-06-30")
    assert e.loc["W1", "termination_type"] == "involuntary"
    assert e.termination_date.notna().sum() == 2
    import rm_analytics as rm

    r = rm.pilot_retention(p, horizons=(12,))
    assert r.row(metric="logrank").n_events == 1  # only the voluntary exit is the event
    with pytest.raises(ValueError, match="not in the pilot"):
        tiny_pilot(2, exits={"M9": ("2025-06-30", "voluntary")})


def test_tiny_pilot_leaves_optional_tables_out():
    p = tiny_pilot(2, sessions=False, status="active", today="2025-02-01").pilot()
    assert p.sessions is None and p.control is None
    assert p.pairs.end_date.isna().all() and (p.pairs.status == "active").all()
    absent = p.quality[p.quality.check == "table absent"].table
    assert {"sessions", "control", "surveys"} <= set(absent)
    with_salary = tiny_pilot(2, salaries=True).pilot()
    assert with_salary.employees.annual_salary.notna().all()


def test_copy_pilot_drops_filters_and_blanks(tmp_path, sample_dir):
    out = copy_pilot(
        sample_dir,
        tmp_path / "copy",
        drop=["skills"],
        keep_rows={"surveys": lambda s: s.survey != "feedback"},
        blank={"employees": ["annual_salary"]},
    )
    assert not (out / "skills.csv").exists() and (sample_dir / "skills.csv").exists()
    s = pd.read_csv(out / "surveys.csv", dtype=str, keep_default_na=False)
    s0 = pd.read_csv(sample_dir / "surveys.csv", dtype=str, keep_default_na=False)
    assert 0 < len(s) < len(s0) and "feedback" not in set(s.survey)
    e = pd.read_csv(out / "employees.csv", dtype=str, keep_default_na=False)
    assert len(e) > 0 and (e.annual_salary == "").all()
