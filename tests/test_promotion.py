"""Promotion rates.

Reference: R's ``?poisson.test`` example (Armitage & Berry, p. 142):
``poisson.test(c(11, 6 + 8 + 7), c(800, 1083 + 1050 + 878))`` gives rate ratio 1.971488,
95% CI 0.8584264 to 4.2772659, p-value = 0.07967 (exact conditional binomial).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rm_analytics.metrics.promotion import (
    pilot_promotion,
    poisson_rate_ci,
    promotion_rates,
    rate_ratio_exact,
)
from rm_analytics.results import ESTIMATE_COLUMNS


def test_rate_ratio_matches_r_poisson_test():
    r = rate_ratio_exact(11, 800, 21, 1083 + 1050 + 878)
    assert r["estimate"] == pytest.approx(1.971488, abs=1e-6)
    assert r["ci_low"] == pytest.approx(0.8584264, abs=1e-7)
    assert r["ci_high"] == pytest.approx(4.2772659, abs=1e-7)
    assert r["p_value"] == pytest.approx(0.07967, abs=5e-6)


def test_poisson_rate_ci_exact():
    # Garwood interval for 10 events: 4.795389 to 18.390356 (R: poisson.test(10)$conf.int)
    lo, hi = poisson_rate_ci(10, 1.0)
    assert lo == pytest.approx(4.795389, abs=1e-6) and hi == pytest.approx(18.390356, abs=1e-6)
    assert poisson_rate_ci(0, 2.0)[0] == 0.0


@pytest.mark.slow
def test_rate_ratio_coverage_simulation():
    """Exact intervals are conservative: coverage at least nominal, not wildly above."""
    rng = np.random.default_rng(2)
    reps, hits, rr = 2000, 0, 1.3
    for _ in range(reps):
        t1, t2 = rng.uniform(20, 40), rng.uniform(60, 120)
        x1, x2 = rng.poisson(0.1 * rr * t1), rng.poisson(0.1 * t2)
        r = rate_ratio_exact(x1, t1, x2, t2)
        hits += r["ci_low"] <= rr <= r["ci_high"]
    assert 0.94 <= hits / reps <= 0.995


def test_promotion_rates_generic():
    df = pd.DataFrame(
        {
            "g": [1] * 6 + [0] * 6,
            "fu": [2.0] * 12,
            "k": [1, 0, 2, 0, 1, 0, 0, 0, 1, 0, 0, 0],
            "first": [
                0.5,
                np.nan,
                1.0,
                np.nan,
                1.5,
                np.nan,
                np.nan,
                np.nan,
                1.2,
                np.nan,
                np.nan,
                np.nan,
            ],
        }
    )
    r = promotion_rates(df, group="g", followup="fu", events="k", first_event="first")
    rate = r.summary[r.summary.metric.eq("rate")].set_index("group")
    assert rate.loc["treated", "estimate"] == pytest.approx(4 / 12)
    rr = r.row(metric="rate_ratio")
    assert rr.estimate == pytest.approx(4.0)
    share = r.row(metric="promoted_share", group="treated")
    assert share.estimate == pytest.approx(0.5)
    assert 0 <= r.logrank_p_ <= 1
    with pytest.warns(DeprecationWarning, match="logrank_p_"):
        assert r.logrank_p == r.logrank_p_
    assert list(r.summary.columns[:7]) == ["metric", "group", *ESTIMATE_COLUMNS]
    assert rr.group == "treated vs control"
    ax = r.plot()  # one step curve per group, labelled in words
    assert [line.get_label() for line in ax.get_lines()] == ["participants", "control"]
    assert ax.get_lines()[0].get_ydata().max() == pytest.approx(0.5)


def test_pilot_promotion_designated_and_eligible(sample_pilot):
    r = pilot_promotion(sample_pilot)
    assert any("designated control" in n for n in r.notes)
    assert set(r.summary.metric) == {"rate", "rate_ratio", "promoted_share"}
    assert not r.summary.astype(str).apply(lambda c: c.str.contains("E0")).any().any()
    r2 = pilot_promotion(sample_pilot, control="eligible", role="both")
    assert r2.row(metric="rate", group="control").n > 100
    assert r.arguments["as_of"] == f"{sample_pilot.analysis_date():%Y-%m-%d}"
    with pytest.warns(DeprecationWarning, match="role='mentors' is now role='mentor'"):
        old = pilot_promotion(sample_pilot, role="mentors")
    pd.testing.assert_frame_equal(old.summary, r.summary)


@pytest.mark.slow
def test_pilot_promotion_recovers_rate_ratio():
    """Promotion rate ratio 1.3 for participants (truth['promotion_hazard_ratio']); the
    simulated rate does not depend on grade, so grade-eligible non-participants are a fair
    control. Several cohorts for precision."""
    from rm_analytics.data.synthetic import generate

    s = generate(
        seed=4,
        n_employees=6000,
        n_cohorts=6,
        pairs_per_cohort=40,
        unsafe_pairs=0,
        stalled_pairs=0,
        conflict_pairs=0,
    )
    r = pilot_promotion(s.to_pilot(), control="eligible", role="both")
    rr = r.row(metric="rate_ratio")
    truth = s.truth["promotion_hazard_ratio"]
    assert rr.ci_low <= truth <= rr.ci_high
    assert rr.ci_low > 0.9  # the design can tell 1.3 from much lower
