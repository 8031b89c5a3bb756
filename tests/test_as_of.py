"""The time machine: the report at a date D on today's data equals the report on the data as
they stood on D (built independently with plain pandas in ``_asof.truncate_files``)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from _asof import truncate_files

from rm_analytics import load_pilot
from rm_analytics.report.document import Report

# C01 runs Dec 2024 - Mar 2025, C02 Dec 2025 - Mar 2026; the sample ends on 2026-09-27
DAYS = ("2025-01-15", "2025-06-01", "2026-03-01")


@pytest.fixture(scope="module")
def stood(tmp_path_factory, sample_dir):
    """day -> folder of the sample's files as they stood that day."""
    root = tmp_path_factory.mktemp("as-of")
    return {d: truncate_files(sample_dir, root / d, d) for d in DAYS}


@pytest.mark.parametrize("day", DAYS)
def test_pilot_as_of_equals_the_files_as_they_stood(sample_pilot, stood, day):
    now = sample_pilot.as_of(day)
    then = load_pilot(stood[day], today="2026-09-30")
    assert set(now.tables) == set(then.tables)
    for name, table in then.tables.items():
        pd.testing.assert_frame_equal(
            now.tables[name].reset_index(drop=True), table.reset_index(drop=True), obj=name
        )
    assert now.cutoff == pd.Timestamp(day)
    assert sample_pilot.cutoff is None  # the original is unchanged
    assert len(sample_pilot.surveys) > len(now.surveys)


def test_as_of_rules_and_their_log(sample_pilot):
    day = pd.Timestamp("2025-02-01")
    p = sample_pilot.as_of(day)
    # nothing dated after the day is left
    for name, col in [
        ("sessions", "date"),
        ("surveys", "response_date"),
        ("skills", "date"),
        ("outcomes", "date"),
        ("employees", "hire_date"),
    ]:
        assert (p.tables[name][col] <= day).all(), name
    assert (p.employees.termination_date.dropna() <= day).all()
    assert p.cohort_ids == ["C01"]  # C02 starts in December 2025
    # C01's pairs ended in March 2025: on 1 February they were running, but for a pair that
    # had already withdrawn by then
    gone = p.pairs.end_date.notna()
    assert set(p.pairs.status[~gone].astype(str)) == {"active"} and (~gone).sum() >= 10
    assert (p.pairs.end_date[gone] <= day).all()
    assert set(p.pairs.status[gone].astype(str)) <= {"withdrawn", "reshuffled", "completed"}
    # later exits have not happened: those people are employed on the day
    full = sample_pilot.employees.set_index("employee_id")
    later = full.termination_date > day
    kept = p.employees.set_index("employee_id")
    back = kept.index.intersection(full.index[later])
    assert len(back) > 0 and kept.loc[back, "termination_date"].isna().all()
    assert kept.loc[back, "termination_type"].isna().all()
    # every removal and reset is in the data-quality log
    q = p.quality[p.quality.stage == "as of"]
    log = q.groupby(["table", "action"]).rows.sum()
    removed = len(sample_pilot.surveys) - len(p.surveys)
    assert log[("surveys", "excluded")] == removed
    assert log[("employees", "reset")] >= len(back)


def test_undated_checks_follow_their_due_dates(sample_pilot):
    cp = sample_pilot.checkpoints.assign(date=pd.NaT)
    skills = sample_pilot.skills.assign(date=pd.NaT)
    t = dict(sample_pilot.tables, checkpoints=cp, skills=skills)
    from rm_analytics.data.pilot import Pilot

    undated = Pilot(t, sources=sample_pilot.sources)
    # 2025-02-15: C01 (start 23 Dec 2024) is past week 6 but not at its end (14 Mar 2025)
    p = undated.as_of("2025-02-15")
    assert set(p.checkpoints.checkpoint.astype(str)) == {"week6"}
    assert set(p.skills.phase.astype(str)) == {"pre"}
    p = undated.as_of("2025-04-01")
    assert set(p.checkpoints.checkpoint.astype(str)) == {"week6", "endpoint"}
    c02 = set(sample_pilot.pairs.pair_id[sample_pilot.pairs.cohort_id == "C02"])
    assert not set(p.checkpoints.pair_id) & c02


def _report(audience: str, data, day: str) -> Report:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Report.build(audience, data=str(data), as_of=day, today="2026-09-30")


@pytest.fixture(scope="module")
def latest(sample_dir):
    """audience -> the report on all the data (its last date)."""
    return {a: _report(a, sample_dir, "2026-09-27") for a in ("sponsor", "program-lead")}


@pytest.mark.slow
@pytest.mark.parametrize("audience", ["sponsor", "program-lead"])
@pytest.mark.parametrize("day", DAYS)
def test_report_at_a_date_equals_the_report_on_the_data_of_that_date(
    sample_dir, stood, latest, audience, day
):
    now = _report(audience, sample_dir, day)
    then = _report(audience, stood[day], day)
    assert now.metrics.to_dict() == then.metrics.to_dict()
    assert now.specs and [s.key for s in now.specs] == [s.key for s in then.specs]
    for spec in now.specs:
        assert now.section_html(spec.key) == then.section_html(spec.key), spec.key
    assert now.executive_summary_html() == then.executive_summary_html()
    # and the date matters: the report on all the data differs
    assert latest[audience].metrics.to_dict()["metrics"] != now.metrics.to_dict()["metrics"]
