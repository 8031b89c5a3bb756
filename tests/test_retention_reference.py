"""Reproduce published R results (survival, survRM2) on public data sets, to 1e-3.

References
----------
* Rossi recidivism data (shipped with lifelines): Fox & Weisberg, "Cox Proportional-Hazards
  Regression for Survival Data in R", appendix to An R Companion to Applied Regression (2nd ed.,
  2011), output of ``coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio)``:
  fin coef -0.37942, se 0.19138, exp(coef) 0.6843, 95% CI 0.4702-0.9957.
* NCCTG lung cancer data (R survival's ``lung``, shipped with lifelines): E. C. Zabor,
  "Survival analysis in R" tutorial: ``coxph(Surv(time, status) ~ sex)`` coef -0.531,
  se 0.167, HR 0.588 (0.424-0.816), likelihood-ratio test 10.63; ``survdiff`` p-value
  ``1 - pchisq(sd$chisq, 1)`` = 0.001311165 (chi-square 10.3); one-year survival
  ``summary(survfit(Surv(time, status) ~ 1, lung), times = 365.25)``: 0.409, std.err 0.0358,
  95% CI 0.345-0.486 (log transform).
* Mayo PBC trial (R survival's ``pbc``, first 312 cases, ``tests/data/pbc312.csv``): survRM2
  vignette (Uno et al.), ``rmst2(time, status, arm, tau = 10)`` on ``rmst2.sample.data()``:
  RMST arm 1 7.146 (se 0.283, 6.592-7.701), arm 0 7.283 (se 0.295, 6.704-7.863), difference
  -0.137 (-0.939 to 0.665), p 0.738.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rm_analytics.metrics.retention import (
    aalen_johansen,
    cif_at,
    compare_retention,
    cox_efron,
    km_at,
    km_table,
    logrank_test,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def rossi():
    from lifelines.datasets import load_rossi

    return load_rossi()


@pytest.fixture(scope="module")
def lung():
    from lifelines.datasets import load_lung

    d = load_lung()
    return d.assign(female=(d.sex == 2).astype(int))


@pytest.fixture(scope="module")
def pbc():
    d = pd.read_csv(DATA / "pbc312.csv", comment="#")
    return pd.DataFrame(
        {"time": d.time / 365.25, "status": (d.status == 2).astype(int), "arm": (d.trt == 1) * 1}
    )


def test_rossi_cox_matches_r(rossi):
    res = compare_retention(
        rossi,
        duration="week",
        event="arrest",
        group="fin",
        covariates=["age", "race", "wexp", "mar", "paro", "prio"],
        horizons=[52],
        ph_check=False,
    )
    hr = res.row(metric="hazard_ratio")
    assert np.log(hr.estimate) == pytest.approx(-0.37942, abs=1e-4)
    assert hr.se == pytest.approx(0.19138, abs=1e-4)
    assert hr.ci_low == pytest.approx(0.4702, abs=1e-3)
    assert hr.ci_high == pytest.approx(0.9957, abs=1e-3)
    fit = res.cox_
    # every coefficient and SE of the R output
    r_coef = [-0.37942, -0.05744, 0.31390, -0.14980, -0.43370, -0.08487, 0.09150]
    r_se = [0.19138, 0.02200, 0.30799, 0.21222, 0.38187, 0.19576, 0.02865]
    np.testing.assert_allclose(fit.coef, r_coef, atol=1e-4)
    np.testing.assert_allclose(fit.se, r_se, atol=1e-4)


def test_lung_cox_logrank_km_match_r(lung):
    res = compare_retention(
        lung, duration="time", event="status", group="female", horizons=[365.25], ph_check=False
    )
    hr = res.row(metric="hazard_ratio")
    assert np.log(hr.estimate) == pytest.approx(-0.531, abs=1e-3)
    assert hr.se == pytest.approx(0.167, abs=1e-3)
    assert hr.estimate == pytest.approx(0.588, abs=1e-3)
    assert hr.ci_low == pytest.approx(0.424, abs=1e-3)
    assert hr.ci_high == pytest.approx(0.816, abs=1e-3)
    assert 2 * (res.cox_.loglik - res.cox_.loglik0) == pytest.approx(10.63, abs=5e-3)
    lr = res.row(metric="logrank")
    assert lr.p_value == pytest.approx(0.001311165, abs=1e-6)
    assert lr.estimate == pytest.approx(10.3, abs=0.05)
    one = km_at(km_table(lung.time, lung.status), [365.25])
    assert one["surv"][0] == pytest.approx(0.409, abs=1e-3)
    assert one["se"][0] == pytest.approx(0.0358, abs=1e-4)
    assert one["ci_low"][0] == pytest.approx(0.345, abs=1e-3)
    assert one["ci_high"][0] == pytest.approx(0.486, abs=1e-3)
    # log-log transform is what lifelines reports by default
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter().fit(lung.time, lung.status)
    ll = km_at(km_table(lung.time, lung.status), [365.25], conf_type="log-log")
    ci = kmf.confidence_interval_survival_function_
    row = ci[ci.index <= 365.25].iloc[-1]
    assert ll["ci_low"][0] == pytest.approx(row.iloc[0], abs=1e-6)
    assert ll["ci_high"][0] == pytest.approx(row.iloc[1], abs=1e-6)


def test_pbc_rmst_matches_survrm2(pbc):
    res = compare_retention(
        pbc, duration="time", event="status", group="arm", tau=10, horizons=[5], ph_check=False
    )
    t = res.row(metric="rmst", group="treated")
    c = res.row(metric="rmst", group="control")
    d = res.row(metric="rmst_difference")
    for row, (est, se, lo, hi) in (
        (t, (7.146, 0.283, 6.592, 7.701)),
        (c, (7.283, 0.295, 6.704, 7.863)),
    ):
        assert row.estimate == pytest.approx(est, abs=1e-3)
        assert row.se == pytest.approx(se, abs=1e-3)
        assert row.ci_low == pytest.approx(lo, abs=1e-3)
        assert row.ci_high == pytest.approx(hi, abs=1e-3)
        assert row.horizon == 10
    assert d.estimate == pytest.approx(-0.137, abs=1e-3)
    assert d.ci_low == pytest.approx(-0.939, abs=1e-3)
    assert d.ci_high == pytest.approx(0.665, abs=1e-3)
    assert d.p_value == pytest.approx(0.738, abs=1e-3)


def test_stratified_cox_and_logrank_match_lifelines(rossi):
    """Stratified fits agree with lifelines (model-based variance) and a hand-summed log-rank."""
    from lifelines import CoxPHFitter

    cols = ["fin", "age", "prio"]
    cph = CoxPHFitter().fit(
        rossi[[*cols, "race", "week", "arrest"]], "week", "arrest", strata=["race"]
    )
    fit = cox_efron(rossi.week, rossi.arrest, rossi[cols].to_numpy(), strata=rossi.race)
    np.testing.assert_allclose(fit.coef, cph.params_.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(fit.se, cph.standard_errors_.to_numpy(), atol=1e-6)
    # stratified log-rank: O - E and V add over strata
    parts = [logrank_test(g.week, g.arrest, g.fin) for _, g in rossi.groupby("race")]
    st = logrank_test(rossi.week, rossi.arrest, rossi.fin, strata=rossi.race)
    o_e = sum(p.observed - p.expected for p in parts)
    v = sum(p.variance for p in parts)
    assert st.statistic == pytest.approx(o_e**2 / v, rel=1e-10)


def test_robust_variance_matches_lifelines_without_ties(rossi):
    from lifelines import CoxPHFitter

    rng = np.random.default_rng(3)
    d = rossi.assign(
        week=rossi.week + rng.uniform(0, 0.5, len(rossi)), w=rng.uniform(0.5, 2, len(rossi))
    )
    cols = ["fin", "age", "prio"]
    cph = CoxPHFitter().fit(
        d[[*cols, "week", "arrest", "w"]], "week", "arrest", weights_col="w", robust=True
    )
    fit = cox_efron(d.week, d.arrest, d[cols].to_numpy(), weights=d.w, robust=True)
    np.testing.assert_allclose(fit.coef, cph.params_.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(fit.se, cph.standard_errors_.to_numpy(), rtol=1e-6)


def test_robust_variance_with_ties_is_the_infinitesimal_jackknife(rossi):
    """With tied times lifelines' robust variance ignores ties (its source says so); R's
    dfbeta residuals are the derivative of the estimate with respect to each case weight.
    Check ours against that derivative computed numerically."""
    d = rossi.iloc[:150]
    cols = ["fin", "prio"]
    X = d[cols].to_numpy(dtype=float)
    w = np.ones(len(d))
    from rm_analytics.stats.cox import CoxData

    fit = cox_efron(d.week, d.arrest, X, weights=w)
    res = CoxData(d.week, d.arrest, X, None, w).score_residuals(fit.coef)
    dfbeta = res @ fit.var_model
    h = 1e-4
    for i in np.flatnonzero(d.arrest.to_numpy())[:6].tolist() + [0, 1, 2]:
        wp, wm = w.copy(), w.copy()
        wp[i] += h
        wm[i] -= h
        bp = cox_efron(d.week, d.arrest, X, weights=wp, eps=1e-14).coef
        bm = cox_efron(d.week, d.arrest, X, weights=wm, eps=1e-14).coef
        np.testing.assert_allclose((bp - bm) / (2 * h), dfbeta[i], rtol=1e-4, atol=1e-7)


def test_aalen_johansen_by_hand():
    # times 1..6; cause 1 = event of interest, 2 = competing, 0 = censored; a tie at t=2
    t = np.array([1, 2, 2, 3, 4, 5, 6])
    c = np.array([1, 1, 2, 0, 2, 1, 0])
    tab = aalen_johansen(t, c)
    # n at risk 7, 6, 4(t=3 censored), 3, 2, 1
    # S: after t1 6/7; after t2 (2 events of 6) 6/7*4/6 = 4/7; t4: 4/7*2/3 = 8/21; t5: 8/21*1/2
    f1 = 1 / 7
    f2 = f1 + (6 / 7) * (1 / 6)
    f5 = f2 + (8 / 21) * (1 / 2)
    r = cif_at(tab, [1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(r["cif"], [f1, f2, f2, f2, f5, f5], rtol=1e-12)
    # deterministic: the same answer whatever the order of the rows
    perm = np.random.default_rng(0).permutation(len(t))
    np.testing.assert_allclose(aalen_johansen(t[perm], c[perm]).cif, tab.cif)
    # delta-method variance at the first time: S0^2 d1 (n - d1) / n^3
    assert r["se"][0] ** 2 == pytest.approx(1 * 6 / 7**3, rel=1e-12)


def test_aalen_johansen_without_competing_is_one_minus_km(lung):
    tab = aalen_johansen(lung.time, lung.status)
    km = km_table(lung.time, lung.status)
    np.testing.assert_allclose(tab.cif, 1 - km.surv, atol=1e-12)
    gw = km.surv**2 * km.greenwood
    np.testing.assert_allclose(tab.var, gw, atol=1e-10)


def test_aalen_johansen_matches_lifelines_without_ties():
    from lifelines import AalenJohansenFitter

    rng = np.random.default_rng(5)
    n = 300
    t = rng.exponential(1, n).round(6)
    c = rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3])
    ajf = AalenJohansenFitter(calculate_variance=False).fit(t, c, event_of_interest=1)
    ours = cif_at(aalen_johansen(t, c), ajf.cumulative_density_.index.to_numpy()[1:])
    np.testing.assert_allclose(ours["cif"], ajf.cumulative_density_.iloc[1:, 0], atol=1e-10)


# -- weighted (IPW) Kaplan-Meier, RMST and cumulative incidence: robust variance ---------------
# R 4.2.2, survival 3.5.3:
#   t <- c(4.3, 7.6, 6.2, 6.2, 9.5, 3.5, 13.1, 6.2, 0.3, 6.6, 2.9, 4.2, 1, 8.2, 21.3, 5, 2, 3.4,
#          9.9, 6.4, 11.5, 0.6, 6.7, 6.2)
#   cause <- c(0, 0, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 2, 0, 0, 2, 1, 1)
#   w <- c(1.73, 0.88, 0.71, 0.8, 1.22, 0.76, 1.59, 2.91, 2.3, 1.14, 1.13, 2.41, 2.93, 1.96,
#          0.99, 1.51, 0.73, 1.47, 2.7, 0.85, 1.49, 2.01, 2.86, 2)
#   e <- as.integer(cause == 1); id <- seq_along(t); cl <- rep(1:12, each = 2); hs <- c(3, 6.2, 9)
#   f <- survfit(Surv(t, e) ~ 1, weights = w, id = id, robust = TRUE, influence = TRUE)
#   summary(f, times = hs)$surv     0.8114917476 0.4999736360 0.2931960455
#   summary(f, times = hs)$std.err  0.09365775551 0.12231988171 0.11339845494   (robust)
#   summary(f, times = hs)$lower    0.6472071012 0.3095268867 0.1373857634
#   summary(survfit(Surv(t, e) ~ 1, weights = w, robust = FALSE), times = hs)$std.err
#                                   0.06387268967 0.08640875879 0.08263146664   (weights as people)
#   tau <- 9; len <- pmax(pmin(c(f$time[-1], Inf), tau) - f$time, 0)
#   sqrt(sum((f$influence.surv %*% len)^2))   0.6813195060  (RMST 6.0393615516; print(f, rmean = 9)
#                                   shows se(rmean) 0.4708261189, the weighted-count formula)
#   fc <- survfit(Surv(t, e) ~ 1, weights = w, cluster = cl, influence = TRUE)
#   summary(fc, times = hs)$std.err 0.08376506198 0.09934866882 0.12542244095
#   sqrt(sum((fc$influence.surv %*% len)^2))  0.6808904951
#   fm <- survfit(Surv(t, factor(cause)) ~ 1, weights = w, id = id, influence = TRUE)
#   summary(fm, times = hs)$pstate[, 2]   0.1814227226 0.4690689015 0.6593353476
#   summary(fm, times = hs)$std.err[, 2]  0.09050853507 0.11730795949 0.11235927812
#   ix <- sapply(hs, function(h) max(which(c(0, fm$time) <= h)))
#   sqrt(colSums(rowsum(w * fm$influence.pstate[, ix, 2], cl)^2))
#                                   0.0818241297 0.1022997774 0.1345649614   (clustered)
W_T = [
    4.3,
    7.6,
    6.2,
    6.2,
    9.5,
    3.5,
    13.1,
    6.2,
    0.3,
    6.6,
    2.9,
    4.2,
    1,
    8.2,
    21.3,
    5,
    2,
    3.4,
    9.9,
    6.4,
    11.5,
    0.6,
    6.7,
    6.2,
]
W_CAUSE = [0, 0, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 2, 0, 0, 2, 1, 1]
W_W = [
    1.73,
    0.88,
    0.71,
    0.8,
    1.22,
    0.76,
    1.59,
    2.91,
    2.3,
    1.14,
    1.13,
    2.41,
    2.93,
    1.96,
    0.99,
    1.51,
    0.73,
    1.47,
    2.7,
    0.85,
    1.49,
    2.01,
    2.86,
    2,
]


def test_weighted_km_rmst_cif_use_the_robust_variance_as_r():
    from rm_analytics.metrics.retention import rmst_robust

    t, c, w = np.array(W_T), np.array(W_CAUSE), np.array(W_W)
    e = (c == 1).astype(float)
    cl = np.repeat(np.arange(12), 2)
    hs = [3, 6.2, 9]
    tab = km_table(t, e, w)
    assert tab.variance == "robust"
    r = km_at(tab, hs)
    np.testing.assert_allclose(r["surv"], [0.8114917476, 0.4999736360, 0.2931960455], atol=1e-9)
    np.testing.assert_allclose(r["se"], [0.09365775551, 0.12231988171, 0.11339845494], atol=1e-9)
    np.testing.assert_allclose(r["ci_low"], [0.6472071012, 0.3095268867, 0.1373857634], atol=1e-9)
    # weights as people (what was computed before): about 30% too small
    g = km_at(km_table(t, e, w, robust=False), hs)
    np.testing.assert_allclose(g["se"], [0.06387268967, 0.08640875879, 0.08263146664], atol=1e-9)
    clustered = km_at(km_table(t, e, w, cluster=cl), hs)
    np.testing.assert_allclose(
        clustered["se"], [0.08376506198, 0.09934866882, 0.12542244095], atol=1e-9
    )
    est, se = rmst_robust(t, e, w, 9)
    assert est == pytest.approx(6.0393615516, abs=1e-9)
    assert se == pytest.approx(0.6813195060, abs=1e-9)
    assert rmst_robust(t, e, w, 9, cluster=cl)[1] == pytest.approx(0.6808904951, abs=1e-9)
    cif = cif_at(aalen_johansen(t, c, w), hs)
    np.testing.assert_allclose(cif["cif"], [0.1814227226, 0.4690689015, 0.6593353476], atol=1e-9)
    np.testing.assert_allclose(cif["se"], [0.09050853507, 0.11730795949, 0.11235927812], atol=1e-9)
    cif_cl = cif_at(aalen_johansen(t, c, w, cluster=cl), hs)
    np.testing.assert_allclose(cif_cl["se"], [0.0818241297, 0.1022997774, 0.1345649614], atol=1e-9)
    # whole-number weights are counts, as in R (Greenwood on weighted counts)
    assert km_table(t, e, np.full(t.size, 2.0)).variance == "greenwood"


def test_compare_retention_with_ipw_weights_reports_robust_ses():
    t, c, w = np.array(W_T), np.array(W_CAUSE), np.array(W_W)
    d = pd.DataFrame(
        {
            "t": np.r_[t, t],
            "e": np.r_[c == 1, c == 1].astype(int),
            "comp": np.r_[c == 2, c == 2].astype(int),
            "g": np.repeat([1, 0], 24),
            "w": np.r_[np.ones(24), w],
        }
    )
    res = compare_retention(
        d,
        duration="t",
        event="e",
        group="g",
        weights="w",
        competing="comp",
        horizons=[6.2],
        tau=9,
        ph_check=False,
    )
    assert res.row(metric="retention", group="control", horizon=6.2).se == pytest.approx(
        0.12231988171, abs=1e-9
    )
    assert res.row(metric="rmst", group="control").se == pytest.approx(0.6813195060, abs=1e-9)
    assert res.row(metric="cumulative_incidence", group="control", horizon=6.2).se == (
        pytest.approx(0.11730795949, abs=1e-9)
    )
    # the participants' weights are all 1: Greenwood (R: summary(survfit(Surv(t, e) ~ 1),
    # times = 6.2)$std.err = 0.11077109586)
    assert res.row(metric="retention", group="treated", horizon=6.2).se == pytest.approx(
        0.11077109586, abs=1e-9
    )
    assert any("robust (infinitesimal jackknife" in n for n in res.notes)
