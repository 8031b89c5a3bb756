"""Power, minimum detectable effects and sample sizes for planning the next cohorts.

Two kinds of outcome matter for a reverse-mentoring pilot:

* **Paired pre/post change** (skills, confidence) of the same people: effect size ``d_z`` =
  mean change / SD of the changes, tested with a paired (one-sample) t-test. Power uses the
  exact noncentral t distribution, both tails of a two-sided test, as statsmodels'
  ``TTestPower`` and G*Power do.
* **Two independent groups** (participants vs controls on a continuous outcome): Cohen's ``d``
  with a pooled SD, two-sample t-test with ``n1 + n2 - 2`` degrees of freedom (statsmodels'
  ``TTestIndPower``).
* **Retention** (time to leaving, participants vs controls): the log-rank test under
  proportional hazards. The default is **Freedman's (1982) method** as given in Rosner,
  *Fundamentals of Biostatistics* (6th ed., sec. 14.12) and implemented by R's
  ``powerSurvEpi::ssizeCT.default`` / ``powerCT.default`` and lifelines'
  ``sample_size_necessary_under_cph`` / ``power_under_cph``::

      events  m = (z_{1-a/2} + z_{1-b})^2 (k HR + 1)^2 / (k (HR - 1)^2)
      n_control = m / (k p_treated + p_control),   n_treated = k n_control
      power = Phi( sqrt(k m) |HR - 1| / (k HR + 1) - z_{1-a/2} ),  m = n_t p_t + n_c p_c

  with ``k = n_treated / n_control`` and ``HR`` = hazard of the treated (participants) over the
  hazard of the controls (HR < 1: participants leave less). ``method="schoenfeld"`` uses
  Schoenfeld's (1983) events formula ``m = (z_{1-a/2} + z_{1-b})^2 (1 + k)^2 / (k log(HR)^2)``
  instead. Both are large-sample approximations: with a handful of events they are optimistic.

When only the control group's event probability is known, the participants' probability is
derived under proportional hazards: ``p_treated = 1 - (1 - p_control) ** HR``.

All tests are two-sided at level ``alpha``. Everything here is scipy-only (fast to import); the report's planning sentence is
:func:`rm_analytics.metrics.power.planning_statement`.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import numpy as np
from scipy import optimize, stats

from ..errors import InsufficientDataError

Method = Literal["freedman", "schoenfeld"]

__all__ = [
    "RetentionSampleSize",
    "mde_hazard_ratio",
    "mde_paired",
    "mde_two_sample",
    "n_paired",
    "n_two_sample",
    "p_event_under_ph",
    "power_paired",
    "power_two_sample",
    "retention_power",
    "retention_sample_size",
]


# -- checks ---------------------------------------------------------------------------------
def _check_prob(name: str, value: float, *, open_left: bool = True) -> float:
    v = float(value)
    if not np.isfinite(v) or v >= 1 or v < 0 or (open_left and v == 0):
        raise ValueError(f"{name} must lie in (0, 1), got {value!r}")
    return v


def _check_positive(name: str, value: float) -> float:
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return v


def _z(alpha: float, power: float) -> tuple[float, float]:
    return float(stats.norm.ppf(1 - alpha / 2)), float(stats.norm.ppf(power))


# -- t-test power (paired and two-sample) -----------------------------------------------------
def _t_power(effect: float, df: float, nc_per_effect: float, alpha: float) -> float:
    """Two-sided t-test power (both rejection tails), noncentral t.

    The lower tail ``P(T_nc < -crit)`` is computed as ``P(T_-nc > crit)`` (the noncentral t is
    symmetric under ``nc -> -nc``): scipy's ``nct.cdf(-crit, df, nc)`` returns NaN for a large
    noncentrality, which made ``power_paired(4, 4)`` NaN and the root finders fail.
    """
    crit = stats.t.isf(alpha / 2, df)
    nc = effect * nc_per_effect
    upper = float(stats.nct.sf(crit, df, nc))
    lower = float(stats.nct.sf(crit, df, -nc))
    return min(1.0, upper + lower)


def power_paired(d_z: float, n: int, alpha: float = 0.05) -> float:
    """Power of a two-sided paired t-test to detect a standardised mean change ``d_z``.

    Parameters
    ----------
    d_z
        Mean of the paired changes divided by the SD of the changes (not Cohen's d of the
        raw scores).
    n
        Number of pairs (people measured twice), at least 2.
    alpha
        Two-sided significance level.

    Returns
    -------
    float
        Power from the noncentral t distribution with ``n - 1`` df and noncentrality
        ``d_z * sqrt(n)``; matches ``statsmodels.stats.power.TTestPower().power``.

    Examples
    --------
    As R's ``pwr.t.test(n = 10, d = 0.8, type = "paired")$power`` (0.6162):

    >>> from rm_analytics.stats.power import power_paired
    >>> round(power_paired(0.8, 10), 4)
    0.6162
    """
    if n < 2:
        raise InsufficientDataError(f"a paired t-test needs n >= 2 pairs, got {n}")
    _check_prob("alpha", alpha)
    return _t_power(abs(float(d_z)), n - 1, math.sqrt(n), alpha)


def power_two_sample(
    d: float, n_per_group: float, alpha: float = 0.05, ratio: float = 1.0
) -> float:
    """Power of a two-sided two-sample (pooled-variance) t-test for Cohen's ``d``.

    ``n_per_group`` is the size of group 1; group 2 has ``ratio * n_per_group`` members
    (statsmodels' ``TTestIndPower`` convention: ``nobs2 = ratio * nobs1``).

    Examples
    --------
    As R's ``pwr.t.test(n = 64, d = 0.5)$power`` (0.8015):

    >>> from rm_analytics.stats.power import power_two_sample
    >>> round(power_two_sample(0.5, 64), 4)
    0.8015
    """
    n1 = _check_positive("n_per_group", n_per_group)
    n2 = n1 * _check_positive("ratio", ratio)
    if n1 + n2 <= 2:
        raise InsufficientDataError("a two-sample t-test needs more than 2 people in total")
    _check_prob("alpha", alpha)
    return _t_power(abs(float(d)), n1 + n2 - 2, math.sqrt(n1 * n2 / (n1 + n2)), alpha)


def _solve_effect(power_fn, power: float) -> float:
    """Smallest positive effect reaching ``power`` (power is increasing in the effect).

    The bracket grows until the power is reached (tiny samples need effects of 10 SDs and
    more), and shrinks towards 0 for large samples, so Brent's method always gets a sign
    change."""
    hi = 1.0
    while power_fn(hi) < power:
        hi *= 2
        if hi > 1e6:  # pragma: no cover - cannot happen for n >= 2
            return float("nan")
    lo = hi / 2
    while lo > 1e-8 and power_fn(lo) >= power:
        hi, lo = lo, lo / 2
    return float(optimize.brentq(lambda e: power_fn(e) - power, lo, hi, xtol=1e-12))


def mde_paired(n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable standardised change ``d_z`` of a paired design with ``n`` pairs.

    Solves :func:`power_paired` for the effect (root finding with Brent's method, as
    statsmodels' ``TTestPower().solve_power(nobs=n, ...)`` does). With 12 pairs, alpha 0.05
    and 80% power this is ``d_z`` = 0.889.

    Returns
    -------
    float
        The ``d_z`` (mean change / SD of changes) detected with the given power.

    Examples
    --------
    As R's ``pwr.t.test(n = 12, power = 0.8, type = "paired")$d`` (0.8887):

    >>> from rm_analytics.stats.power import mde_paired
    >>> round(mde_paired(12), 4)
    0.8887
    """
    _check_prob("power", power)
    _check_prob("alpha", alpha)
    if power <= alpha / 2:
        raise ValueError("power must exceed alpha / 2")
    return _solve_effect(lambda e: power_paired(e, n, alpha), power)


def mde_two_sample(
    n_per_group: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> float:
    """Minimum detectable Cohen's ``d`` of a two-sample t-test.

    Group 1 has ``n_per_group`` people, group 2 ``ratio * n_per_group``. Matches
    ``statsmodels.stats.power.TTestIndPower().solve_power(nobs1=n, ratio=ratio, ...)``.

    Examples
    --------
    As R's ``pwr.t.test(n = 20, power = 0.8)$d`` (0.909; pwr's root finder stops at a tolerance
    of 1e-4, this one at 1e-12):

    >>> from rm_analytics.stats.power import mde_two_sample
    >>> round(mde_two_sample(20), 3)
    0.909
    """
    _check_prob("power", power)
    _check_prob("alpha", alpha)
    return _solve_effect(lambda e: power_two_sample(e, n_per_group, alpha, ratio), power)


def _solve_n(power_fn, power: float, n_min: float) -> int:
    """Smallest integer n >= n_min with power_fn(n) >= power (power increasing in n)."""
    if power_fn(n_min) >= power:
        return int(math.ceil(n_min))
    hi = max(2 * n_min, 4.0)
    while power_fn(hi) < power:
        hi *= 2
        if hi > 1e9:
            raise ValueError("no feasible sample size (effect too small)")
    n_cont = optimize.brentq(lambda n: power_fn(n) - power, n_min, hi, xtol=1e-8)
    n = int(math.ceil(n_cont - 1e-9))
    while power_fn(n) < power:  # guard against rounding at the root
        n += 1
    return n


def n_paired(d_z: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Number of pairs a two-sided paired t-test needs to detect ``d_z`` with ``power``.

    The continuous solution rounded up (statsmodels / G*Power convention): ``d_z`` = 0.5 needs
    34 pairs at alpha 0.05 and 80% power.

    Examples
    --------
    R's ``pwr.t.test(d = 0.5, power = 0.8, type = "paired")$n`` is 33.37, rounded up:

    >>> from rm_analytics.stats.power import n_paired
    >>> n_paired(0.5)
    34
    """
    d = abs(_check_positive("d_z", abs(d_z)))
    _check_prob("power", power)
    return _solve_n(lambda n: power_paired(d, n, alpha) if n >= 2 else 0.0, power, 2.0)


def n_two_sample(d: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0) -> int:
    """Size of group 1 (group 2: ``ratio`` times as many) for a two-sample t-test.

    Rounded up from the continuous solution; Cohen (1988, Table 2.4.1) gives 64 per group
    for d = 0.5 at alpha 0.05 two-sided and 80% power.

    Examples
    --------
    Cohen's (1988) table and R's ``pwr.t.test(d = 0.5, power = 0.8)$n`` (63.77, rounded up):

    >>> from rm_analytics.stats.power import n_two_sample
    >>> n_two_sample(0.5)
    64
    >>> n_two_sample(0.5, ratio=2)
    48
    """
    dd = abs(_check_positive("d", abs(d)))
    _check_prob("power", power)
    n_min = 3.0 / (1 + _check_positive("ratio", ratio))  # at least 1 degree of freedom
    return _solve_n(lambda n: power_two_sample(dd, n, alpha, ratio), power, n_min)


# -- retention (log-rank / Cox) ----------------------------------------------------------------
class RetentionSampleSize(NamedTuple):
    """Per-arm sample sizes for a retention comparison (rounded up), and expected events.

    Examples
    --------
    lifelines' documented example (``sample_size_necessary_under_cph(0.8, 1, 0.25, 0.35, 0.7)``:
    421 per arm):

    >>> from rm_analytics.stats.power import retention_sample_size
    >>> ss = retention_sample_size(hazard_ratio=0.7, p_event_treated=0.25, p_event_control=0.35)
    >>> ss.n_treated, ss.n_control, round(ss.events, 1)
    (421, 421, 252.0)
    """

    n_treated: int
    n_control: int
    events: float
    """Expected number of leavers over both arms (not rounded)."""


def p_event_under_ph(p_event_control: float, hazard_ratio: float) -> float:
    """Participants' event probability implied by proportional hazards.

    ``1 - (1 - p_event_control) ** hazard_ratio`` (survival of the treated is the control
    survival raised to the power HR).

    Examples
    --------
    30% of controls leave; participants leaving at 70% of their hazard:

    >>> from rm_analytics.stats.power import p_event_under_ph
    >>> round(p_event_under_ph(0.3, 0.7), 4)
    0.2209
    """
    p = _check_prob("p_event_control", p_event_control)
    hr = _check_positive("hazard_ratio", hazard_ratio)
    return float(1 - (1 - p) ** hr)


def _events_needed(hr: float, k: float, alpha: float, power: float, method: Method) -> float:
    za, zb = _z(alpha, power)
    if method == "freedman":
        return (za + zb) ** 2 * (k * hr + 1) ** 2 / (k * (hr - 1) ** 2)
    if method == "schoenfeld":
        return (za + zb) ** 2 * (1 + k) ** 2 / (k * math.log(hr) ** 2)
    raise ValueError(f"method must be 'freedman' or 'schoenfeld', not {method!r}")


def _power_from_events(m: float, hr: float, k: float, alpha: float, method: Method) -> float:
    za = float(stats.norm.ppf(1 - alpha / 2))
    if method == "freedman":
        drift = math.sqrt(k * m) * abs(hr - 1) / (k * hr + 1)
    elif method == "schoenfeld":
        drift = math.sqrt(k * m) / (1 + k) * abs(math.log(hr))
    else:
        raise ValueError(f"method must be 'freedman' or 'schoenfeld', not {method!r}")
    return float(stats.norm.cdf(drift - za))


def retention_sample_size(
    *,
    hazard_ratio: float,
    p_event_treated: float | None = None,
    p_event_control: float,
    power: float = 0.8,
    alpha: float = 0.05,
    ratio: float = 1.0,
    method: Method = "freedman",
) -> RetentionSampleSize:
    """Participants and controls needed to detect a hazard ratio for leaving.

    Parameters
    ----------
    hazard_ratio
        Postulated hazard of leaving of participants over that of controls (0.7: participants
        leave at 70% of the control rate).
    p_event_treated, p_event_control
        Probability of leaving during follow-up (e.g. first-year attrition) among participants
        and controls. When ``p_event_treated`` is None it is derived under proportional hazards
        (:func:`p_event_under_ph`).
    power, alpha
        Target power and two-sided significance level.
    ratio
        Participants per control, ``k = n_treated / n_control`` (powerSurvEpi's ``k``,
        lifelines' ``ratio_of_participants``).
    method
        ``"freedman"`` (default; identical to lifelines' ``sample_size_necessary_under_cph``
        and R ``powerSurvEpi::ssizeCT.default``) or ``"schoenfeld"``.

    Returns
    -------
    RetentionSampleSize
        ``n_treated``, ``n_control`` (each rounded up) and ``events`` (expected leavers in
        both arms together, unrounded).

    Examples
    --------
    Rosner's Example 14.42, as R's ``powerSurvEpi::ssizeCT.default`` (252.04 events, 294 per
    arm):

    >>> from rm_analytics.stats.power import retention_sample_size
    >>> ss = retention_sample_size(hazard_ratio=0.7, p_event_treated=0.3707, p_event_control=0.4890)
    >>> ss.n_treated, ss.n_control, round(ss.events, 2)
    (294, 294, 252.04)
    """
    hr = _check_positive("hazard_ratio", hazard_ratio)
    if hr == 1:
        raise ValueError("hazard_ratio 1 means no effect: no sample size detects it")
    pc = _check_prob("p_event_control", p_event_control)
    pt = (
        p_event_under_ph(pc, hr)
        if p_event_treated is None
        else _check_prob("p_event_treated", p_event_treated)
    )
    k = _check_positive("ratio", ratio)
    _check_prob("power", power)
    _check_prob("alpha", alpha)
    m = _events_needed(hr, k, alpha, power, method)
    n_c = m / (k * pt + pc)
    n_t = k * n_c
    return RetentionSampleSize(int(math.ceil(n_t - 1e-9)), int(math.ceil(n_c - 1e-9)), float(m))


def retention_power(
    n_treated: float,
    n_control: float,
    hazard_ratio: float,
    p_event_control: float,
    p_event_treated: float | None = None,
    alpha: float = 0.05,
    method: Method = "freedman",
) -> float:
    """Power of the log-rank test to detect ``hazard_ratio`` with the given group sizes.

    Expected events ``m = n_treated p_treated + n_control p_control``; ``p_event_treated``
    defaults to the proportional-hazards value. Freedman's formula (default) is identical to
    lifelines' ``power_under_cph`` and R ``powerSurvEpi::powerCT.default``.

    Examples
    --------
    >>> from rm_analytics.stats.power import retention_power
    >>> round(retention_power(100, 100, 0.7, 0.3), 3)
    0.246
    >>> round(retention_power(100, 100, 0.7, 0.3, method="schoenfeld"), 3)
    0.251
    """
    nt = _check_positive("n_treated", n_treated)
    nc = _check_positive("n_control", n_control)
    hr = _check_positive("hazard_ratio", hazard_ratio)
    pc = _check_prob("p_event_control", p_event_control)
    pt = (
        p_event_under_ph(pc, hr)
        if p_event_treated is None
        else _check_prob("p_event_treated", p_event_treated, open_left=False)
    )
    _check_prob("alpha", alpha)
    m = nt * pt + nc * pc
    return _power_from_events(m, hr, nt / nc, alpha, method)


def mde_hazard_ratio(
    n_treated: float,
    n_control: float,
    p_event_control: float,
    alpha: float = 0.05,
    power: float = 0.8,
    method: Method = "freedman",
) -> float:
    """Smallest protective effect (largest hazard ratio below 1) detectable with ``power``.

    The participants' event probability follows the hazard ratio under proportional hazards,
    so fewer participants leave as the effect grows. Returns NaN when even a hazard ratio
    near 0 (no participant ever leaving) would not reach the power: then the pilot has too few
    expected leavers to detect any reduction.

    Returns
    -------
    float
        Hazard ratio in (0, 1): effects at least this strong (HR this low or lower) are
        detected with the given power; NaN when none is.

    Examples
    --------
    60 participants and 60 controls, 20% of controls leaving within the year; with 10 of each no
    reduction is detectable:

    >>> from rm_analytics.stats.power import mde_hazard_ratio
    >>> round(mde_hazard_ratio(60, 60, 0.2), 3)
    0.141
    >>> mde_hazard_ratio(10, 10, 0.2)
    nan
    """
    _check_positive("n_treated", n_treated)
    _check_positive("n_control", n_control)
    _check_prob("p_event_control", p_event_control)
    _check_prob("power", power)

    def pw(hr: float) -> float:
        return retention_power(
            n_treated, n_control, hr, p_event_control, alpha=alpha, method=method
        )

    # vectorised scan of the power curve, then a root on the last crossing
    grid = np.linspace(1e-4, 1 - 1e-4, 2000)
    pt = 1 - (1 - p_event_control) ** grid
    k = float(n_treated) / float(n_control)
    m = n_treated * pt + n_control * p_event_control
    if method == "freedman":
        drift = np.sqrt(k * m) * np.abs(grid - 1) / (k * grid + 1)
    elif method == "schoenfeld":
        drift = np.sqrt(k * m) / (1 + k) * np.abs(np.log(grid))
    else:
        raise ValueError(f"method must be 'freedman' or 'schoenfeld', not {method!r}")
    powers = stats.norm.cdf(drift - stats.norm.ppf(1 - alpha / 2))
    ok = np.flatnonzero(powers >= power)
    if ok.size == 0:
        return float("nan")
    i = int(ok.max())
    if i == grid.size - 1:  # pragma: no cover - power at HR ~ 1 is ~ alpha
        return float(grid[-1])
    return float(optimize.brentq(lambda h: pw(h) - power, grid[i], grid[i + 1], xtol=1e-10))
