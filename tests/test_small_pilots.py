"""Small pilots, honest numbers: retention inference at a dozen pairs, zero exits, few events.

Each test builds its own case. Reference values come from R where R has the method (the R call
that printed them is in a comment next to them); where R has no such method the test checks
the property itself (exact enumeration of a test's size, consistency of an interval with its
p-value). The null simulations are in ``tests/test_null_simulations.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rm_analytics.metrics.retention import compare_retention, exact_attrition_p


# -- item 1: exact test on attrition by the horizon ------------------------------------------
def _exact_size(n_t: int, n_c: int, alpha: float = 0.05, method: str = "boschloo") -> float:
    """Size of the level-alpha test: P(p <= alpha) maximised over the common leaving
    probability (fine grid), every 2x2 table enumerated."""
    p = np.array(
        [
            [exact_attrition_p(a, n_t, c, n_c, method) for c in range(n_c + 1)]
            for a in range(n_t + 1)
        ]
    )
    grid = np.linspace(0, 1, 2001)
    b_t = stats.binom.pmf(np.arange(n_t + 1)[:, None], n_t, grid)
    b_c = stats.binom.pmf(np.arange(n_c + 1)[:, None], n_c, grid)
    size = np.einsum("ag,cg,ac->g", b_t, b_c, (p <= alpha).astype(float))
    return float(size.max())


def test_exact_test_takes_the_groups_as_columns():
    """scipy's boschloo_exact compares the two columns of the table (its docs: the samples are
    the columns). 0 of 12 participants vs 6 of 24 controls left."""
    p = exact_attrition_p(0, 12, 6, 24, "boschloo")
    assert p == pytest.approx(stats.boschloo_exact([[0, 6], [12, 18]]).pvalue, rel=1e-9)
    assert p == pytest.approx(0.0768, abs=1e-4)
    # the transposed table (passed until this fix) tests another design: p = 0.0643
    assert stats.boschloo_exact([[0, 12], [6, 18]]).pvalue == pytest.approx(0.0643, abs=1e-4)
    # Fisher's test is symmetric in the two margins:
    # R: fisher.test(matrix(c(0, 12, 6, 6), 2))$p.value  -> 0.01372997712
    assert exact_attrition_p(0, 12, 6, 12, "fisher") == pytest.approx(0.01372997712, abs=1e-10)
    assert exact_attrition_p(0, 12, 0, 24) == 1.0
    assert np.isnan(exact_attrition_p(0, 0, 3, 24))


@pytest.mark.slow
@pytest.mark.parametrize("n_t, n_c", [(12, 12), (12, 24)])
def test_exact_test_is_exact_by_enumeration(n_t, n_c):
    """The size of the 5% test, over every table and leaving probability, is at most 5%
    (4.49% for 12 vs 12, 4.54% for 12 vs 24; Fisher's 2.28%, 2.95%). With the table
    transposed a 12-vs-12 pilot was rejected 6.4% of the time."""
    assert _exact_size(n_t, n_c) <= 0.05
    assert _exact_size(n_t, n_c, method="fisher") <= 0.05


def test_exact_test_row_uses_known_status():
    """The summary's exact-test row: 0 of 12 participants vs 6 of 12 controls left by 12 months,
    everyone followed to 12 months."""
    t = np.r_[np.full(12, 20.0), np.full(6, 5.0), np.full(6, 20.0)]
    e = np.r_[np.zeros(12), np.ones(6), np.zeros(6)]
    g = np.r_[np.ones(12), np.zeros(12)]
    res = compare_retention(
        pd.DataFrame({"t": t, "e": e, "g": g}),
        duration="t",
        event="e",
        group="g",
        horizons=[12],
        ph_check=False,
    )
    row = res.row(metric="exact_test", horizon=12)
    assert row.estimate == pytest.approx(0 - 6 / 12)
    assert row.p_value == pytest.approx(stats.boschloo_exact([[0, 6], [12, 6]]).pvalue)
    assert row.n == 24 and row.n_events == 6


# -- item 8: smaller edges of the retention analysis ------------------------------------------
def _four_and_four():
    # participants: censored 1, exit 2, censored 3, exit 4 (the last one left: S = 0 from 4)
    # controls: exit 5, censored 6, exit 7, exit 8
    return pd.DataFrame(
        {
            "t": [1, 2, 3, 4, 5, 6, 7, 8],
            "e": [0, 1, 0, 1, 1, 0, 1, 1],
            "g": [1, 1, 1, 1, 0, 0, 0, 0],
        }
    )


def test_survival_after_the_last_exit_is_the_estimate_not_nan():
    """Once the last person still followed has left, retention is 0 from then on.
    R: summary(survfit(Surv(t, e) ~ 1, subset = g == 1), times = c(4.5, 6, 9),
    extend = TRUE)$surv -> 0 0 0; print(survfit(...), rmean = 6) -> rmean 3.33, se 0.544."""
    res = compare_retention(
        _four_and_four(),
        duration="t",
        event="e",
        group="g",
        horizons=[4.5, 6, 9],
        tau=6,
        ph_check=False,
    )
    for h in (4.5, 6, 9):
        assert res.row(metric="retention", group="treated", horizon=h).estimate == 0
        assert res.row(metric="attrition", group="treated", horizon=h).estimate == 1
        assert res.row(metric="cumulative_incidence", group="treated", horizon=h).estimate == 1
    assert res.row(metric="retention", group="control", horizon=9).estimate == 0
    rm = res.row(metric="rmst", group="treated")
    assert rm.estimate == pytest.approx(10 / 3) and rm.se == pytest.approx(0.5443311, abs=1e-6)
    assert not any("beyond a group's last follow-up" in n for n in res.notes)
    # a group whose last person was censored is still not extrapolated
    cens = _four_and_four().assign(e=[0, 1, 0, 0, 1, 0, 1, 1])
    res2 = compare_retention(
        cens, duration="t", event="e", group="g", horizons=[6], tau=6, ph_check=False
    )
    assert np.isnan(res2.row(metric="retention", group="treated", horizon=6).estimate)
    assert any("beyond a group's last follow-up" in n for n in res2.notes)


# R 4.2.2, survival 3.5.3, on this data (x = 1: nobody leaves):
#   f <- coxph(Surv(t, e) ~ g + x)  # Warning: Loglik converged before variable 2;
#                                   # coefficient may be infinite.
#   coef(f): g 0.7932996168, x -21.5776984090; se: g 0.5513945069, x 1.097422330e+04
#   cox.zph(coxph(Surv(t, e) ~ g), transform = "km")$table["g", "p"] -> 0.461179975
COX_T = [
    20.37,
    8.0,
    13.51,
    5.79,
    0.8,
    4.84,
    6.92,
    1.65,
    1.08,
    10.51,
    11.4,
    12.16,
    2.78,
    22.32,
    14.82,
    20.64,
    5.68,
    1.33,
    4.88,
    6.19,
    7.1,
    12.91,
    8.87,
    12.38,
    13.3,
    6.59,
    17.97,
    9.18,
    11.71,
    5.86,
    5.04,
    7.93,
    10.13,
    18.92,
    18.35,
    12.21,
    11.82,
    15.0,
    17.88,
    10.06,
]
COX_E = [1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1] + [0] * 20


def _cox_frame():
    return pd.DataFrame(
        {"t": COX_T, "e": COX_E, "g": np.tile([1, 0], 20), "x": np.repeat([0, 1], 20)}
    )


def test_diverging_adjustment_covariate_gets_a_note_as_r_warns():
    from rm_analytics.metrics.retention import cox_efron

    d = _cox_frame()
    fit = cox_efron(d.t, d.e, d[["g", "x"]].to_numpy())
    assert list(fit.infinite) == [False, True]  # R: "converged before variable 2"
    assert fit.coef[0] == pytest.approx(0.7932996168, abs=1e-6)
    assert fit.se[0] == pytest.approx(0.5513945069, abs=1e-6)
    res = compare_retention(
        d, duration="t", event="e", group="g", covariates=["x"], horizons=[6], ph_check=False
    )
    assert res.hazard_ratio == pytest.approx(np.exp(0.7932996168), rel=1e-6)
    assert any("covariate(s) x runs off towards infinity" in n for n in res.notes)
    plain = compare_retention(d, duration="t", event="e", group="g", horizons=[6], ph_check=False)
    assert not any("infinity" in n for n in plain.notes)


def test_everyone_censored_says_so_plainly():
    d = _four_and_four().assign(e=0)
    res = compare_retention(d, duration="t", event="e", group="g", horizons=[3], ph_check=False)
    text = " ".join(res.notes)
    assert "either group" in text and "the either group" not in text
    assert "No exits at all" in text and "retention is 100% in both groups" in text
    assert "needs about" in text and "exits in total" in text  # what it would take
    assert np.isnan(res.row(metric="logrank").p_value)


def test_ph_check_says_which_test_it_is():
    """The p-value is lifelines' approximation (0.475 here); R's current cox.zph gives 0.461
    on the same fit, so the note names the test rather than 'Grambsch-Therneau' alone."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    d = _cox_frame()[["t", "e", "g"]]
    res = compare_retention(d, duration="t", event="e", group="g", horizons=[6])
    cph = CoxPHFitter().fit(d.rename(columns={"g": "treated"}), "t", "e")
    p = proportional_hazard_test(cph, d.rename(columns={"g": "treated"}), time_transform="km")
    p = float(p.summary.loc["treated", "p"])
    assert p == pytest.approx(0.475, abs=1e-3)
    note = next(n for n in res.notes if "proportional hazards" in n)
    assert f"p = {p:.3g}" in note
    assert "lifelines' proportional_hazard_test" in note and "cox.zph" in note


# -- item 2: RMST difference when a group has no exit ---------------------------------------
def _no_exit_pilot():
    """12 participants without an exit, 24 controls of whom 4 left, three cohorts followed
    6, 12 and 18 months (participants and controls share the cohorts' follow-up)."""
    fu = np.repeat([18.0, 12.0, 6.0], 4)
    fu_c = np.repeat([18.0, 12.0, 6.0], 8)
    t_c = fu_c.copy()
    t_c[[0, 3, 9, 17]] = [2.5, 7.0, 4.0, 3.0]
    e_c = np.zeros(24)
    e_c[[0, 3, 9, 17]] = 1
    return pd.DataFrame(
        {
            "t": np.r_[fu, t_c],
            "e": np.r_[np.zeros(12), e_c],
            "g": np.r_[np.ones(12), np.zeros(24)],
            "cohort": np.r_[np.repeat([1, 2, 3], 4), np.repeat([1, 2, 3], 8)],
        }
    )


def test_rmst_difference_without_exits_uses_the_permutation_test():
    d = _no_exit_pilot()
    res = compare_retention(
        d, duration="t", event="e", group="g", strata="cohort", horizons=[6], tau=12, ph_check=False
    )
    row = res.row(metric="rmst_difference")
    # survRM2 would give the participants a standard error of 0: its interval is the
    # controls' alone (Wald: 0.15 to 2.69 months, p = 0.029)
    wald = compare_retention(
        d,
        duration="t",
        event="e",
        group="g",
        strata="cohort",
        horizons=[6],
        tau=12,
        ph_check=False,
        rmst_test="survrm2",
    )
    w_row = wald.row(metric="rmst_difference")
    assert w_row.se == pytest.approx(res.row(metric="rmst", group="control").se)
    assert w_row.p_value < 0.05
    # the permutation test: wider, valid, consistent with its p-value
    assert row.estimate == pytest.approx(w_row.estimate)
    assert row.ci_high - row.ci_low > w_row.ci_high - w_row.ci_low
    assert (row.p_value < 0.05) == (row.ci_low > 0 or row.ci_high < 0)
    assert row.p_value > 0.05  # 0.29 (interval -0.39 to 3.22)
    assert any("RMST difference: permutation test" in n for n in res.notes)
    # seeded: the same numbers on every run
    again = compare_retention(
        d, duration="t", event="e", group="g", strata="cohort", horizons=[6], tau=12, ph_check=False
    )
    assert again.row(metric="rmst_difference").p_value == row.p_value
    # the group without exits: RMST = tau, interval from tau (alpha/2)^(1/n followed to tau)
    rm_t = res.row(metric="rmst", group="treated")
    assert rm_t.estimate == 12 and rm_t.ci_high == 12
    assert rm_t.ci_low == pytest.approx(12 * 0.025 ** (1 / 8))


def test_rmst_permutation_p_value_matches_full_enumeration():
    """4 vs 4 people: all 70 relabellings enumerated give the exact permutation p-value;
    the Monte Carlo p-value (1,999 draws) is within its sampling error of it."""
    from itertools import combinations

    from rm_analytics.stats.survival import _rmst_by_labels, rmst_permutation_test

    t = np.array([2.0, 5.0, 7.5, 9.0, 1.0, 3.0, 4.0, 6.0])
    e = np.array([0, 1, 0, 0, 1, 1, 1, 0.0])
    g = np.r_[np.ones(4), np.zeros(4)]
    labels = np.zeros((70, 8))
    for i, idx in enumerate(combinations(range(8), 4)):
        labels[i, list(idx)] = 1
    star = _rmst_by_labels(t, e, labels, 8.0)
    d = _rmst_by_labels(t, e, g[None, :], 8.0)[0]
    exact = np.mean(np.abs(star) >= abs(d) - 1e-12)
    mc = rmst_permutation_test(t, e, g, 8.0)
    assert mc["estimate"] == pytest.approx(d)
    assert abs(mc["p_value"] - exact) < 3 * np.sqrt(exact * (1 - exact) / 1999) + 1 / 2000
    # strata: labels move only within strata, so the treated count per stratum is kept
    from rm_analytics.stats.survival import _permuted_labels

    perm = _permuted_labels(g, np.r_[0, 0, 1, 1, 0, 0, 1, 1], None, 50, np.random.default_rng(0))
    assert (perm[:, [0, 1, 4, 5]].sum(axis=1) == 2).all()
    # clusters that share a group move together; mixed clusters are the blocks
    pairs = np.r_[0, 0, 1, 1, 2, 3, 4, 5]
    perm = _permuted_labels(g, None, pairs, 50, np.random.default_rng(0))
    assert (perm[:, 0] == perm[:, 1]).all() and (perm[:, 2] == perm[:, 3]).all()
    sets = np.r_[0, 1, 2, 3, 0, 1, 2, 3]
    perm = _permuted_labels(g, None, sets, 50, np.random.default_rng(0))
    assert (perm[:, :4] + perm[:, 4:] == 1).all()


def test_weighted_rmst_difference_without_exits_has_no_p_value():
    """With IPW weights the labels cannot be permuted; a group without exits (or with fewer
    than 10) has no usable standard error, so there is no interval or p-value, and a note
    defers to the other tests."""
    d = _no_exit_pilot()
    d["w"] = np.where(d.g == 1, 1.0, 0.7 + 0.1 * (np.arange(len(d)) % 5))
    res = compare_retention(
        d, duration="t", event="e", group="g", weights="w", horizons=[6], tau=12, ph_check=False
    )
    row = res.row(metric="rmst_difference")
    assert np.isfinite(row.estimate)
    assert np.isnan(row.ci_low) and np.isnan(row.p_value)
    assert any("without an interval or p-value" in n and "log-rank" in n for n in res.notes)
    # one participant exit: the robust Wald p-value would be absurdly small; still none
    one = d.copy()
    one.loc[0, ["t", "e"]] = [5.0, 1]
    res1 = compare_retention(
        one, duration="t", event="e", group="g", weights="w", horizons=[6], tau=12, ph_check=False
    )
    assert np.isnan(res1.row(metric="rmst_difference").p_value)
    forced = compare_retention(
        one,
        duration="t",
        event="e",
        group="g",
        weights="w",
        horizons=[6],
        tau=12,
        ph_check=False,
        rmst_test="survrm2",
    )
    assert np.isfinite(forced.row(metric="rmst_difference").p_value)
