"""Group-sequential boundaries against R's rpact, and the error control of the sequential rule.

References printed by R (rpact 3.3.4)::

    library(rpact)
    show <- function(type, rates) {
      d <- getDesignGroupSequential(typeOfDesign = type, sided = 2, alpha = 0.05,
                                    informationRates = rates)
      cat(sprintf('("%s", [%s], [%s]),\n', type, paste(rates, collapse = ", "),
                  paste(sprintf("%.6f", d$criticalValues), collapse = ", ")))
    }
    for (type in c("asOF", "asP")) {
      for (k in 2:5) show(type, (1:k) / k)              # equally spaced, 2-5 looks
      show(type, c(0.3, 0.7, 1)); show(type, c(0.25, 0.5, 0.8, 1))   # unequal
      show(type, c(0.1, 0.4, 0.6, 0.8, 1)); show(type, c(0.6, 1))
    }
    d <- getDesignGroupSequential(kMax = 4, typeOfDesign = "asOF", sided = 2, alpha = 0.05,
                                  beta = 0.2)
    getDesignCharacteristics(d)$inflationFactor   # 1.019637 (asP: 1.196310)
    d$alphaSpent                                  # 1.473e-05 0.00305065 0.01929865 0.05
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import rm_analytics as rm
from rm_analytics.metrics.retention import logrank_test
from rm_analytics.metrics.synthesis import (
    AFTER_PLAN,
    EFFECTIVE,
    FUTILITY,
    HARMFUL,
    KEEP_GOING,
    NOT_DEMONSTRATED,
    PLANNED,
)
from rm_analytics.stats.sequential import (
    alpha_spent,
    conditional_power,
    crossing_probabilities,
    inflation_factor,
    naive_crossing_probability,
    sequential_bounds,
    two_sided_bounds,
)

TYPES = {"asOF": "obrien_fleming", "asP": "pocock"}

# type, informationRates, criticalValues
# fmt: off
RPACT = [
    ("asOF", [0.5, 1], [2.962588, 1.968596]),
    ("asOF", [0.333333333333333, 0.666666666666667, 1], [3.710303, 2.511427, 1.993047]),
    ("asOF", [0.25, 0.5, 0.75, 1], [4.332634, 2.963132, 2.359044, 2.014090]),
    ("asOF", [0.2, 0.4, 0.6, 0.8, 1], [4.876885, 3.357012, 2.680280, 2.289817, 2.031032]),
    ("asOF", [0.3, 0.7, 1], [3.928573, 2.438742, 2.000009]),
    ("asOF", [0.25, 0.5, 0.8, 1], [4.332634, 2.963132, 2.266213, 2.027800]),
    ("asOF", [0.1, 0.4, 0.6, 0.8, 1], [6.991352, 3.356870, 2.680276, 2.289816, 2.031032]),
    ("asOF", [0.6, 1], [2.668630, 1.980965]),
    ("asP", [0.5, 1], [2.156999, 2.200977]),
    ("asP", [0.333333333333333, 0.666666666666667, 1], [2.279428, 2.294911, 2.295938]),
    ("asP", [0.25, 0.5, 0.75, 1], [2.368328, 2.367524, 2.358168, 2.350030]),
    ("asP", [0.2, 0.4, 0.6, 0.8, 1], [2.437977, 2.426814, 2.410194, 2.396645, 2.385985]),
    ("asP", [0.3, 0.7, 1], [2.311835, 2.258346, 2.306180]),
    ("asP", [0.25, 0.5, 0.8, 1], [2.368328, 2.367524, 2.327060, 2.369722]),
    ("asP", [0.1, 0.4, 0.6, 0.8, 1], [2.655110, 2.335035, 2.396713, 2.391190, 2.382932]),
    ("asP", [0.6, 1], [2.103459, 2.230538]),
]
# fmt: on


@pytest.mark.parametrize("ref", RPACT, ids=lambda r: f"{r[0]}-{len(r[1])}-{r[1][0]:.2f}")
def test_boundaries_match_rpact(ref):
    kind, rates, critical = ref
    table = rm.sequential_boundaries(rates, spending=TYPES[kind])
    assert list(table.look) == list(range(1, len(rates) + 1))
    assert table.information.to_numpy() == pytest.approx(rates)
    assert table.z_bound.to_numpy() == pytest.approx(critical, abs=1e-4)
    # the boundaries spend exactly the planned error, look by look
    up, lo = crossing_probabilities(table.z_bound, rates)
    assert np.cumsum(up + lo) == pytest.approx(table.cumulative_alpha.to_numpy(), abs=1e-7)
    assert table.cumulative_alpha.iloc[-1] == pytest.approx(0.05)
    assert table.nominal_p.to_numpy() == pytest.approx(
        [math.erfc(c / math.sqrt(2)) for c in critical], rel=1e-3
    )


def test_equally_spaced_looks_by_number():
    by_number = rm.sequential_boundaries(4)
    by_rates = rm.sequential_boundaries([0.25, 0.5, 0.75, 1])
    pd.testing.assert_frame_equal(by_number, by_rates)


def test_spending_functions_match_rpact_alpha_spent():
    # d$alphaSpent of the 4-look asOF design and the Pocock-type function at t = 0.5
    assert alpha_spent([0.25, 0.5, 0.75, 1.0]) == pytest.approx(
        [1.473e-05, 0.00305065, 0.01929865, 0.05], rel=1e-3
    )
    assert alpha_spent(0.5, spending="pocock") == pytest.approx(
        0.05 * math.log(1 + (math.e - 1) / 2)
    )
    assert alpha_spent(0.0) == 0


def test_inflation_factor_matches_rpact():
    for spending, ref in (("obrien_fleming", 1.019637), ("pocock", 1.196310)):
        frac, _, bounds = sequential_bounds(4, spending=spending)
        assert inflation_factor(bounds, frac) == pytest.approx(ref, abs=1e-5)


def test_naive_repeated_testing_inflates_the_error():
    """|z| >= 1.96 at each of 4 equally spaced looks: about 12.6% false alarms, not 5%."""
    assert naive_crossing_probability([1, 2, 3, 4]) == pytest.approx(0.126, abs=0.002)
    assert naive_crossing_probability([1]) == pytest.approx(0.05, abs=1e-6)


def test_spending_time_apart_from_information_keeps_alpha():
    """Spending at j / K while the information grows unevenly: still exactly alpha in total."""
    info = np.array([3.0, 4.0, 9.0, 10.0])
    cum = alpha_spent(np.arange(1, 5) / 4)
    bounds = two_sided_bounds(cum, info)
    up, lo = crossing_probabilities(bounds, info)
    assert (up + lo).sum() == pytest.approx(0.05, abs=1e-7)
    # scale-free: only the ratios of the information matter
    assert two_sided_bounds(cum, info * 7.5) == pytest.approx(bounds, abs=1e-9)


def test_conditional_power():
    # halfway, on the planned trend (drift 2.8 at the end) and final bound 1.96: about 0.89
    assert conditional_power(2.8 * math.sqrt(0.5), 0.5, 1.96) == pytest.approx(
        0.5 * math.erfc(-(2.8 - 1.96) / math.sqrt(0.5) / math.sqrt(2)), rel=1e-9
    )
    assert conditional_power(3.0, 1.0, 1.96) == 1.0
    assert conditional_power(0.0, 0.5, 1.96) < 0.01


def test_bad_input():
    with pytest.raises(ValueError, match="end at 1"):
        rm.sequential_boundaries([0.3, 0.6])
    with pytest.raises(ValueError, match="increase"):
        rm.sequential_boundaries([0.5, 0.5, 1])
    with pytest.raises(ValueError, match="spending"):
        rm.sequential_boundaries(3, spending="haybittle")
    with pytest.raises(ValueError, match="whole number"):
        rm.sequential_boundaries(2.5)


# -- monitoring a program -------------------------------------------------------------------
def _frame(y, s):
    return pd.DataFrame({"cohort": [f"C{i + 1:02d}" for i in range(len(y))], "y": y, "se": s})


def test_monitor_statuses_and_planned_looks():
    # benefit is a lower estimate (log hazard ratio); z is signed so that benefit is positive
    d = _frame([-0.6, -0.5], [0.35, 0.35])
    res = rm.sequential_monitor(d, estimate="y", se="se", label="cohort", looks=4)
    s = res.summary
    assert list(s.status) == [KEEP_GOING, KEEP_GOING, PLANNED, PLANNED]
    w = 1 / 0.35**2
    z2 = (0.6 + 0.5) * w / math.sqrt(2 * w)
    assert s.z.iloc[1] == pytest.approx(z2)
    assert s.z_bound.iloc[:2].to_numpy() == pytest.approx(
        rm.sequential_boundaries(4).z_bound.iloc[:2].to_numpy(), abs=1e-6
    )  # equal information per cohort: the equally spaced design
    assert res.status_ == KEEP_GOING
    # a third strong cohort crosses the boundary at look 3
    res3 = rm.sequential_monitor(
        _frame([-0.6, -0.5, -1.0], [0.35] * 3), estimate="y", se="se", label="cohort", looks=4
    )
    assert res3.status_ == EFFECTIVE and res3.decision_look_ == 3
    # harm crosses the other side; no trend at half-way is futility (non-binding)
    harm = rm.sequential_monitor(_frame([1.2, 1.0], [0.3, 0.3]), estimate="y", se="se", looks=2)
    assert harm.status_ == HARMFUL
    flat = rm.sequential_monitor(_frame([0.05, 0.1], [0.3, 0.3]), estimate="y", se="se", looks=4)
    assert list(flat.summary.status[:2]) == [KEEP_GOING, FUTILITY]
    # the final look without crossing
    last = rm.sequential_monitor(_frame([-0.1, 0.0], [0.3, 0.3]), estimate="y", se="se", looks=2)
    assert last.status_ == "final look: benefit not demonstrated"


def test_cohorts_after_the_plan_keep_the_final_looks_verdict():
    """Six cohorts under a four-look plan: the verdict is the final look's; the two later
    cohorts are 'after the plan's last look' and change nothing (the status read "after the
    plan's last look" and the report showed a boundary of nan)."""
    d = _frame([-0.1, 0.0, -0.2, 0.1, -0.9, -1.0], [0.35] * 6)
    res = rm.sequential_monitor(d, estimate="y", se="se", label="cohort", looks=4)
    s = res.summary
    assert list(s.status) == [KEEP_GOING] * 3 + [NOT_DEMONSTRATED] + [AFTER_PLAN] * 2
    assert res.status_ == NOT_DEMONSTRATED and res.status_look_ == 4
    assert res.decision_look_ is None
    assert np.isfinite(s.z_bound.iloc[3]) and s.z_bound.iloc[4:].isna().all()
    # a crossing keeps its look
    early = rm.sequential_monitor(
        _frame([-1.5, -1.5, -1.5, 0.0, 0.0], [0.3] * 5), estimate="y", se="se", looks=3
    )
    assert early.status_ == EFFECTIVE and early.status_look_ == early.decision_look_


def test_monitor_plan_by_information():
    d = _frame([-0.5, -0.5, -0.5], [0.4, 0.4, 0.4])
    res = rm.sequential_monitor(d, estimate="y", se="se", looks=6, max_information=25.0)
    s = res.summary
    info = np.cumsum([1 / 0.16] * 3)
    assert s.information.iloc[:3].to_numpy() == pytest.approx(info)
    assert s.fraction.iloc[:3].to_numpy() == pytest.approx(info / 25.0)
    # information reaching the plan's total ends the plan at that look
    full = rm.sequential_monitor(d, estimate="y", se="se", looks=6, max_information=12.0)
    assert full.summary.fraction.iloc[1] == 1.0
    assert full.summary.status.iloc[2] in ("after the plan's last look", "decided earlier")


def test_monitor_plot_draws_the_path_and_the_boundaries():
    d = _frame([-0.9, -0.8], [0.35, 0.35])
    ax = rm.sequential_monitor(d, estimate="y", se="se", label="cohort", looks=4).plot()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["C01", "C02", "look 3", "look 4"]
    path = [ln for ln in ax.lines if ln.get_label() == "evidence so far"]
    assert len(path) == 1 and len(path[0].get_xdata()) == 2
    labels = {ln.get_label() for ln in ax.lines}
    assert {"decision boundary", "boundary at the planned looks", "1.96 (one test alone)"} <= labels
    import matplotlib.pyplot as plt

    plt.close("all")


def test_planned_information():
    plan = rm.planned_information(0.7, looks=4, controls_per_participant=2.0)
    fixed = ((1.959964 + 0.841621) / math.log(0.7)) ** 2
    assert plan["fixed_information"] == pytest.approx(fixed, rel=1e-5)
    assert plan["inflation_factor"] == pytest.approx(1.019637, abs=1e-5)
    assert plan["max_information"] == pytest.approx(fixed * 1.019637, rel=1e-5)
    # information = events x share participants x share controls = events x 2/9
    assert plan["events"] == pytest.approx(plan["max_information"] * 9 / 2, rel=1e-9)


@pytest.mark.slow
def test_null_simulation_error_stays_at_alpha():
    """Four cohorts of 12 participants and 24 controls with no program effect, analysed after
    each cohort (Peto log hazard ratios, plan of 4 looks): declaring "effective" at any look
    happens at most 5% of the time (2.5% expected: one side of a two-sided 5% design), and a
    boundary on either side is crossed about 5% of the time, while testing each look at
    |z| >= 1.96 raises a false alarm about 12.6% of the time."""
    rng = np.random.default_rng(20250113)
    n_sim, looks = 1000, 4
    group = np.r_[np.ones(12), np.zeros(24)]
    effective = any_cross = naive = 0
    for _ in range(n_sim):
        y, s = [], []
        for _c in range(looks):
            follow = rng.uniform(0.5, 2.0, group.size)  # years followed
            t = rng.exponential(1 / 0.18, group.size)  # 18% a year leave, in both groups
            event = (t <= follow).astype(float)
            lr = logrank_test(np.minimum(t, follow), event, group)
            if lr.variance > 0:
                y.append((lr.observed - lr.expected) / lr.variance)
                s.append(1 / math.sqrt(lr.variance))
        res = rm.sequential_monitor(_frame(y, s), estimate="y", se="se", looks=looks)
        st = list(res.summary.status)
        effective += EFFECTIVE in st
        any_cross += EFFECTIVE in st or HARMFUL in st
        naive += bool((res.summary.z.dropna().abs() >= 1.959964).any())
    p_eff, p_any, p_naive = effective / n_sim, any_cross / n_sim, naive / n_sim
    mc = math.sqrt(0.05 * 0.95 / n_sim)
    assert p_eff <= 0.05
    assert p_any <= 0.05 + 2.5 * mc
    assert p_naive > 0.09  # 12.6% in theory
