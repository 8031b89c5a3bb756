"""Probability of benefit, the synthesis of a pilot's cohorts, and a 6-cohort synthetic program
end to end (its sequential status and cumulative forest plot)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import rm_analytics as rm
from rm_analytics.metrics.retention import logrank_test
from rm_analytics.metrics.synthesis import (
    EFFECTIVE,
    KEEP_GOING,
    PLANNED,
    heterogeneity_statement,
    prior_statement,
)
from rm_analytics.stats.bayes import (
    normal_posterior,
    probability_below,
    sceptical_prior_sd,
)


# -- probability of benefit -------------------------------------------------------------------
def _numerical_posterior(estimate, se, prior_sd):
    """Posterior P(theta < 0), mean and SD by brute-force integration of prior x likelihood."""
    grid = np.linspace(-8, 8, 400_001)
    dens = np.exp(-0.5 * ((estimate - grid) / se) ** 2)
    if np.isfinite(prior_sd):
        dens *= np.exp(-0.5 * (grid / prior_sd) ** 2)
    dens /= np.trapezoid(dens, grid)
    mean = np.trapezoid(grid * dens, grid)
    sd = math.sqrt(np.trapezoid((grid - mean) ** 2 * dens, grid))
    left = grid <= 0  # 0 is a node of the grid: no half-step error at the cut
    return float(np.trapezoid(dens[left], grid[left])), mean, sd


@pytest.mark.parametrize(
    ("estimate", "se"), [(-0.35, 0.2), (-1.17, 0.66), (0.2, 0.5), (-0.05, 0.1)]
)
def test_posterior_closed_form_equals_numerical_integration(estimate, se):
    prior_sd = sceptical_prior_sd(math.log(0.7))
    for sd in (prior_sd, math.inf):
        p_num, m_num, s_num = _numerical_posterior(estimate, se, sd)
        m, s = normal_posterior(estimate, se, 0.0, sd)
        assert m == pytest.approx(m_num, abs=1e-6)
        assert s == pytest.approx(s_num, abs=1e-6)
        assert probability_below(estimate, se, prior_sd=sd) == pytest.approx(p_num, abs=1e-6)


def test_sceptical_prior_means_what_it_says():
    """A 5% prior chance of a hazard ratio of 0.7 or lower, centred at no effect."""
    sd = sceptical_prior_sd(math.log(0.7), 0.05)
    assert 0.5 * math.erfc(-(math.log(0.7) / sd) / math.sqrt(2)) == pytest.approx(0.05)
    text = prior_statement(math.log(0.7), 0.05)
    assert "cuts voluntary exits by 30% or more" in text and "5% chance" in text
    assert "raises engagement by 0.25 points" in prior_statement(0.25, outcome="engagement")


def test_probability_of_benefit_frame():
    p = rm.probability_of_benefit(-0.35, 0.2)
    assert list(p.prior) == ["sceptical", "neutral"]
    neutral = p.set_index("prior").loc["neutral"]
    # flat prior: the posterior is the likelihood; P = 1 - one-sided p-value
    assert neutral.estimate == -0.35 and neutral.probability == pytest.approx(
        0.5 * math.erfc(-1.75 / math.sqrt(2))
    )
    sceptical = p.set_index("prior").loc["sceptical"]
    assert sceptical.probability < neutral.probability  # the doubt pulls towards no effect
    assert -0.35 < sceptical.estimate < 0
    assert sceptical.ci_low < sceptical.estimate < sceptical.ci_high
    higher = rm.probability_of_benefit(0.3, 0.15, better="higher", effect=0.25)
    assert higher.probability.iloc[1] == pytest.approx(0.5 * math.erfc(-2 / math.sqrt(2)))


# -- the pilot: the committed sample (two cohorts) --------------------------------------------
@pytest.fixture(scope="module")
def sample_synthesis(sample_pilot):
    return rm.pilot_synthesis(sample_pilot.copy(), looks=4)


def test_per_cohort_retention_is_petos_log_hazard_ratio(sample_synthesis, sample_pilot):
    s = sample_synthesis
    assert s.retention_outcome_ == "log_hr"
    ret = s.cohorts_[s.cohorts_.outcome == "retention"].set_index("cohort_id")
    assert list(ret.index) == ["C01", "C02", "C03"]
    # C03 is still running: no mentor or control has left yet, so no estimate and no look
    assert ret.loc["C03", "status"] == "not estimable"
    assert any("not looks of the sequential plan: C03" in n for n in s.notes)
    frame = rm.pilot_retention(sample_pilot.copy(), horizons=(12,)).frame_
    num = den = 0.0
    for c in ("C01", "C02"):
        f = frame[frame.cohort_id == c]
        lr = logrank_test(f.duration, f.event, f.treated)
        assert ret.loc[c, "estimate"] == pytest.approx((lr.observed - lr.expected) / lr.variance)
        assert ret.loc[c, "se"] == pytest.approx(1 / math.sqrt(lr.variance))
        num += lr.observed - lr.expected
        den += lr.variance
    # C02: no mentor left, so a Cox model diverges, but Peto's estimate exists
    assert ret.loc["C02", "status"] == "ok"
    # the sequential z at the last look is the log-rank z stratified by cohort
    seq = s.sequential_.summary
    assert seq.z.iloc[1] == pytest.approx(-num / math.sqrt(den))
    assert list(seq.status) == [KEEP_GOING, KEEP_GOING, PLANNED, PLANNED]


def test_sample_synthesis_rows_and_pooled_comparison(sample_synthesis, sample_pilot):
    s = sample_synthesis
    summ = s.summary
    for outcome in ("retention", "engagement", "skills"):
        metrics = set(summ.metric[summ.outcome == outcome])
        assert {"pooled", "tau2", "i2", "prediction", "pooled_analysis"} <= metrics, outcome
    ret = rm.pilot_retention(sample_pilot.copy(), horizons=(12,))
    hr = ret.row(metric="hazard_ratio")
    pa = summ[(summ.outcome == "retention") & (summ.metric == "pooled_analysis")].iloc[0]
    assert math.exp(pa.estimate) == pytest.approx(hr.estimate)
    assert math.exp(pa.ci_high) == pytest.approx(hr.ci_high)
    # two cohorts: t(1) quantiles make the synthesis interval wide, and it says so
    assert "2 cohorts, this cannot be judged reliably" in s.heterogeneity_["retention"]
    assert set(s.benefit_.outcome) == {"retention", "engagement"}
    assert ((s.benefit_.probability > 0) & (s.benefit_.probability < 1)).all()


def test_small_cohorts_are_listed_not_dropped(sample_pilot):
    s = rm.pilot_synthesis(sample_pilot.copy(), outcomes=("retention",), min_cell_size=13)
    c = s.cohorts_
    assert list(c.cohort_id) == ["C01", "C02", "C03"]
    assert (c.status == "not estimable").all()
    assert c.reason.str.contains("fewer than 13 participants or controls").all()
    assert "retention" not in s.meta_
    assert any("3 cohort(s) without an estimate: C01 (fewer than 13" in n for n in s.notes)
    assert any("fewer than two cohort estimates, no synthesis" in n for n in s.notes)


def test_one_cohort_is_not_a_synthesis(sample_pilot):
    with pytest.raises(rm.InsufficientDataError, match="two or more cohorts"):
        rm.pilot_synthesis(sample_pilot.select("C01"))


# -- a 6-cohort synthetic program with known heterogeneity ---------------------------------------
@pytest.fixture(scope="module")
def program():
    data = rm.generate_sample(n_employees=3000, n_cohorts=6, effect_sd=0.4, seed=11)
    return data, data.to_pilot()


@pytest.mark.slow
def test_six_cohort_program_end_to_end(program):
    data, pilot = program
    s = rm.pilot_synthesis(pilot, looks=6)
    truth = data.truth["cohort_effects"]
    assert list(truth) == [f"C0{i}" for i in range(1, 7)]
    # every cohort has a retention estimate; the synthesis covers the average true effect
    ret = s.cohorts_[s.cohorts_.outcome == "retention"]
    assert (ret.status == "ok").all() and len(ret) == 6
    pooled = s.meta_["retention"].row(metric="pooled")
    mean_true = np.mean([e["log_hazard_ratio"] for e in truth.values()])
    assert pooled.ci_low < mean_true < pooled.ci_high
    pi = s.meta_["retention"].row(metric="prediction")
    assert pi.ci_low < pooled.ci_low and pi.ci_high > pooled.ci_high
    # the first two cohorts started before the first engagement survey: listed with the reason
    eng = s.cohorts_[s.cohorts_.outcome == "engagement"].set_index("cohort_id")
    assert eng.loc["C01", "reason"] == "no engagement survey before the cohort started"
    assert (eng.loc[["C03", "C04", "C05", "C06"], "status"] == "ok").all()
    assert s.meta_["engagement"].fit_.k == 4
    # the sequential status after six cohorts (plan: 6 looks, one per cohort)
    seq = s.sequential_
    assert list(seq.summary.label) == list(truth)
    assert seq.status_ == EFFECTIVE and seq.decision_look_ == 6
    assert (seq.summary.status.iloc[:5] == KEEP_GOING).all()
    z = seq.summary.z.to_numpy()
    b = seq.summary.z_bound.to_numpy()
    assert (z[:5] < b[:5]).all() and z[5] >= b[5]
    # the cumulative forest plot: one row per cohort added, the prediction for the next
    ax = s.plot()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "C01",
        "+ C02",
        "+ C03",
        "+ C04",
        "+ C05",
        "+ C06",
        "Next cohort (prediction)",
    ]
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel().startswith("hazard ratio")
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.slow
def test_known_heterogeneity_is_found():
    """Cohorts whose true engagement shifts differ a lot (SD 0.6 points) give a clearly
    heterogeneous synthesis; the same program without heterogeneity does not."""
    common = dict(n_employees=2500, n_cohorts=5, engagement_waves=8, seed=5, pairs_per_cohort=15)
    het = rm.generate_sample(engagement_effect_sd=0.6, **common)
    flat = rm.generate_sample(**common)
    shifts = [e["engagement_shift"] for e in het.truth["cohort_effects"].values()]
    assert np.std(shifts, ddof=1) > 0.3
    assert "cohort_effects" not in flat.truth
    i2 = {}
    for name, d in (("het", het), ("flat", flat)):
        s = rm.pilot_synthesis(d.to_pilot(), outcomes=("engagement",))
        assert s.meta_["engagement"].fit_.k == 5
        i2[name] = s.meta_["engagement"].fit_.i2
    assert i2["het"] > 50 > i2["flat"]
    assert "differ" in heterogeneity_statement(
        rm.meta_analysis(
            pd.DataFrame({"y": [0.0, 1.0, 2.0], "se": [0.1, 0.1, 0.1]}), estimate="y", se="se"
        )
    )


def test_heterogeneity_knobs_in_the_written_parameters(tmp_path):
    """The knobs are recorded when set and left out at 0 (the committed sample stays as is)."""
    d = rm.generate_sample(n_employees=600, n_cohorts=3, pairs_per_cohort=4, effect_sd=0.5)
    d.write(tmp_path / "het")
    meta = json.loads((tmp_path / "het" / "PARAMETERS.json").read_text())
    assert meta["params"]["effect_sd"] == 0.5
    c = meta["truth"]["cohort_effects"]
    assert len(c) == 3
    # the same standard-normal draws, scaled by the knob
    d2 = rm.generate_sample(n_employees=600, n_cohorts=3, pairs_per_cohort=4, effect_sd=1.0)
    assert d2.truth["cohort_effects"].keys() == c.keys()
    for k, e in d2.truth["cohort_effects"].items():
        assert e["log_hazard_ratio"] - math.log(0.6) == pytest.approx(
            2 * (c[k]["log_hazard_ratio"] - math.log(0.6))
        )
    assert "true hazard ratio (mentors)" in (tmp_path / "het" / "README.md").read_text()
    rm.generate_sample(n_employees=600, n_cohorts=3, pairs_per_cohort=4).write(tmp_path / "flat")
    flat = json.loads((tmp_path / "flat" / "PARAMETERS.json").read_text())
    assert "effect_sd" not in flat["params"] and "cohort_effects" not in flat["truth"]
    with pytest.raises(ValueError, match="effect_sd must be >= 0"):
        rm.generate_sample(n_employees=600, effect_sd=-1)


# -- the sponsor report's "Across cohorts" part ---------------------------------------------------
def _report(pilot, **params):
    from rm_analytics.plotting import theme
    from rm_analytics.report.document import Report
    from rm_analytics.report.parameters import ReportParameters

    theme.use()
    p = ReportParameters(**params)
    as_of = pilot.snapshot_date()
    return Report("sponsor", pilot, p, as_of)


def _text(html: str) -> str:
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.slow
def test_sponsor_part_of_a_six_cohort_program(program):
    from rm_analytics.report.privacy import check_privacy

    _, pilot = program
    rep = _report(pilot, sequential_looks=6)
    html = rep.section_html("synthesis")  # a supporting analysis, in the appendix
    check_privacy(html, pilot)  # aggregates only: no ids, no free text
    text = _text(html)
    assert "Evidence across cohorts" in text and "A supporting analysis" in text
    assert "After C06 (look 6 of 6) the evidence score is 2.29 against a boundary of 2.01" in text
    assert "Status: decide now: effective" in text
    assert "A next cohort is expected between" in text
    assert "Probability that the program reduced voluntary exits" in text
    assert "only a 5% chance that it cuts voluntary exits by 30% or more" in text
    assert "Not included: engagement in C01 and C02 (no engagement survey before" in text
    # no jargon in the body: the estimators are named in the appendix
    for word in ("tau", "Knapp", "REML", "I\u00b2", "meta-analysis", "Lan-DeMets", "Peto"):
        assert word not in text, word
    appendix = _text(rep.section_html("synthesis_methods"))
    assert "Knapp-Hartung" in appendix and "Lan-DeMets" in appendix and "Peto" in appendix
    # two figures (cumulative forest, evidence path) and the look-by-look table
    res = rep.results["synthesis"]
    assert len(res.figures) == 2
    caption, table, _ = res.tables[0]
    assert caption == "The decision plan look by look"
    assert list(table.Status) == ["keep going"] * 5 + ["decide now: effective"]
    # the figures in metrics.json match the text
    m = rep.metrics.metrics
    assert m["sequential_evidence"].display == "2.29"
    assert m["sequential_evidence"].note == "decide now: effective"
    hr = m["synthesis_retention"]
    assert hr.unit == "ratio" and hr.ci_low < hr.estimate < hr.ci_high
    assert f"left voluntarily at {hr.display} times" in text
    p = m["probability_benefit_retention"]
    assert 0 < p.estimate < m["probability_benefit_retention_neutral"].estimate < 1
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.slow
def test_sponsor_part_with_more_cohorts_than_planned_looks(program):
    """Six cohorts under a four-look plan: the verdict is the fourth look's, the later cohorts
    are named as outside the plan (the text read "look 6 of 4 ... a boundary of nan")."""
    _, pilot = program
    rep = _report(pilot, sequential_looks=4)
    import html

    text = html.unescape(_text(rep.section_html("synthesis")))
    assert "After C04 (look 4 of 4) the evidence score is 1.30 against a boundary of 1.99" in text
    assert "Status: final look: benefit not demonstrated" in text
    assert "C05 and C06 came after the plan's last look: their data enter the estimates" in text
    assert "nan" not in text.lower().split() and "of 4) the evidence score" in text
    m = rep.metrics.metrics
    assert m["sequential_evidence"].display == "1.30"
    assert m["sequential_boundary"].display == "1.99"
    assert m["sequential_evidence"].note == "final look: benefit not demonstrated"
    _, table, _ = rep.results["synthesis"].tables[0]
    assert list(table.Boundary)[4:] == ["none", "none"]
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.slow
def test_sponsor_part_with_one_cohort_or_no_plan(sample_pilot):
    one = _report(sample_pilot.select("C01"))
    assert one.results["synthesis"].status == "unavailable"
    assert "Not available: One cohort." in _text(one.section_html("synthesis"))
    two = _report(sample_pilot.copy(), sequential_looks=0)
    text = _text(two.section_html("synthesis"))
    # two cohorts: honest about what two cohorts cannot say
    assert "too wide to be useful" in text
    assert "No decision plan across cohorts was set" in text
    assert two.results["synthesis"].tables == []
    import matplotlib.pyplot as plt

    plt.close("all")


def test_sequential_parameters_are_checked():
    from rm_analytics.report.parameters import ReportParameters, check_parameter_values

    assert ReportParameters().sequential_looks == 4
    bad = check_parameter_values(
        {"sequential_looks": -1, "sequential_information": -2.0, "sequential_spending": "x"}
    )
    assert len(bad) == 3
    assert "sequential_spending='x': expected 'obrien_fleming' or 'pocock'" in bad[2]


def test_sample_command_writes_a_heterogeneous_program(tmp_path, capsys):
    from rm_analytics.cli import run

    out = tmp_path / "program"
    args = ["sample", "--out", str(out), "--employees", "600", "--cohorts", "3", "--pairs", "4"]
    assert run([*args, "--effect-sd", "0.5", "--engagement-sd", "0.2"]) == 0
    meta = json.loads((out / "PARAMETERS.json").read_text())
    assert meta["params"]["effect_sd"] == 0.5 and meta["params"]["engagement_effect_sd"] == 0.2
    assert "skill_effect_sd" not in meta["params"]
    assert sorted(meta["truth"]["cohort_effects"]) == ["C01", "C02", "C03"]
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:  # argparse: usage error, exit 2, no traceback
        run([*args, "--force", "--effect-sd=-1"])
    assert exit_.value.code == 2
    assert "expected a number >= 0, got '-1'" in capsys.readouterr().err
