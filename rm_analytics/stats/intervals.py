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

    Examples
    --------
    7 of 12 mentees promoted, as R's ``prop.test(7, 12, correct = FALSE)$conf.int``:

    >>> from rm_analytics.stats.intervals import wilson_ci
    >>> lo, hi = wilson_ci(7, 12)
    >>> print(f"{lo:.4f} {hi:.4f}")
    0.3195 0.8067
    >>> wilson_ci(0, 10)[0], wilson_ci(3, 0)
    (0.0, (nan, nan))
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

    Examples
    --------
    As R's ``t.test(x)$conf.int`` (missing values are dropped):

    >>> from rm_analytics.stats.intervals import mean_ci
    >>> m, lo, hi, n = mean_ci([3.5, 4.0, 2.5, 5.0, 4.5, float("nan")])
    >>> print(f"{m:.2f} ({lo:.3f} to {hi:.3f}), n = {n}")
    3.90 (2.706 to 5.094), n = 5
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
    """Wald interval and two-sided p-value (H0: 0): (ci_low, ci_high, p_value).

    Examples
    --------
    >>> from rm_analytics.stats.intervals import normal_ci
    >>> lo, hi, p = normal_ci(-0.4, 0.2)
    >>> print(f"{lo:.3f} {hi:.3f} {p:.4f}")
    -0.792 -0.008 0.0455
    """
    if not np.isfinite(se) or se <= 0:
        return (float("nan"), float("nan"), float("nan"))
    from scipy import stats  # deferred: scipy.stats costs ~1 s to import

    z = stats.norm.ppf(1 - alpha / 2)
    p = float(2 * stats.norm.sf(abs(estimate / se)))
    return (estimate - z * se, estimate + z * se, p)
