"""Power, minimum detectable effects and sample sizes against references.

References:
- statsmodels ``TTestPower`` / ``TTestIndPower`` (noncentral t, two-sided, both tails);
- Cohen (1988), *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed., Table
  2.4.1 (n per group, two-sided alpha 0.05): d = 0.2 -> 393, 0.5 -> 64, 0.8 -> 26 at 80%
  power; d = 0.5 -> 85 at 90% power. Cohen's tables use an approximation, so the exact
  noncentral-t answer may differ by 1;
- lifelines 0.30 ``sample_size_necessary_under_cph`` / ``power_under_cph`` (Freedman's method,
  Rosner 2006 sec. 14.12, as R ``powerSurvEpi::ssizeCT.default`` / ``powerCT.default``); the
  lifelines docstring example gives (421, 421) for power 0.8, ratio 1, p_exp 0.25, p_con 0.35,
  HR 0.7;
- the project's domain brief: 12 pairs detect d_z of about 0.89; 30-vs-30 has roughly 12%
  power for HR 0.7.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rm_analytics import power as P


# -- t-tests --------------------------------------------------------------------------------
def test_mde_paired_12_pairs_is_about_0_89():
    # domain brief: "with 12 pairs a paired design detects only d_z of about 0.89"
    assert P.mde_paired(12) == pytest.approx(0.8887, abs=5e-4)


@pytest.mark.parametrize("n", [5, 12, 24, 60])
@pytest.mark.parametrize("power", [0.8, 0.9])
def test_mde_paired_matches_statsmodels(n, power):
    from statsmodels.stats.power import TTestPower

    ref = TTestPower().solve_power(nobs=n, alpha=0.05, power=power)
    assert P.mde_paired(n, power=power) == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("d,n", [(0.3, 20), (0.89, 12), (1.2, 6)])
def test_power_paired_matches_statsmodels(d, n):
    from statsmodels.stats.power import TTestPower

    assert P.power_paired(d, n) == pytest.approx(TTestPower().power(d, n, 0.05), rel=1e-8)


# R 4.2.2, pwr 1.3-0:
#   ns <- c(2:10, 15, 20, 50, 100, 300, 1000); ds <- c(0.1, 0.2, 0.3, 0.5, 0.8, 1, 1.5, 2, 3)
#   for (n in ns) cat(n, sprintf("%.6f", sapply(ds, function(d)
#       pwr.t.test(n = n, d = d, sig.level = 0.05, type = "paired")$power)), "\n")
R_PAIRED_D = (0.1, 0.2, 0.3, 0.5, 0.8, 1, 1.5, 2, 3)
R_PAIRED_POWER = """
2 0.050497 0.051978 0.054415 0.061949 0.078821 0.092809 0.132952 0.175707 0.260771
3 0.051388 0.055541 0.062422 0.084107 0.134885 0.179255 0.316382 0.470749 0.745268
4 0.052444 0.059784 0.072035 0.111275 0.205574 0.288752 0.532793 0.754984 0.967001
5 0.053555 0.064270 0.082263 0.140517 0.280992 0.401390 0.710703 0.908885 0.997680
6 0.054689 0.068862 0.092782 0.170707 0.356174 0.506842 0.832529 0.970504 0.999885
7 0.055832 0.073511 0.103472 0.201328 0.428469 0.600497 0.907663 0.991302 0.999995
8 0.056982 0.078199 0.114280 0.232077 0.496382 0.680834 0.950952 0.997602 1.000000
9 0.058135 0.082916 0.125174 0.262746 0.559096 0.748017 0.974711 0.999372 1.000000
10 0.059290 0.087657 0.136136 0.293176 0.616233 0.803097 0.987277 0.999842 1.000000
15 0.065097 0.111636 0.191531 0.437927 0.821311 0.949086 0.999684 1.000000 1.000000
20 0.070941 0.135956 0.247089 0.564504 0.923899 0.988591 0.999994 1.000000 1.000000
50 0.106629 0.283592 0.547657 0.933898 0.999830 1.000000 1.000000 1.000000 1.000000
100 0.167700 0.508265 0.843947 0.998610 1.000000 1.000000 1.000000 1.000000 1.000000
300 0.407809 0.932280 0.999358 1.000000 1.000000 1.000000 1.000000 1.000000 1.000000
1000 0.884789 0.999993 1.000000 1.000000 1.000000 1.000000 1.000000 1.000000 1.000000
"""
#   for (n in ns) cat(n, sprintf("%.6f", pwr.t.test(n = n, power = 0.8, type = "paired")$d))
#   (n = 2: uniroot fails in pwr; its root from
#    uniroot(function(d) pwr.t.test(n = 2, d = d, type = "paired")$power - 0.8, c(1, 100),
#            tol = 1e-12)$root = 11.54988844)
R_MDE_PAIRED = {
    2: 11.549888,
    3: 3.264052,
    4: 2.127946,
    5: 1.682001,
    6: 1.434538,
    7: 1.272567,
    8: 1.156035,
    9: 1.066970,
    10: 0.996004,
    15: 0.778029,
    20: 0.660441,
    50: 0.404185,
    100: 0.282901,
    300: 0.162254,
    1000: 0.088679,
}
#   for (d in c(0.1, 0.2, 0.3, 0.5, 0.8, 1, 1.5, 2, 3, 5))
#       cat(d, pwr.t.test(d = d, power = 0.8, type = "paired")$n)
R_N_PAIRED = {
    0.1: 786.808943,
    0.2: 198.150822,
    0.3: 89.149383,
    0.5: 33.367129,
    0.8: 14.302765,
    1: 9.937850,
    1.5: 5.686120,
    2: 4.220726,
    3: 3.144009,
    5: 2.491310,
}


def test_paired_power_matches_pwr_on_a_grid_including_tiny_n():
    """Every cell of the grid is finite and within 1e-3 of R's pwr (power_paired(4, 4) was
    NaN: scipy's lower-tail noncentral t is NaN for a large noncentrality)."""
    for line in R_PAIRED_POWER.strip().splitlines():
        n, *ref = line.split()
        got = [P.power_paired(d, int(n)) for d in R_PAIRED_D]
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, np.array(ref, dtype=float), atol=1e-3, err_msg=f"n={n}")
    assert P.power_paired(4, 4) == pytest.approx(0.998299, abs=1e-6)


@pytest.mark.parametrize("n", sorted(R_MDE_PAIRED))
def test_mde_paired_matches_pwr_and_never_raises(n):
    # pwr's uniroot stops at tol ~1e-4; ours solves to 1e-12
    assert P.mde_paired(n) == pytest.approx(R_MDE_PAIRED[n], abs=1e-3)
    assert P.power_paired(P.mde_paired(n), n) == pytest.approx(0.8, abs=1e-9)


@pytest.mark.parametrize("d", sorted(R_N_PAIRED))
def test_n_paired_matches_pwr_for_small_and_large_effects(d):
    assert P.n_paired(d) == math.ceil(R_N_PAIRED[d])
    assert P.n_paired(10.0) == 3  # 2 pairs give only 73% power even for d_z = 10


@pytest.mark.parametrize("n,ratio", [(12, 1.0), (12, 2.0), (30, 1.0), (64, 0.5)])
def test_mde_two_sample_matches_statsmodels(n, ratio):
    from statsmodels.stats.power import TTestIndPower

    ref = TTestIndPower().solve_power(nobs1=n, alpha=0.05, power=0.8, ratio=ratio)
    assert P.mde_two_sample(n, ratio=ratio) == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize(
    "d,power,cohen", [(0.2, 0.8, 393), (0.5, 0.8, 64), (0.8, 0.8, 26), (0.5, 0.9, 85)]
)
def test_n_two_sample_cohen_table(d, power, cohen):
    from statsmodels.stats.power import TTestIndPower

    n = P.n_two_sample(d, power=power)
    assert abs(n - cohen) <= 1  # Cohen's table is an approximation
    exact = TTestIndPower().solve_power(effect_size=d, alpha=0.05, power=power)
    assert n == math.ceil(exact)


def test_n_two_sample_d05_is_64_per_group():
    assert P.n_two_sample(0.5) == 64


def test_n_two_sample_ratio_matches_statsmodels():
    from statsmodels.stats.power import TTestIndPower

    ref = TTestIndPower().solve_power(effect_size=0.5, alpha=0.05, power=0.8, ratio=2)
    assert P.n_two_sample(0.5, ratio=2) == math.ceil(ref)


def test_n_paired_and_its_power():
    n = P.n_paired(0.5)
    assert n == 34  # statsmodels 33.37 -> 34 (G*Power gives 34 too)
    assert P.power_paired(0.5, n) >= 0.8 > P.power_paired(0.5, n - 1)
    # inverse of mde_paired
    assert P.n_paired(P.mde_paired(12) + 1e-6) == 12


def test_t_power_input_errors():
    with pytest.raises(ValueError, match="n >= 2"):
        P.power_paired(0.5, 1)
    with pytest.raises(ValueError, match="alpha"):
        P.mde_paired(12, alpha=1.5)


# -- retention -------------------------------------------------------------------------------
def test_retention_sample_size_lifelines_doc_example():
    ss = P.retention_sample_size(
        hazard_ratio=0.7, p_event_treated=0.25, p_event_control=0.35, power=0.8
    )
    assert (ss.n_treated, ss.n_control) == (421, 421)


@pytest.mark.parametrize("hr", [0.5, 0.7, 0.85, 1.4])
@pytest.mark.parametrize("ratio", [0.5, 1.0, 2.0])
def test_retention_sample_size_matches_lifelines(hr, ratio):
    from lifelines.statistics import sample_size_necessary_under_cph

    pc = 0.3
    pt = 1 - (1 - pc) ** hr
    ours = P.retention_sample_size(
        hazard_ratio=hr, p_event_treated=pt, p_event_control=pc, ratio=ratio
    )
    ref = sample_size_necessary_under_cph(0.8, ratio, pt, pc, hr)
    assert (ours.n_treated, ours.n_control) == ref
    # p_event_treated defaults to the proportional-hazards value
    assert P.retention_sample_size(hazard_ratio=hr, p_event_control=pc, ratio=ratio) == ours


def test_retention_sample_size_rosner_example_by_hand():
    # Rosner (2006) Example 14.42 inputs, as in powerSurvEpi::ssizeCT.default's example:
    # m = (1.95996 + 0.84162)^2 (1.7)^2 / 0.09 = 252.04 events; n = 252.04 / 0.8597 = 293.2
    ss = P.retention_sample_size(hazard_ratio=0.7, p_event_treated=0.3707, p_event_control=0.4890)
    assert ss.events == pytest.approx(252.04, abs=0.01)
    assert (ss.n_treated, ss.n_control) == (294, 294)


def test_schoenfeld_events_hr07():
    # Schoenfeld (1983): 4 (z_.975 + z_.8)^2 / log(0.7)^2 = 246.79 events for equal arms
    ss = P.retention_sample_size(
        hazard_ratio=0.7, p_event_treated=0.5, p_event_control=0.5, method="schoenfeld"
    )
    assert ss.events == pytest.approx(246.79, abs=0.01)
    # events / (p_t + p_c) = 246.79 per arm
    assert (ss.n_treated, ss.n_control) == (247, 247)


@pytest.mark.parametrize(
    "nt,nc,pc,hr", [(30, 30, 0.35, 0.7), (24, 48, 0.15, 0.5), (200, 100, 0.2, 1.3)]
)
def test_retention_power_matches_lifelines(nt, nc, pc, hr):
    from lifelines.statistics import power_under_cph

    pt = 1 - (1 - pc) ** hr
    assert P.retention_power(nt, nc, hr, pc) == pytest.approx(
        power_under_cph(nt, nc, pt, pc, hr), rel=1e-10
    )


def test_30_vs_30_power_for_hr07_is_about_12_percent():
    # domain brief: "a 30-vs-30 retention comparison has roughly 12% power to detect HR 0.7"
    # (holds for a control attrition of about 35-40% over follow-up)
    for pc in (0.35, 0.4):
        assert 0.10 < P.retention_power(30, 30, 0.7, pc) < 0.14


def test_power_at_sample_size_reaches_target():
    ss = P.retention_sample_size(hazard_ratio=0.6, p_event_control=0.2, ratio=0.5)
    assert P.retention_power(ss.n_treated, ss.n_control, 0.6, 0.2) >= 0.8


def test_mde_hazard_ratio_inverts_power():
    hr = P.mde_hazard_ratio(200, 200, 0.3)
    assert 0 < hr < 1
    assert P.retention_power(200, 200, hr, 0.3) == pytest.approx(0.8, abs=1e-6)
    # more people -> a smaller effect (HR nearer 1) is detectable
    assert P.mde_hazard_ratio(800, 800, 0.3) > hr


def test_mde_hazard_ratio_nan_when_too_few_leavers():
    # 24 mentors, 48 controls, 15% leaving: even no participant leaving cannot reach 80%
    assert math.isnan(P.mde_hazard_ratio(24, 48, 0.15))


def test_retention_errors():
    with pytest.raises(ValueError, match="hazard_ratio 1"):
        P.retention_sample_size(hazard_ratio=1.0, p_event_control=0.2)
    with pytest.raises(ValueError, match="p_event_control"):
        P.retention_sample_size(hazard_ratio=0.7, p_event_control=1.2)
    with pytest.raises(ValueError, match="method"):
        P.retention_sample_size(hazard_ratio=0.7, p_event_control=0.2, method="cox")


@pytest.mark.slow
def test_freedman_power_agrees_with_logrank_simulation():
    """Known truth: exponential times, HR 0.7, 1-year follow-up, 300 per arm.

    The log-rank test is the package's (validated against R's survdiff in test_retention).
    """
    from rm_analytics.metrics.retention import logrank_test

    rng = np.random.default_rng(1)
    n, hr, pc = 300, 0.7, 0.4
    lam_c = -math.log(1 - pc)
    predicted = P.retention_power(n, n, hr, pc)
    reps, hits = 400, 0
    group = np.r_[np.ones(n), np.zeros(n)]
    for _ in range(reps):
        t = np.r_[rng.exponential(1 / (lam_c * hr), n), rng.exponential(1 / lam_c, n)]
        res = logrank_test(np.minimum(t, 1), t < 1, group)
        hits += res.p_value < 0.05
    assert abs(hits / reps - predicted) < 0.07  # Monte Carlo SE about 0.025


# -- the sentence --------------------------------------------------------------------------
def test_planning_statement_paired_numbers():
    s = P.planning_statement(12, outcome="paired")
    assert "With 12 pairs" in s
    assert "0.89" in s
    assert "34 pairs" in s
    assert "about 3 cohorts of 12" in s


def test_planning_statement_retention_numbers():
    s = P.planning_statement(100, p_event_control=0.3, controls_per_participant=2)
    hr = P.mde_hazard_ratio(100, 200, 0.3)
    ss = P.retention_sample_size(hazard_ratio=0.7, p_event_control=0.3, ratio=0.5)
    k = math.ceil(ss.n_treated / 12)
    assert f"hazard ratio of {hr:.2f}" in s
    assert f"{ss.n_treated:,} pairs" in s
    assert f"about {k} cohorts of 12" in s


def test_planning_statement_says_undetectable():
    s = P.planning_statement(12, p_event_control=0.15)
    assert "could not reliably detect any reduction" in s
    with pytest.raises(ValueError, match="p_event_control"):
        P.planning_statement(12)
