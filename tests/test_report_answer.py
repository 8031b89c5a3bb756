"""One coherent answer: the declared primary estimand, supporting numbers that cannot
contradict it silently, plain language, and the costs a CFO adds."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from rm_analytics import load_pilot
from rm_analytics.report.document import Report
from rm_analytics.report.estimand import (
    agreement,
    primary_result,
    reconcile,
    supporting_results,
)
from rm_analytics.report.language import plain, sponsor_text_problems


class FakeRetention:
    """The parts of a retention result the estimand reads."""

    def __init__(self, a: dict, rows: list[tuple], followed: float = 20.0):
        self._a = a
        self.summary = pd.DataFrame(
            rows, columns=["metric", "horizon", "estimate", "ci_low", "ci_high", "p_value"]
        )

        class Tab:
            time = np.array([1.0, followed])

        self.km_ = {"treated": Tab(), "control": Tab()}

    def attrition_at(self, horizon):
        return dict(self._a)


def _a(diff, lo, hi, p=0.3, treated=0.0):
    return dict(
        treated=treated,
        control=treated + diff,
        difference=diff,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        n_treated=24,
        n_control=48,
        ci_method="mover",
        p_method="exact test",
    )


NAN = float("nan")


def test_the_headline_comes_from_the_declared_estimand_only():
    r = FakeRetention(
        _a(0.0625, -0.209, 0.129),
        [
            ("hazard_ratio", NAN, 0.19, 0.02, 1.48, 0.11),
            ("logrank", NAN, 3.17, NAN, NAN, 0.075),
            ("rmst_difference", 12, 0.25, -0.03, 0.54, 0.077),
            ("exact_test", 12, -0.12, NAN, NAN, 0.33),
        ],
    )
    head = primary_result(r, 12, "junior mentors")
    assert (head.estimate, head.ci_low, head.ci_high) == (0.0625, -0.209, 0.129)
    assert head.verdict.label == "not enough evidence yet"
    assert "+6 pp" in head.sentence() and "94%" in head.sentence()
    sup = supporting_results(r, 12)
    assert [s.key for s in sup] == ["hazard_ratio", "logrank", "rmst_difference", "exact_test"]
    # every supporting number oriented like the headline: fewer leavers favour the program
    exact = sup[-1]
    assert exact.favours == "the program" and exact.display.startswith("12 fewer leavers per 100")
    assert all(s.favours in ("the program", "neither") for s in sup)
    assert reconcile(head, sup) == []  # nothing to reconcile: same direction, none conclusive
    assert "point the same way" in agreement(head, sup) and "none" in agreement(head, sup)


def test_a_supporting_number_pointing_the_other_way_is_explained():
    r = FakeRetention(
        _a(0.05, -0.1, 0.2),
        [("hazard_ratio", NAN, 1.4, 0.6, 3.2, 0.4), ("exact_test", 12, 0.04, NAN, NAN, 0.7)],
    )
    head = primary_result(r, 12, "junior mentors")
    said = reconcile(head, supporting_results(r, 12))
    assert len(said) == 1  # one sentence names both analyses
    assert "rate of leaving" in said[0] and "leavers among people followed" in said[0]
    assert "point to the control group" in said[0] and "headline decides" in said[0]
    assert all(sponsor_text_problems(s) == [] for s in said)


def test_a_conclusive_support_beside_a_headline_not_estimable_is_explained():
    """The card said "not estimable" beside log-rank p = 0.044: now the text says why."""
    r = FakeRetention(
        _a(NAN, NAN, NAN, p=NAN),
        [("hazard_ratio", NAN, 0.3, 0.1, 0.95, 0.04), ("logrank", NAN, 4.1, NAN, NAN, 0.044)],
        followed=8.4,
    )
    head = primary_result(r, 12, "junior mentors", first_start=pd.Timestamp("2025-12-29"))
    assert not head.estimable
    assert "8 months" in head.reason and "29 December 2026" in head.reason
    said = reconcile(head, supporting_results(r, 12))
    assert any("retention curves" in s and "cannot be estimated yet" in s for s in said)
    assert all("to watch, not the answer" in s for s in said)
    assert all(sponsor_text_problems(s) == [] for s in said)  # plain words in the body


def test_plain_words_for_sponsors():
    assert plain("censored at 2026-09-27 (as_of), stratified by cohort_id") == (
        "censored at 2026-09-27 (the report date), stratified by cohort"
    )
    assert plain("`rm-analytics report` gave engagement_index 0.1234567 and NaN") == (
        "rm-analytics report gave engagement index 0.123 and not available"
    )
    assert plain("balanced False") == "balanced no"
    assert sponsor_text_problems("ROI -199.824156 for cohort_id C01 <NA> True `x`") != []
    found = " ".join(sponsor_text_problems("seed 004: machine-reworded copy; Boschloo test"))
    assert "internal material" in found and "jargon" in found
    assert sponsor_text_problems("Boschloo test", appendix=True) == []
    assert sponsor_text_problems("12% (5% to 19%) of pairs; 0.95 and 1,234.5") == []


# -- whole reports built in-process (no notebook) ------------------------------------------------
def _build(audience="sponsor", **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Report.build(audience, today="2026-09-30", **params)


@pytest.mark.slow
def test_no_recommendation_when_the_headline_cannot_be_estimated(sample_dir):
    # 1 June 2025: the first cohort started in December 2024, nobody is followed 12 months
    rep = _build(data=str(sample_dir), as_of="2025-06-01")
    rec = rep.metrics.recommendation
    assert (rec["action"], rec["rule"]) == ("no recommendation yet", 1)
    assert "23 December 2025" in rec["reason"]
    card = rep.metrics.get("retention_difference")
    assert card.display == "not estimable" and card.estimate is None
    page = rep.executive_summary_html()
    assert "Recommendation: no recommendation yet" in page
    assert "cannot be estimated yet" in rep.metrics.sentences["retention"]
    assert rep.metrics.to_dict()["primary_estimand"]["not_estimable_because"]


@pytest.mark.slow
def test_costs_from_parameters_and_a_costs_table_enter_the_roi(sample_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_dir, data)
    pd.DataFrame(
        {
            "item": ["Mentoring platform licence", "Facilitator", "Facilitator"],
            "amount": [6000, 1500, 2000],
            "date": ["2024-12-01", "2025-01-10", "2026-12-01"],  # the last after the report date
            "category": ["software", "external", "external"],
        }
    ).to_csv(data / "costs.csv", index=False)
    plain_report = _build(data=str(sample_dir))
    base = plain_report.metrics.get("program_cost").estimate
    rep = _build(
        data=str(data),
        cost_software=5000.0,
        cost_external=2500.0,
        cost_other={"materials": 1200.0},
    )
    total = rep.metrics.get("program_cost").estimate
    assert total == pytest.approx(base + 5000 + 2500 + 1200 + 6000 + 1500)
    html = rep.part_html("roi")
    for line in (
        "Software",
        "External fees",
        "Materials",
        "Mentoring platform licence",
        "Facilitator",
    ):
        assert f"<td>{line}</td>" in html, line
    assert "costs table" in html and "report setting" in html
    assert "€8,700 of software, fees and other lines" not in html  # 16,200 in total
    assert "€16,200 of software, fees and other lines" in html
    # a costlier program needs more prevented exits
    before = plain_report.metrics.get("break_even_exits").estimate
    assert rep.metrics.get("break_even_exits").estimate > before
    # the time machine: a report before the licence was bought does not count it
    early = _build(data=str(data), as_of="2024-12-30").pilot.costs
    assert early.item.tolist() == ["Mentoring platform licence"]


@pytest.mark.slow
def test_assumption_parameters_change_the_numbers_they_name(sample_dir):
    a = _build(data=str(sample_dir))
    b = _build(data=str(sample_dir), kickoff_hours=6.0, salary_loading=1.5)
    assert b.metrics.get("program_cost").estimate > a.metrics.get("program_cost").estimate
    assert a.metrics.recommendation["rule"] == 7
    # if a 70% lower rate of leaving were plausible, 294 pairs would settle it: within 30
    # cohorts of 12, so the report says continue and measure (rule 6)
    c = _build(data=str(sample_dir), plausible_hazard_ratio=0.3, realistic_cohorts=30)
    assert c.metrics.get("retention_pairs_needed").estimate == 294
    assert (c.metrics.recommendation["rule"], c.metrics.recommendation["action"]) == (
        6,
        "continue",
    )


def test_sample_pilot_loads_costs_table_when_present(sample_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_dir, data)
    pd.DataFrame({"item": ["x"], "amount": ["-5"]}).to_csv(data / "costs.csv", index=False)
    from rm_analytics import DataValidationError

    with pytest.raises(DataValidationError, match="costs.csv, row 2, column 'amount'"):
        load_pilot(data)
