"""Random-effects meta-analysis of k estimates with known standard errors (numpy/scipy only).

The model is metafor's ``rma(yi, sei = sei)`` without moderators: ``y_i ~ N(mu, se_i^2 + tau^2)``.

* **Between-study variance** ``tau^2``: DerSimonian-Laird (method of moments,
  ``max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w))`` with ``w = 1 / se^2``), or REML by
  Fisher scoring as metafor does (start at the Hedges estimate, step
  ``(y' P P y - tr P) / tr(P P)``, halved while it would go below 0, until the change is
  below ``1e-10``; if the likelihood at ``tau^2 = 0`` is higher than at the root, 0), or
  ``"FE"`` (``tau^2 = 0``: the inverse-variance fixed-effect estimate).
* **Tests and intervals** for ``mu``: ``"z"`` (Wald: ``se = 1 / sqrt(sum w*)``,
  ``w* = 1 / (se^2 + tau^2)``, normal quantiles); ``"knha"`` (Knapp & Hartung 2003;
  Hartung-Knapp-Sidik-Jonkman): the variance is multiplied by
  ``s2w = sum w* (y - mu)^2 / (k - 1)`` and quantiles come from ``t(k - 1)``, with no
  truncation of ``s2w`` (metafor's ``test = "knha"``: the interval can be narrower than the
  z interval when the estimates agree more closely than their standard errors imply);
  ``"adhoc"``: the same with ``s2w`` truncated below at 1 (metafor's ``test = "adhoc"``;
  Jackson et al. 2017), never narrower than ``"z"`` with t quantiles.
* **Heterogeneity**: Cochran's ``Q`` (fixed-effect weights, ``k - 1`` df) and its p-value;
  ``I^2 = 100 tau^2 / (tau^2 + s^2)`` and ``H^2 = (tau^2 + s^2) / s^2`` with the "typical"
  within-study variance ``s^2 = (k - 1) sum w / ((sum w)^2 - sum w^2)`` (Higgins & Thompson
  2002; metafor's default, computed from the estimated tau^2, so for DL it equals
  ``(Q - (k - 1)) / Q`` when positive).
* **Prediction interval** for the effect in a new study (metafor's ``predict()``):
  ``mu +- crit sqrt(se_mu^2 + tau^2)`` with ``crit`` the normal quantile for ``"z"`` and the
  ``t(k - 1)`` quantile for ``"knha"``/``"adhoc"`` (``se_mu`` is the test's standard error).

Checked against metafor 3.8 to 1e-6 in ``tests/test_meta.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InsufficientDataError

METHODS = ("REML", "DL", "FE")
TESTS = ("z", "knha", "adhoc")


@dataclass(frozen=True)
class MetaFit:
    """A fitted random-effects meta-analysis (all on the scale of the inputs).

    Examples
    --------
    The heterogeneity of the 13 BCG vaccine trials (metafor's ``dat.bcg``: vaccinated and control
    people with and without tuberculosis; log risk ratios as ``escalc(measure = "RR")``), as
    metafor's ``rma(yi, vi)``: Q 152.23 on 12 df, I^2 92.2%, H^2 12.86:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import bcg
    >>> yi, vi = bcg()
    >>> from rm_analytics.stats.meta import meta_fit
    >>> fit = meta_fit(yi, np.sqrt(vi))
    >>> print(f"{fit.q:.2f} {fit.q_df} {fit.i2:.1f} {fit.h2:.2f}")
    152.23 12 92.2 12.86
    >>> print(fit.k, fit.method, fit.test, round(float(fit.weights.max()), 2))
    13 REML knha 10.19
    """

    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    """z or t statistic of H0: mu = 0."""
    p_value: float
    df: float
    """Degrees of freedom of the t test (NaN for the z test)."""
    tau2: float
    i2: float
    """I^2 in percent."""
    h2: float
    q: float
    q_df: int
    q_p_value: float
    pi_low: float
    pi_high: float
    weights: np.ndarray
    """Random-effects weights in percent (sum 100)."""
    method: str
    test: str
    iterations: int
    converged: bool


def _check(estimates, ses) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(estimates, dtype=float).ravel()
    s = np.asarray(ses, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"{y.size} estimates but {s.size} standard errors")
    bad = ~np.isfinite(y)
    if bad.any():
        raise ValueError(f"estimate number {int(np.flatnonzero(bad)[0]) + 1} is not finite")
    bad = ~(np.isfinite(s) & (s > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"standard error number {i + 1} is {s[i]!r}: standard errors must be finite and > 0"
        )
    if y.size < 2:
        raise InsufficientDataError(f"a meta-analysis needs at least 2 estimates, got {y.size}")
    return y, s


def tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian-Laird estimate of tau^2 (truncated at 0).

    Examples
    --------
    The BCG vaccine trials (metafor's ``dat.bcg``), as ``rma(yi, vi, method = "DL")``:
    tau^2 = 0.309:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import bcg
    >>> yi, vi = bcg()
    >>> from rm_analytics.stats.meta import tau2_dl
    >>> print(f"{tau2_dl(yi, vi):.3f}")
    0.309
    """
    w = 1 / v
    mu = np.sum(w * y) / np.sum(w)
    q = float(np.sum(w * (y - mu) ** 2))
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    return max(0.0, (q - (y.size - 1)) / c)


def _reml_loglik(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    w = 1 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    return float(
        -0.5 * np.sum(np.log(v + tau2)) - 0.5 * np.log(np.sum(w)) - 0.5 * np.sum(w * (y - mu) ** 2)
    )


def tau2_reml(
    y: np.ndarray, v: np.ndarray, *, tol: float = 1e-10, max_iter: int = 1000
) -> tuple[float, int, bool]:
    """REML estimate of tau^2 by Fisher scoring (metafor's algorithm): (tau2, iterations,
    converged).

    Examples
    --------
    The BCG vaccine trials (metafor's ``dat.bcg``), as ``rma(yi, vi)`` (REML): tau^2 = 0.313:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import bcg
    >>> yi, vi = bcg()
    >>> from rm_analytics.stats.meta import tau2_reml
    >>> tau2, iterations, converged = tau2_reml(yi, vi)
    >>> print(f"{tau2:.3f}", converged)
    0.313 True
    """
    k = y.size
    tau2 = max(0.0, float(np.var(y, ddof=1) - np.mean(v)))  # Hedges' estimate: the start
    it, converged = 0, False
    while it < max_iter:
        it += 1
        w = 1 / (v + tau2)
        sw = np.sum(w)
        # P = W - w w' / sum(w) for the intercept-only model
        py = w * y - w * np.sum(w * y) / sw
        ppy_norm = float(np.sum(py**2))  # y' P P y
        tr_p = float(sw - np.sum(w**2) / sw)
        tr_pp = float(np.sum(w**2) - 2 * np.sum(w**3) / sw + (np.sum(w**2) / sw) ** 2)
        adj = (ppy_norm - tr_p) / tr_pp
        while tau2 + adj < 0:
            adj /= 2
        old, tau2 = tau2, tau2 + adj
        if abs(tau2 - old) < tol:
            converged = True
            break
    if tau2 > 0 and k > 1 and _reml_loglik(y, v, 0.0) > _reml_loglik(y, v, tau2) + 1e-12:
        tau2 = 0.0  # Fisher scoring stopped at a point below the boundary's likelihood
    return float(tau2), it, converged


def meta_fit(
    estimates, ses, *, method: str = "REML", test: str = "knha", alpha: float = 0.05
) -> MetaFit:
    """Random-effects meta-analysis of ``estimates`` with standard errors ``ses``.

    Parameters
    ----------
    estimates, ses
        One value per study (cohort); standard errors finite and > 0; at least 2 studies.
    method
        ``"REML"`` (default), ``"DL"`` (DerSimonian-Laird) or ``"FE"`` (fixed effect).
    test
        ``"knha"`` (Knapp-Hartung, default), ``"adhoc"`` (Knapp-Hartung with the variance
        factor truncated at 1) or ``"z"``.
    alpha
        1 - confidence level of the interval and the prediction interval.

    Returns
    -------
    MetaFit
        See the module docstring for every formula.

    Examples
    --------
    The BCG vaccine trials (metafor's ``dat.bcg``, log risk ratios of ``escalc(measure = "RR")``),
    as metafor's ``rma(yi, vi, test = "knha")``: pooled -0.715 (-1.108 to -0.321), tau^2 0.313,
    and ``predict()``'s prediction interval -1.996 to 0.567:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import bcg
    >>> yi, vi = bcg()
    >>> from rm_analytics.stats.meta import meta_fit
    >>> fit = meta_fit(yi, np.sqrt(vi), method="REML", test="knha")
    >>> print(f"{fit.estimate:.3f} ({fit.ci_low:.3f} to {fit.ci_high:.3f}), tau2 {fit.tau2:.3f}")
    -0.715 (-1.108 to -0.321), tau2 0.313
    >>> print(f"p {fit.p_value:.4f}, prediction interval {fit.pi_low:.3f} to {fit.pi_high:.3f}")
    p 0.0019, prediction interval -1.996 to 0.567
    """
    from scipy import stats

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if test not in TESTS:
        raise ValueError(f"test must be one of {', '.join(TESTS)}, not {test!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    y, s = _check(estimates, ses)
    v = s**2
    k = y.size
    it, converged = 0, True
    if method == "DL":
        tau2 = tau2_dl(y, v)
    elif method == "REML":
        tau2, it, converged = tau2_reml(y, v)
    else:
        tau2 = 0.0
    # heterogeneity (fixed-effect weights)
    w0 = 1 / v
    mu0 = np.sum(w0 * y) / np.sum(w0)
    q = float(np.sum(w0 * (y - mu0) ** 2))
    q_p = float(stats.chi2.sf(q, k - 1))
    s2 = (k - 1) * np.sum(w0) / (np.sum(w0) ** 2 - np.sum(w0**2))
    if method == "FE":
        i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0
        h2 = q / (k - 1)
    else:
        i2 = float(100 * tau2 / (s2 + tau2))
        h2 = float(tau2 / s2 + 1)
    # pooled estimate
    w = 1 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    var = float(1 / np.sum(w))
    if test == "z":
        df = float("nan")
        se = float(np.sqrt(var))
        crit = float(stats.norm.ppf(1 - alpha / 2))
        stat = mu / se
        p = float(2 * stats.norm.sf(abs(stat)))
    else:
        df = float(k - 1)
        rss = float(np.sum(w * (y - mu) ** 2))
        s2w = rss / (k - 1) if rss > np.finfo(float).eps else 0.0
        if test == "adhoc":
            s2w = max(s2w, 1.0)
        se = float(np.sqrt(s2w * var))
        crit = float(stats.t.ppf(1 - alpha / 2, df))
        # identical estimates: s2w = 0 and no t statistic (metafor would print p = 0)
        stat = mu / se if se > 0 else float("nan")
        p = float(2 * stats.t.sf(abs(stat), df)) if se > 0 else float("nan")
    half_pi = crit * np.sqrt(se**2 + tau2)
    return MetaFit(
        k=k,
        estimate=mu,
        se=se,
        ci_low=mu - crit * se,
        ci_high=mu + crit * se,
        statistic=float(stat),
        p_value=p,
        df=df,
        tau2=float(tau2),
        i2=float(i2),
        h2=float(h2),
        q=q,
        q_df=k - 1,
        q_p_value=q_p,
        pi_low=float(mu - half_pi),
        pi_high=float(mu + half_pi),
        weights=100 * w / np.sum(w),
        method=method,
        test=test,
        iterations=it,
        converged=converged,
    )


def cumulative_fits(
    estimates, ses, *, method: str = "REML", test: str = "knha", alpha: float = 0.05
) -> list[MetaFit | None]:
    """Meta-analyses of the first 1, 2, ..., k estimates (metafor's ``cumul()``).

    The first entry is None (one estimate is not a meta-analysis; the study itself is its
    own cumulative estimate, which :func:`rm_analytics.meta_analysis` shows).

    Examples
    --------
    Six cohorts' log hazard ratios, pooled as each cohort arrives:

    >>> log_hr = [-0.62, -0.15, -0.81, 0.20, -0.45, -0.30]
    >>> se = [0.45, 0.52, 0.60, 0.48, 0.41, 0.55]
    >>> from rm_analytics.stats.meta import cumulative_fits
    >>> fits = cumulative_fits(log_hr, se)
    >>> fits[0] is None
    True
    >>> print([round(f.estimate, 3) for f in fits[1:]])
    [-0.419, -0.514, -0.317, -0.354, -0.347]
    """
    y, s = _check(estimates, ses)
    return [None] + [
        meta_fit(y[:j], s[:j], method=method, test=test, alpha=alpha) for j in range(2, y.size + 1)
    ]


def fixed_effect_z(estimates, ses) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative inverse-variance (fixed-effect) z statistics and information.

    Returns ``(z, information)`` after each of the k estimates: ``information_j = sum_{i<=j}
    1/se_i^2`` and ``z_j = sum w_i y_i / sqrt(information_j)``. Under H0 (every effect 0)
    these are the canonical group-sequential statistics: independent increments,
    ``corr(z_i, z_j) = sqrt(I_i / I_j)``.

    Examples
    --------
    >>> log_hr = [-0.62, -0.15, -0.81, 0.20, -0.45, -0.30]
    >>> se = [0.45, 0.52, 0.60, 0.48, 0.41, 0.55]
    >>> import numpy as np
    >>> from rm_analytics.stats.meta import fixed_effect_z
    >>> z, info = fixed_effect_z(log_hr, se)
    >>> print(np.round(z, 3))
    [-1.378 -1.231 -1.736 -1.259 -1.648 -1.733]
    >>> print(np.round(info / info[-1], 3))
    [0.197 0.345 0.456 0.63  0.868 1.   ]
    """
    y = np.asarray(estimates, dtype=float).ravel()
    s = np.asarray(ses, dtype=float).ravel()
    w = 1 / s**2
    info = np.cumsum(w)
    return np.cumsum(w * y) / np.sqrt(info), info
