"""Group-sequential boundaries with Lan-DeMets alpha spending (numpy/scipy only).

A program that looks at its evidence after every cohort tests repeatedly; testing each time at
|z| >= 1.96 inflates the chance of a false "it works" (about 12.6% over four equally spaced
looks, two-sided: :func:`naive_crossing_probability`).
Group-sequential boundaries keep the overall type I error at ``alpha``:

* **Alpha spending** (Lan & DeMets 1983): a non-decreasing function ``alpha(t)`` of the
  information fraction ``t`` in [0, 1] with ``alpha(0) = 0`` and ``alpha(1) = alpha`` says how
  much of the type I error may be used by the time ``t``. Two families, two-sided and
  symmetric, in the convention of R's rpact (``getDesignGroupSequential(typeOfDesign = "asOF" |
  "asP", sided = 2)``) and gsDesign: each side spends half of ``alpha``,

  - O'Brien-Fleming type: ``alpha(t) = 4 (1 - Phi(z_{1 - alpha/4} / sqrt(t)))`` (the one-sided
    ``2 (1 - Phi(z_{1 - a/2} / sqrt(t)))`` at ``a = alpha / 2``, on each side): almost nothing
    early, close to the fixed-design 1.96 at the end;
  - Pocock type: ``alpha(t) = alpha log(1 + (e - 1) t)``: roughly equal boundaries at every look.

* **Boundaries** ``c_j`` solve ``P(|Z_1| < c_1, ..., |Z_{j-1}| < c_{j-1}, |Z_j| >= c_j) =
  alpha(t_j) - alpha(t_{j-1})`` under H0, for the canonical joint distribution of the
  statistics (independent increments on the score scale ``S_j = Z_j sqrt(I_j)``,
  ``corr(Z_i, Z_j) = sqrt(I_i / I_j)``), by recursive numerical integration (Armitage,
  McPherson & Rowe 1969; Jennison & Turnbull 2000, ch. 19): the density of ``S_j`` on the
  continuation region is carried from look to look on a grid (Simpson's rule, spacing at most
  1/16 of the smallest increment's standard deviation) and each ``c_j`` is found by root
  search. Agrees with rpact 3.3 to 1e-4 (``tests/test_sequential.py``).

The spending times (where ``alpha(t)`` is read) and the information levels (which fix the
correlation of the statistics) may differ: a plan that looks after each of ``K`` cohorts may
spend at ``t_j = j / K`` while the correlations follow the information actually gathered; the
type I error is still ``alpha`` (Lan & DeMets 1983; Jennison & Turnbull 2000, sec. 7.2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

SPENDING = ("obrien_fleming", "pocock")

#: Grid points per standard deviation of the smallest increment.
_GRID_PER_SD = 16
_MAX_GRID = 8001


def alpha_spent(t, alpha: float = 0.05, spending: str = "obrien_fleming") -> np.ndarray:
    """Cumulative two-sided type I error spent by information fraction(s) ``t``.

    Examples
    --------
    As rpact's ``getDesignGroupSequential(kMax = 4, typeOfDesign = "asOF", sided =
    2)$alphaSpent`` (1.473e-05, 0.003051, 0.0193, 0.05):

    >>> from rm_analytics.stats.sequential import alpha_spent
    >>> print([f"{a:.4g}" for a in alpha_spent([0.25, 0.5, 0.75, 1.0])])
    ['1.473e-05', '0.003051', '0.0193', '0.05']
    >>> print([f"{a:.4g}" for a in alpha_spent([0.25, 0.5, 0.75, 1.0], spending="pocock")])
    ['0.01787', '0.03101', '0.0414', '0.05']
    """
    from scipy import stats

    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    if spending == "obrien_fleming":
        with np.errstate(divide="ignore"):
            z = stats.norm.ppf(1 - alpha / 4) / np.sqrt(t)
        out = 4 * stats.norm.sf(z)
    elif spending == "pocock":
        out = alpha * np.log1p((math.e - 1) * t)
    else:
        raise ValueError(f"spending must be one of {', '.join(SPENDING)}, not {spending!r}")
    return np.where(t >= 1, alpha, out)


def _simpson(a: float, b: float, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and Simpson weights on [a, b] with spacing at most ``h`` (odd number of nodes)."""
    n = int(math.ceil((b - a) / h))
    n = max(2, min(n + (n % 2), _MAX_GRID - 1))
    x = np.linspace(a, b, n + 1)
    w = np.ones(n + 1)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return x, w * (b - a) / (3 * n)


def _check_information(information) -> np.ndarray:
    info = np.asarray(information, dtype=float).ravel()
    if info.size < 1:
        raise ValueError("at least one look is needed")
    if not np.all(np.isfinite(info)) or (info <= 0).any():
        raise ValueError("information levels must be finite and > 0")
    if (np.diff(info) <= 0).any():
        raise ValueError("information must increase strictly from look to look")
    return info


class _Recursion:
    """Density of the score statistic on the continuation region, look after look."""

    def __init__(self, information: np.ndarray, drift: float = 0.0) -> None:
        self.t = information / information[-1]  # fractions of the last look's information
        self.drift = drift  # E[Z] at t = 1 (the last look); E[S_j] = drift * t_j
        self.h = float(np.min(np.sqrt(np.diff(self.t, prepend=0.0)))) / _GRID_PER_SD
        self.j = 0
        self.x: np.ndarray | None = None  # grid nodes (score scale)
        self.fw: np.ndarray | None = None  # density times Simpson weights at the nodes

    def exit_probability(self, c: float) -> tuple[float, float]:
        """P(stop at the next look with Z >= c) and P(Z <= -c), given no earlier stop."""
        from scipy.special import ndtr  # the normal cdf, without scipy.stats' overhead

        j = self.j
        t_j = self.t[j]
        b = c * np.sqrt(t_j)
        if j == 0:
            m, sd = self.drift * t_j, np.sqrt(t_j)
            return float(ndtr(-(b - m) / sd)), float(ndtr((-b - m) / sd))
        d = t_j - self.t[j - 1]
        m, sd = self.x + self.drift * d, np.sqrt(d)
        up = float(self.fw @ ndtr(-(b - m) / sd))
        lo = float(self.fw @ ndtr((-b - m) / sd))
        return up, lo

    def advance(self, c: float) -> None:
        """Move to the next look, continuing where |Z| < c (c = inf: no stopping)."""
        j = self.j
        t_j = self.t[j]
        sd_j = np.sqrt(t_j)
        b = c * sd_j if np.isfinite(c) else 8.0 * sd_j + abs(self.drift) * t_j
        x, w = _simpson(-b, b, self.h)
        if j == 0:
            z = (x - self.drift * t_j) / sd_j
            f = np.exp(-0.5 * z**2) / (sd_j * np.sqrt(2 * np.pi))
        else:
            d = t_j - self.t[j - 1]
            sd = np.sqrt(d)
            z = (x[:, None] - self.x[None, :] - self.drift * d) / sd
            f = (np.exp(-0.5 * z**2) / (sd * np.sqrt(2 * np.pi))) @ self.fw
        self.x, self.fw, self.j = x, f * w, j + 1


def two_sided_bounds(cumulative_alpha, information) -> np.ndarray:
    """Symmetric two-sided boundaries (z scale) spending ``cumulative_alpha`` by each look.

    Parameters
    ----------
    cumulative_alpha
        Type I error (two-sided) spent by look 1, 2, ..., K; non-decreasing, in [0, 1).
    information
        Information (any scale: only the ratios matter) at the looks, strictly increasing.

    Returns
    -------
    numpy.ndarray
        ``c_j``: stop at look j when ``|Z_j| >= c_j``; ``inf`` where no error is spent.

    Examples
    --------
    As rpact's O'Brien-Fleming type boundaries for four equally spaced looks (4.333, 2.963,
    2.359, 2.014):

    >>> import numpy as np
    >>> from rm_analytics.stats.sequential import alpha_spent, two_sided_bounds
    >>> info = np.array([1.0, 2.0, 3.0, 4.0])
    >>> print(two_sided_bounds(alpha_spent(info / 4), info).round(3))
    [4.333 2.963 2.359 2.014]
    """
    from scipy import optimize

    info = _check_information(information)
    cum = np.asarray(cumulative_alpha, dtype=float).ravel()
    if cum.shape != info.shape:
        raise ValueError("one cumulative alpha per look is needed")
    if (np.diff(cum) < -1e-15).any() or (cum < 0).any() or (cum >= 1).any():
        raise ValueError("cumulative alpha must be non-decreasing and in [0, 1)")
    rec = _Recursion(info)
    bounds = np.empty(info.size)
    spent = 0.0
    for j in range(info.size):
        target = cum[j] - spent
        if target <= 1e-14:
            c = np.inf
        else:

            def excess(c: float, target: float = target) -> float:
                up, lo = rec.exit_probability(c)
                return up + lo - target

            hi = 40.0
            if excess(1e-9) < 0:  # cannot spend that much: stop always
                c = 0.0
            else:
                c = float(optimize.brentq(excess, 1e-9, hi, xtol=1e-12, rtol=1e-12))
        bounds[j] = c
        spent = cum[j]
        if j < info.size - 1:
            rec.advance(c)
    return bounds


def crossing_probabilities(
    bounds, information, drift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """P(first crossing at look j) of the upper (Z >= c_j) and lower (Z <= -c_j) boundaries.

    ``drift`` is E[Z] at the last look (``E[Z_j] = drift sqrt(t_j)``); 0 is H0.

    Examples
    --------
    Under H0 the four O'Brien-Fleming type boundaries spend exactly alpha = 0.05, look by look;
    with a drift of 2.8 (80% power for a fixed design) the design stops early more often than
    not:

    >>> from rm_analytics.stats.sequential import crossing_probabilities, sequential_bounds
    >>> frac, cum, bounds = sequential_bounds(4)
    >>> up, lo = crossing_probabilities(bounds, frac)
    >>> print([f"{p:.4g}" for p in up + lo], round(float((up + lo).sum()), 4))
    ['1.473e-05', '0.003036', '0.01625', '0.0307'] 0.05
    >>> up, lo = crossing_probabilities(bounds, frac, drift=2.8)
    >>> print(up.round(3), round(float(up.sum()), 3))
    [0.002 0.161 0.367 0.262] 0.792
    """
    info = _check_information(information)
    c = np.asarray(bounds, dtype=float).ravel()
    rec = _Recursion(info, drift)
    up, lo = np.zeros(info.size), np.zeros(info.size)
    for j in range(info.size):
        up[j], lo[j] = rec.exit_probability(c[j])
        if j < info.size - 1:
            rec.advance(c[j])
    return up, lo


def sequential_bounds(
    information, *, alpha: float = 0.05, spending: str = "obrien_fleming", spend_at=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boundaries of a Lan-DeMets design: ``(fractions, cumulative_alpha, bounds)``.

    ``information``: the number of equally spaced looks, or the information fractions
    (increasing, ending at 1), or information levels (any positive increasing values; the
    fractions are then taken relative to the last). ``spend_at``: spending times (default:
    the information fractions), e.g. ``j / K`` for a plan of K cohorts.

    Examples
    --------
    As R's rpact ``getDesignGroupSequential(typeOfDesign = "asOF", sided = 2, alpha = 0.05)``
    for four equally spaced looks: critical values 4.333, 2.963, 2.359, 2.014 (Pocock type,
    ``"asP"``: 2.368, 2.368, 2.358, 2.350):

    >>> from rm_analytics.stats.sequential import sequential_bounds
    >>> frac, cum, bounds = sequential_bounds(4)
    >>> print(frac, bounds.round(3))
    [0.25 0.5  0.75 1.  ] [4.333 2.963 2.359 2.014]
    >>> print(sequential_bounds(4, spending="pocock")[2].round(3))
    [2.368 2.368 2.358 2.35 ]
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    if spending not in SPENDING:
        raise ValueError(f"spending must be one of {', '.join(SPENDING)}, not {spending!r}")
    if np.ndim(information) == 0:
        k = int(information)
        if k != information or k < 1:
            raise ValueError(f"the number of looks must be a whole number >= 1, not {information}")
        info = np.arange(1, k + 1) / k
    else:
        info = _check_information(information)
    frac = info / info[-1]
    times = frac if spend_at is None else np.asarray(spend_at, dtype=float).ravel()
    if times.shape != frac.shape:
        raise ValueError("one spending time per look is needed")
    cum = alpha_spent(times, alpha, spending)
    return frac, cum, two_sided_bounds(cum, info)


def drift_for_power(bounds, information, power: float = 0.8, *, side: str = "upper") -> float:
    """Drift (E[Z] at the last look) giving the design ``power`` to cross the upper boundary
    (``side="upper"``) or either boundary (``"both"``).

    Examples
    --------
    The drift for 80% power with four O'Brien-Fleming type looks, slightly above the fixed
    design's 1.96 + 0.84 = 2.80:

    >>> from rm_analytics.stats.sequential import drift_for_power, sequential_bounds
    >>> frac, cum, bounds = sequential_bounds(4)
    >>> round(drift_for_power(bounds, frac), 4)
    2.829
    """
    from scipy import optimize

    def f(theta: float) -> float:
        up, lo = crossing_probabilities(bounds, information, theta)
        return float(up.sum() + (lo.sum() if side == "both" else 0.0)) - power

    return float(optimize.brentq(f, 0.0, 20.0, xtol=1e-10))


def inflation_factor(
    bounds, information, *, alpha: float = 0.05, power: float = 0.8, side: str = "upper"
) -> float:
    """Maximum information of the sequential design over that of a fixed design with the same
    power (both two-sided at ``alpha``).

    Examples
    --------
    As rpact's ``getDesignCharacteristics(d)$inflationFactor`` for four looks (O'Brien-Fleming
    type 1.019637, Pocock type 1.196310):

    >>> from rm_analytics.stats.sequential import inflation_factor, sequential_bounds
    >>> frac, cum, bounds = sequential_bounds(4)
    >>> round(inflation_factor(bounds, frac), 4)
    1.0196
    >>> frac, cum, bounds = sequential_bounds(4, spending="pocock")
    >>> round(inflation_factor(bounds, frac), 4)
    1.1963
    """
    from scipy import stats

    fixed = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float((drift_for_power(bounds, information, power, side=side) / fixed) ** 2)


def conditional_power(z: float, fraction: float, final_bound: float) -> float:
    """Conditional power under the current trend to end with ``Z >= final_bound``.

    Brownian-motion approximation (Lan, Simon & Halperin 1982; Jennison & Turnbull 2000,
    ch. 10): with ``B(t) = Z sqrt(t)`` and the drift estimated as ``Z / sqrt(t)``,
    ``CP = 1 - Phi((c_K - Z / sqrt(t)) / sqrt(1 - t))``. Later interim boundaries are ignored
    (the usual approximation). ``fraction >= 1`` gives 1 or 0.

    Examples
    --------
    Halfway through, z = 1.5; the final O'Brien-Fleming type boundary of four looks is 2.014:

    >>> from rm_analytics.stats.sequential import conditional_power
    >>> round(conditional_power(1.5, 0.5, 2.014), 4)
    0.5603
    >>> conditional_power(2.5, 1.0, 2.014)
    1.0
    """
    from scipy import stats

    if fraction >= 1:
        return float(z >= final_bound)
    if fraction <= 0:
        raise ValueError("fraction must be > 0")
    return float(stats.norm.sf((final_bound - z / np.sqrt(fraction)) / np.sqrt(1 - fraction)))


def naive_crossing_probability(information: Sequence[float], z: float = 1.959964) -> float:
    """P(|Z_j| >= z at any look) under H0 when every look uses the same fixed ``z``.

    Examples
    --------
    Testing at |z| >= 1.96 after each of four equally sized cohorts gives a false alarm in about
    12.6% of pilots that do nothing, not 5%:

    >>> from rm_analytics.stats.sequential import naive_crossing_probability
    >>> round(naive_crossing_probability([1, 2, 3, 4]), 4)
    0.1262
    """
    info = _check_information(information)
    up, lo = crossing_probabilities(np.full(info.size, z), info)
    return float(up.sum() + lo.sum())
