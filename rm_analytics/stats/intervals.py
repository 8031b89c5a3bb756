"""Small statistical helpers shared by the metric modules (scipy only, no heavy imports)."""

from __future__ import annotations

import numpy as np


def wilson_ci(successes: float, n: float, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (no continuity correction).

    Matches R's ``prop.test(x, n, correct=FALSE)$conf.int`` and
    ``binom::binom.confint(method="wilson")``. Returns (nan, nan) when ``n == 0``.
    The bounds always contain the estimate ``successes / n``: with no successes the lower
    bound is exactly 0 and with no failures the upper bound exactly 1, as in R (the closed
    form alone gives e.g. 0.9999999999999999 below an estimate of 1.0 through rounding).
    """
    if n <= 0:
        return (float("nan"), float("nan"))
    from scipy import stats  # deferred: scipy.stats costs ~1 s to import

    z = stats.norm.ppf(1 - alpha / 2)
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    lo = min(max(0.0, centre - half), p)  # rounding must not exclude the estimate
    hi = max(min(1.0, centre + half), p)
    return (float(lo), float(hi))


def mean_ci(values, alpha: float = 0.05) -> tuple[float, float, float, int]:
    """Mean with a t-based confidence interval: (mean, ci_low, ci_high, n), NaN-aware.

    With fewer than two observations the interval is (nan, nan).
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return (float("nan"), float("nan"), float("nan"), 0)
    m = float(x.mean())
    if n < 2:
        return (m, float("nan"), float("nan"), n)
    se = float(x.std(ddof=1) / np.sqrt(n))
    from scipy import stats  # deferred: scipy.stats costs ~1 s to import

    t = stats.t.ppf(1 - alpha / 2, n - 1)
    return (m, m - t * se, m + t * se, n)


def normal_ci(estimate: float, se: float, alpha: float = 0.05) -> tuple[float, float, float]:
    """Wald interval and two-sided p-value (H0: 0): (ci_low, ci_high, p_value)."""
    if not np.isfinite(se) or se <= 0:
        return (float("nan"), float("nan"), float("nan"))
    from scipy import stats  # deferred: scipy.stats costs ~1 s to import

    z = stats.norm.ppf(1 - alpha / 2)
    p = float(2 * stats.norm.sf(abs(estimate / se)))
    return (estimate - z * se, estimate + z * se, p)
