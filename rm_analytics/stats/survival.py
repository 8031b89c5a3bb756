"""Survival kernels (numpy/scipy only): Kaplan-Meier with Greenwood or robust
(infinitesimal-jackknife) variances, confidence intervals at times, restricted mean survival
time (survRM2's variance and a permutation test), the log-rank test, Aalen-Johansen cumulative
incidence, and the attrition difference at a horizon (MOVER interval and its inversion; the
exact unconditional test on the 2x2 table).

Each reproduces R (``survival``, ``survRM2``, ``cmprsk``; see ``tests/test_retention_reference.py``
and ``docs/methods.md``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from . import DEFAULT_SEED
from .strata import group_codes, stratum_bounds, suffix_sum_by

#: Boschloo's exact test is used up to this many people per group, Fisher's above (speed).
BOSCHLOO_MAX_PER_GROUP = 200


#: Random permutations of the RMST permutation test (p-values in steps of 1 / 2000).
N_PERMUTATIONS = 1999


@dataclass
class KMTable:
    """Kaplan-Meier estimate at each distinct observed time (events and censorings).

    Examples
    --------
    The table of the maintained group of R's ``survival::aml`` data (``survfit``'s rows):

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, _ = aml(maintained_only=True)
    >>> from rm_analytics.stats.survival import km_table
    >>> tab = km_table(time, event)
    >>> tab.variance, tab.n
    ('greenwood', 11.0)
    >>> print(tab.time[:4], tab.n_risk[:4], tab.n_event[:4], np.round(tab.surv[:4], 3))
    [ 9. 13. 18. 23.] [11. 10.  8.  7.] [1. 1. 1. 1.] [0.909 0.818 0.716 0.614]
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    #: Var(log S) at each time: the cumulative Greenwood sum  sum d / (n (n - d)), or with
    #: ``variance == "robust"`` the infinitesimal-jackknife variance divided by S^2
    greenwood: np.ndarray
    n: float
    #: "greenwood" or "robust" (infinitesimal jackknife, see :func:`km_table`)
    variance: str = "greenwood"


def robust_default(weights, cluster) -> bool:
    """R's ``survfit`` rule: the robust variance when a weight is not a whole number (sampling
    or inverse-probability weights) or a cluster is given; whole-number weights are counts.

    Examples
    --------
    >>> from rm_analytics.stats.survival import robust_default
    >>> robust_default(None, None), robust_default([1, 2, 1], None)
    (False, False)
    >>> robust_default([0.5, 1.5, 1.0], None), robust_default(None, ["a", "a", "b"])
    (True, True)
    """
    if cluster is not None:
        return True
    if weights is None:
        return False
    w = np.asarray(weights, dtype=float)
    return bool(np.any(w != np.floor(w)))


def km_table(time, event, weights=None, *, robust: bool | None = None, cluster=None) -> KMTable:
    """Kaplan-Meier estimator with its variance.

    Without weights (or with whole-number weights, taken as counts) the variance is
    Greenwood's. With other weights (e.g. inverse-probability weights) Greenwood's formula on
    weighted counts treats the weights as people and is too small; the variance is then the
    robust, infinitesimal-jackknife one, ``sum_i (w_i dS/dw_i)^2`` summed within ``cluster``
    when given (:func:`km_influence`), as R's ``survfit(..., weights = w)`` computes by
    default for such weights (``robust = TRUE``). ``robust`` forces either choice.
    Steps where everyone at risk has the event contribute 0 (S = 0 there).

    Examples
    --------
    As R's ``survival::survfit`` on the aml data (maintained group), survival at the event times
    (0.909 at 9 weeks, 0.614 at 23, 0.368 at 34):

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, _ = aml(maintained_only=True)
    >>> from rm_analytics.stats.survival import km_table
    >>> tab = km_table(time, event)
    >>> print(tab.time[tab.n_event > 0])
    [ 9. 13. 18. 23. 31. 34. 48.]
    >>> print(np.round(tab.surv[tab.n_event > 0], 3))
    [0.909 0.818 0.716 0.614 0.491 0.368 0.184]
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float)
    if t.size == 0:
        z = np.zeros(0)
        return KMTable(z, z, z, z, z, z, 0.0)
    ut, inv = np.unique(t, return_inverse=True)
    n_at = np.bincount(inv, weights=w, minlength=ut.size)
    d = np.bincount(inv, weights=w * e, minlength=ut.size)
    n_risk = np.cumsum(n_at[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(n_risk > 0, d / n_risk, 0.0)
        gw = np.where(n_risk - d > 0, d / (n_risk * (n_risk - d)), 0.0)
    surv = np.cumprod(1.0 - frac)
    var_log, kind = np.cumsum(gw), "greenwood"
    if robust_default(weights, cluster) if robust is None else robust:
        v = robust_var(km_influence(t, e, w, ut), cluster)
        with np.errstate(divide="ignore", invalid="ignore"):
            var_log = np.where(surv > 0, v / surv**2, 0.0)
        kind = "robust"
    return KMTable(ut, n_risk, d, n_at - d, surv, var_log, float(w.sum()), kind)


# -- influence functions (infinitesimal jackknife) --------------------------------------------
def _km_parts(t: np.ndarray, e: np.ndarray, w: np.ndarray) -> dict:
    """Weighted Kaplan-Meier pieces on the distinct times: index of each row's time ``k``, at
    risk ``Y``, events ``d``, hazard ``h``, survival ``S``, ``inv = 1 / (Y - d)`` (0 where
    everyone at risk left) and ``C = cumsum(h * inv)``."""
    ut, k = np.unique(t, return_inverse=True)
    Y = np.cumsum(np.bincount(k, weights=w, minlength=ut.size)[::-1])[::-1]
    d = np.bincount(k, weights=w * e, minlength=ut.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(Y > 0, d / Y, 0.0)
        inv = np.where(Y - d > 1e-12 * Y, 1.0 / (Y - d), 0.0)
    S = np.cumprod(1 - h)
    return dict(ut=ut, k=k, Y=Y, d=d, h=h, S=S, inv=inv, C=np.cumsum(h * inv))


def robust_var(infl: np.ndarray, cluster=None) -> np.ndarray:
    """Sum of squared influences (rows), after summing them within clusters.

    Examples
    --------
    The infinitesimal-jackknife variance of S(23) in the aml maintained group, without and with
    clusters (here pairs of people):

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, _ = aml(maintained_only=True)
    >>> from rm_analytics.stats.survival import km_influence, robust_var
    >>> infl = km_influence(time, event, None, [23])
    >>> print(np.round(np.sqrt(robust_var(infl)), 4))
    [0.1526]
    >>> print(np.round(np.sqrt(robust_var(infl, cluster=np.arange(11) // 2)), 4))
    [0.1697]
    """
    if cluster is not None:
        codes = group_codes(cluster)
        infl = np.stack(
            [np.bincount(codes, weights=infl[:, j]) for j in range(infl.shape[1])], axis=1
        )
    return np.sum(infl**2, axis=0)


def km_influence(time, event, weights, at) -> np.ndarray:
    """Weighted influence ``w_i dS(t)/dw_i`` of each row on the Kaplan-Meier survival at
    times ``at`` (rows x times): the infinitesimal jackknife of R's ``survfit`` (its
    ``influence.surv``). With ``S(t) = prod (1 - d_j / Y_j)``,

    ``dS(t)/dw_i = -S(t) [e_i 1(t_i <= t) / (Y(t_i) - d(t_i)) - sum_{t_j <= min(t_i, t)}
    d_j / (Y_j (Y_j - d_j))]``.

    The variance is the sum of squares (within clusters first, when there are any).

    Examples
    --------
    One row per person, one column per time (aml, maintained group); the sum of squares is the
    robust variance of S(t):

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, _ = aml(maintained_only=True)
    >>> from rm_analytics.stats.survival import km_influence
    >>> infl = km_influence(time, event, None, [9, 23])
    >>> infl.shape
    (11, 2)
    >>> print(np.round(infl[:3], 4))
    [[-0.0826 -0.0558]
     [ 0.0083 -0.0558]
     [ 0.0083  0.0124]]
    >>> print(np.round(np.sqrt((infl**2).sum(axis=0)), 4))
    [0.0867 0.1526]
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float)
    at = np.atleast_1d(np.asarray(at, dtype=float))
    if t.size == 0:
        return np.zeros((0, at.size))
    q = _km_parts(t, e, w)
    J = np.searchsorted(q["ut"], at, side="right") - 1  # -1: before the first time
    k = q["k"]
    out = np.zeros((t.size, at.size))
    for lo in range(0, at.size, 512):  # bounded memory: rows x 512 times at a time
        Jb = J[lo : lo + 512]
        Jc = np.maximum(Jb, 0)
        m = np.minimum(k[:, None], Jc[None, :])
        own = np.where(k[:, None] <= Jb[None, :], (e * q["inv"][k])[:, None], 0.0)
        u = -q["S"][Jc][None, :] * (own - q["C"][m])
        out[:, lo : lo + 512] = np.where(Jb[None, :] >= 0, w[:, None] * u, 0.0)
    return out


def rmst_robust(time, event, weights, tau: float, cluster=None) -> tuple[float, float]:
    """Restricted mean survival time up to ``tau`` with its infinitesimal-jackknife SE.

    The influence of row i is the integral of its Kaplan-Meier influence (see
    :func:`km_influence`) from 0 to tau, in closed form:
    ``w_i [-e_i A(t_i) / (Y(t_i) - d(t_i)) + B(t_i) + C(t_i) A(t_i)]`` with ``A(s)`` the area
    under S from s to tau, ``B(s)`` the integral of S C from 0 to s and ``C`` as in
    :func:`km_influence` (times after tau contribute nothing). Matches R's
    ``survfit(..., weights = w)`` influence integrated to tau.

    Examples
    --------
    Restricted mean survival time of the aml maintained group up to 48 weeks, with its robust SE
    (R's ``print(survfit(Surv(time, status) ~ 1), rmean = 48)``: rmean 31.8, se(rmean) 4.53):

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, _ = aml(maintained_only=True)
    >>> from rm_analytics.stats.survival import rmst_robust
    >>> est, se = rmst_robust(time, event, None, tau=48)
    >>> print(f"{est:.3f} {se:.3f}")
    31.843 4.528
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float)
    q = _km_parts(t, e, w)
    ut, S, C, k = q["ut"], q["S"], q["C"], q["k"]
    nxt = np.append(ut[1:], np.inf)
    length = np.clip(np.minimum(nxt, tau) - ut, 0, None)  # [u_j, u_j+1) within [0, tau]
    est = float(min(ut[0], tau) + np.sum(length * S)) if ut.size else float(tau)
    area = length * S
    A = np.cumsum(area[::-1])[::-1]  # from u_j to tau
    B = np.concatenate([[0.0], np.cumsum(area * C)[:-1]])  # from u_1 to u_j
    infl = w * (-e * q["inv"][k] * A[k] + B[k] + C[k] * A[k])
    v = robust_var(infl[:, None], cluster)[0]
    return est, float(np.sqrt(v))


def aj_influence(time, cause, weights, at) -> np.ndarray:
    """Weighted influence ``w_i dF1(t)/dw_i`` of each row on the Aalen-Johansen cumulative
    incidence of cause 1 at times ``at`` (rows x times), the infinitesimal jackknife of R's
    multi-state ``survfit``. With ``F1(t_J) = sum_{j <= J} S_(j-1) d1_j / Y_j`` (S the
    all-cause Kaplan-Meier, ``dF_j`` its increments), for row i at time index k:

    ``-e_i (F_J - F_k)^+ / (Y_k - d_k) + P_min(J,k) + C_k (F_J - F_k)^+
    + e1_i 1(k <= J) S_(k-1) / Y_k - R_min(J,k)``

    with ``P_m = sum_{j<=m} dF_j C_(j-1)``, ``R_m = sum_{j<=m} dF_j / Y_j``, ``C`` as in
    :func:`km_influence` (all causes) and ``e_i`` / ``e1_i`` an exit of any cause / cause 1.

    Examples
    --------
    A small competing-risks sample (cause 1: the event of interest, 2: competing, 0: censored);
    the SEs at 4 and 9 are R's ``survfit(Surv(time, factor(cause)) ~ 1, id = ...)`` std.err:

    >>> import numpy as np
    >>> time = np.array([1, 2, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> cause = np.array([1, 2, 0, 1, 1, 0, 2, 1, 0, 1])
    >>> from rm_analytics.stats.survival import aj_influence
    >>> infl = aj_influence(time, cause, None, [4, 9])
    >>> infl.shape
    (10, 2)
    >>> print(np.round(np.sqrt((infl**2).sum(axis=0)), 4))
    [0.1562 0.1521]
    """
    t = np.asarray(time, dtype=float)
    c = np.asarray(cause)
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float)
    at = np.atleast_1d(np.asarray(at, dtype=float))
    if t.size == 0:
        return np.zeros((0, at.size))
    e = (c > 0).astype(float)
    e1 = (c == 1).astype(float)
    q = _km_parts(t, e, w)
    ut, k, Y, S, C, inv = q["ut"], q["k"], q["Y"], q["S"], q["C"], q["inv"]
    d1 = np.bincount(k, weights=w * e1, minlength=ut.size)
    s_prev = np.concatenate([[1.0], S[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        dF = np.where(Y > 0, s_prev * d1 / Y, 0.0)
        per_y = np.where(Y > 0, 1.0 / Y, 0.0)
    F = np.cumsum(dF)
    c_prev = np.concatenate([[0.0], C[:-1]])
    P = np.cumsum(dF * c_prev)
    R = np.cumsum(dF * per_y)
    J = np.searchsorted(ut, at, side="right") - 1
    own = e1 * s_prev[k] * per_y[k]  # the row's own cause-1 exit
    out = np.zeros((t.size, at.size))
    for lo in range(0, at.size, 512):
        Jb = J[lo : lo + 512]
        Jc = np.maximum(Jb, 0)
        m = np.minimum(k[:, None], Jc[None, :])
        later = np.where(Jc[None, :] > k[:, None], F[Jc][None, :] - F[k][:, None], 0.0)
        g = (
            (C[k] - e * inv[k])[:, None] * later
            + P[m]
            - R[m]
            + np.where(k[:, None] <= Jb[None, :], own[:, None], 0.0)
        )
        out[:, lo : lo + 512] = np.where(Jb[None, :] >= 0, w[:, None] * g, 0.0)
    return out


def step_index(times: np.ndarray, at) -> np.ndarray:
    """Index of the last table time <= each ``at`` (-1 when before the first).

    Examples
    --------
    >>> import numpy as np
    >>> from rm_analytics.stats.survival import step_index
    >>> print(step_index(np.array([2.0, 5.0, 9.0]), [1, 2, 6, 10]))
    [-1  0  1  2]
    """
    return np.searchsorted(times, np.asarray(at, dtype=float), side="right") - 1


def ci_survival(surv, se_log, alpha: float = 0.05, conf_type: str = "log"):
    """Pointwise CI for survival probabilities, as R's ``survfit(conf.type=...)``.

    ``se_log`` is the standard error of log S (square root of the Greenwood sum).
    ``"log"`` (R's default): S exp(+-z se); ``"log-log"`` (lifelines' default): on
    log(-log S); ``"plain"``: S +- z S se. Bounds are clipped to [0, 1]; where S is 0 or (for
    log-log) 1, the interval is undefined (NaN) except that ``"log"`` gives [1, 1] at S = 1.

    Examples
    --------
    The interval of S(23) = 0.614 in the aml maintained group, as R's
    ``summary(survfit(..., conf.type = conf_type), times = 23)``:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, _ = aml(maintained_only=True)
    >>> from rm_analytics.stats.survival import ci_survival, km_table
    >>> tab = km_table(time, event)
    >>> s, se_log = tab.surv[4], np.sqrt(tab.greenwood[4])
    >>> for conf_type in ("log", "log-log", "plain"):
    ...     lo, hi = ci_survival(s, se_log, conf_type=conf_type)
    ...     print(conf_type, np.round([lo, hi], 4))
    log [0.3769 0.9992]
    log-log [0.2658 0.8353]
    plain [0.3145 0.9128]
    """
    s = np.asarray(surv, dtype=float)
    se = np.asarray(se_log, dtype=float)
    z = special.ndtri(1 - np.asarray(alpha, dtype=float) / 2)  # norm.ppf, without its overhead
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log":
            lo, hi = s * np.exp(-z * se), s * np.exp(z * se)
            ok = s > 0
        elif conf_type == "log-log":
            ll = np.log(-np.log(s))
            half = z * se / np.abs(np.log(s))
            lo, hi = np.exp(-np.exp(ll + half)), np.exp(-np.exp(ll - half))
            ok = (s > 0) & (s < 1)
        elif conf_type == "plain":
            lo, hi = s - z * s * se, s + z * s * se
            ok = np.isfinite(s)
        else:
            raise ValueError(f"conf_type must be 'log', 'log-log' or 'plain', not {conf_type!r}")
    lo = np.where(ok, np.clip(lo, 0, 1), np.nan)
    hi = np.where(ok, np.clip(hi, 0, 1), np.nan)
    return lo, hi


def km_at(tab: KMTable, at, alpha: float = 0.05, conf_type: str = "log") -> dict:
    """Survival, Greenwood SE of S, CI, number at risk and events so far at times ``at``.

    The number at risk at ``h`` counts people with time >= h (R's ``summary.survfit``).
    Times beyond the group's last observation give NaN estimates (nobody is followed that
    long), unless that last observation was an exit that took the curve to 0: everyone has
    then left and the estimate stays 0 (Efron's convention; R's ``summary(..., extend = TRUE)``).

    With no event up to ``h`` (S = 1) the Greenwood variance is 0 and every transform gives
    the empty interval [1, 1] (R's ``survfit`` too), which claims certainty the data do not
    have. There the lower limit is the exact (Clopper-Pearson) one for 0 events among the
    n(h) people followed through ``h``, ``(alpha / 2) ** (1 / n(h))`` (conservative: people
    censored earlier add nothing; cf. Dorey and Korn's modified lower limit, Stat Med 1987).

    Examples
    --------
    As R's ``summary(survfit(Surv(time, status) ~ 1), times = c(9, 23, 34))`` on the aml
    maintained group (survival 0.909, 0.614, 0.368; std.err 0.0867, 0.1526, 0.1627; 95% CI
    0.754-1, 0.377-0.999, 0.155-0.875):

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, _ = aml(maintained_only=True)
    >>> from rm_analytics.stats.survival import km_at, km_table
    >>> r = km_at(km_table(time, event), [9, 23, 34])
    >>> for key in ("n_risk", "surv", "se", "ci_low", "ci_high"):
    ...     print(key, np.round(r[key], 4))
    n_risk [11.  7.  4.]
    surv [0.9091 0.6136 0.3682]
    se [0.0867 0.1526 0.1627]
    ci_low [0.7541 0.3769 0.1549]
    ci_high [1.     0.9992 0.8753]
    """
    at = np.atleast_1d(np.asarray(at, dtype=float))
    i = step_index(tab.time, at)
    last = tab.time[-1] if tab.time.size else -np.inf
    s = np.where(i >= 0, tab.surv[np.maximum(i, 0)] if tab.time.size else 1.0, 1.0)
    g = np.where(i >= 0, tab.greenwood[np.maximum(i, 0)] if tab.time.size else 0.0, 0.0)
    beyond = (at > last) & ~(tab.time.size > 0 and tab.surv[-1] == 0)
    s = np.where(beyond, np.nan, s)
    g = np.where(beyond, np.nan, g)
    se_log = np.sqrt(g)
    lo, hi = ci_survival(s, se_log, alpha, conf_type)
    j = np.searchsorted(tab.time, at, side="left")
    n_risk = np.where(j < tab.time.size, tab.n_risk[np.minimum(j, max(tab.time.size - 1, 0))], 0)
    cum_d = np.cumsum(tab.n_event)
    n_ev = np.where(i >= 0, cum_d[np.maximum(i, 0)] if tab.time.size else 0.0, 0.0)
    none = (s == 1) & (n_ev == 0) & (n_risk > 0)
    if none.any():
        with np.errstate(divide="ignore"):
            exact = (alpha / 2) ** (1 / np.where(none, n_risk, 1.0))
        lo = np.where(none, exact, lo)
        hi = np.where(none, 1.0, hi)
    return {
        "surv": s,
        "se": s * se_log,
        "se_log": se_log,
        "ci_low": lo,
        "ci_high": hi,
        "n_risk": n_risk.astype(float),
        "n_event": n_ev,
    }


def rmst_survrm2(tab: KMTable, tau: float) -> tuple[float, float]:
    """Restricted mean survival time up to ``tau`` and its standard error.

    Area under the Kaplan-Meier curve from 0 to tau; variance is survRM2's Greenwood plug-in
    estimator ``sum_j [int_{t_j}^{tau} S(u) du]^2 d_j / (n_j (n_j - d_j))`` over event times
    t_j <= tau (``survRM2:::rmst1``). This is the sampling variance of the estimator, not
    lifelines' ``return_variance`` (the variance of min(T, tau)).

    Examples
    --------
    Restricted mean survival time of the aml maintained group up to 48 weeks, as R's
    ``print(survfit(Surv(time, status) ~ 1), rmean = 48)`` (rmean 31.8, se(rmean) 4.53):

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, _ = aml(maintained_only=True)
    >>> from rm_analytics.stats.survival import km_table, rmst_survrm2
    >>> est, se = rmst_survrm2(km_table(time, event), tau=48)
    >>> print(f"{est:.3f} {se:.3f}")
    31.843 4.528
    """
    keep = tab.time <= tau
    t = tab.time[keep]
    s = tab.surv[keep]
    n = tab.n_risk[keep]
    d = tab.n_event[keep]
    grid = np.append(t, tau)
    areas = np.diff(np.concatenate([[0.0], grid])) * np.concatenate([[1.0], s])
    est = float(areas.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(n - d > 0, d / (n * (n - d)), 0.0)
    # area after each time t_j up to tau
    tail = np.cumsum(areas[1:][::-1])[::-1]
    var = float(np.sum(tail**2 * v))
    return est, float(np.sqrt(var))


def _permuted_labels(group, strata, cluster, n_perm: int, rng) -> np.ndarray:
    """``n_perm`` x n matrix of group labels (0/1) permuted under the null.

    Labels are permuted within blocks: the ``strata`` (e.g. cohorts, whose follow-up differs);
    with a ``cluster`` whose members all share a group (a pair, a person), whole clusters are
    permuted within strata; with clusters that mix the groups (matched sets), labels are
    permuted within each cluster (the matched set is the block).
    """
    g = np.asarray(group, dtype=float)
    n = g.size
    block = np.zeros(n, dtype=np.int64) if strata is None else group_codes(strata)
    unit = np.arange(n)
    if cluster is not None:
        cl = group_codes(cluster)
        size = np.bincount(cl)
        treated = np.bincount(cl, weights=g)
        if np.any((treated > 0) & (treated < size)):
            block = cl
        else:
            unit = cl
    n_units = int(unit.max()) + 1
    u_label = np.zeros(n_units)
    u_label[unit] = g
    u_block = np.zeros(n_units, dtype=np.int64)
    u_block[unit] = block
    sorted_labels = u_label[np.argsort(u_block, kind="stable")]
    key = u_block[None, :] + rng.random((n_perm, n_units))  # by block, random within it
    pos = np.argsort(key, axis=1)
    perm = np.empty((n_perm, n_units))
    np.put_along_axis(perm, pos, np.broadcast_to(sorted_labels, (n_perm, n_units)), axis=1)
    return perm[:, unit]


def _rmst_by_labels(t: np.ndarray, e: np.ndarray, labels: np.ndarray, tau: float) -> np.ndarray:
    """RMST of group 1 minus group 0 for each row of a label matrix (vectorised KM).

    A group not followed up to tau keeps its last survival value to tau (only permuted
    samples can fall short; the observed groups reach tau or have no RMST)."""
    order = np.argsort(t, kind="stable")
    t, e, labels = t[order], e[order], labels[:, order]
    ut, first = np.unique(t, return_index=True)
    nxt = np.append(ut[1:], np.inf)
    length = np.clip(np.minimum(nxt, tau) - ut, 0, None)
    head = min(float(ut[0]), tau)
    n_all = np.add.reduceat(np.ones_like(t), first)
    d_all = np.add.reduceat(e, first)
    out = np.empty(labels.shape[0])
    for lo in range(0, labels.shape[0], 256):
        G = labels[lo : lo + 256]
        n1 = np.add.reduceat(G, first, axis=1)
        d1 = np.add.reduceat(G * e, first, axis=1)
        rm = []
        for n_at, d in ((n1, d1), (n_all - n1, d_all - d1)):
            Y = np.cumsum(n_at[:, ::-1], axis=1)[:, ::-1]
            with np.errstate(divide="ignore", invalid="ignore"):
                h = np.where(Y > 0, d / Y, 0.0)
            rm.append(head + np.cumprod(1 - h, axis=1) @ length)
        out[lo : lo + 256] = rm[0] - rm[1]
    return out


def rmst_permutation_test(
    time,
    event,
    group,
    tau: float,
    *,
    strata=None,
    cluster=None,
    alpha: float = 0.05,
    n_permutations: int = N_PERMUTATIONS,
    seed: int | None = DEFAULT_SEED,
) -> dict[str, float]:
    """Permutation test of the RMST difference (group 1 minus group 0) up to ``tau``.

    Under the null hypothesis of equal survival (and the same censoring in both groups, as
    when participants and controls share the cohorts' follow-up), the group labels are
    exchangeable within the blocks of :func:`_permuted_labels` (cohort strata, clusters), so
    ``p = (1 + #{|D*| >= |d|}) / (B + 1)`` over ``B`` seeded random permutations is valid at
    any sample size and with no exit in a group, where survRM2's Wald test is not (a group
    without exits gets a standard error of 0). The interval inverts the test under a constant
    shift of the difference: ``d -/+ q`` with ``q`` the ``m``-th largest ``|D*|``, ``m`` the
    count that makes the interval exclude 0 exactly when ``p <= alpha``. It is NaN when the
    permutation distribution is degenerate (no exit by tau, or nothing to permute).

    Returns ``estimate, ci_low, ci_high, p_value, null_sd`` (the SD of the permuted
    differences) and ``n_permutations``.

    Examples
    --------
    The RMST difference up to 45 weeks, maintained minus nonmaintained (aml), with 999
    permutations:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, maintained = aml()
    >>> from rm_analytics.stats.survival import rmst_permutation_test
    >>> r = rmst_permutation_test(time, event, maintained, 45, n_permutations=999, seed=1)
    >>> print({k: round(v, 3) for k, v in r.items()})
    {'estimate': 8.03, 'ci_low': -4.882, 'ci_high': 20.942, 'p_value': 0.22, 'null_sd': 6.379, 'n_permutations': 999}
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float) * (t <= tau)
    g = np.asarray(group, dtype=float)
    d = float(_rmst_by_labels(t, e, g[None, :], tau)[0])
    nan = float("nan")
    out = dict(
        estimate=d,
        ci_low=nan,
        ci_high=nan,
        p_value=nan,
        null_sd=nan,
        n_permutations=int(n_permutations),
    )
    if e.sum() == 0:
        return out
    rng = np.random.default_rng(seed)
    star = _rmst_by_labels(t, e, _permuted_labels(g, strata, cluster, n_permutations, rng), tau)
    a = np.sort(np.abs(star))[::-1]
    tol = 1e-10 * max(1.0, abs(d))
    out["p_value"] = float((1 + np.sum(a >= abs(d) - tol)) / (n_permutations + 1))
    out["null_sd"] = float(star.std())
    # p <= alpha  <=>  #{|D*| >= |d|} <= alpha (B + 1) - 1  <=>  |d| > a_m, m = that count + 1
    m = int(np.floor(alpha * (n_permutations + 1) - 1 + 1e-9)) + 1
    if 1 <= m <= n_permutations and a[m - 1] > 0:
        q = float(a[m - 1]) + tol  # the p-value's tolerance: ties with |d| keep 0 inside
        out["ci_low"], out["ci_high"] = d - q, d + q
    return out


@dataclass
class LogRank:
    """Result of :func:`logrank_test`: the chi-square statistic, its p-value, and the observed
    and expected events and the variance of group 1.

    Examples
    --------
    As R's ``survdiff(Surv(time, status) ~ x, data = aml)``: the maintained group has 7 deaths
    where 10.69 were expected:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, maintained = aml()
    >>> from rm_analytics.stats.survival import logrank_test
    >>> lr = logrank_test(time, event, maintained)
    >>> print(f"{lr.observed:.0f} {lr.expected:.2f} {lr.variance:.3f}")
    7 10.69 4.008
    """

    statistic: float
    p_value: float
    observed: float  # events in group 1
    expected: float  # expected events in group 1
    variance: float


def logrank_test(time, event, group, strata=None) -> LogRank:
    """Two-sample log-rank test (R ``survdiff(rho = 0)``), stratified when ``strata`` given.

    ``group`` is 1 for the group of interest, 0 otherwise. Hypergeometric variance with the
    (n - d) / (n - 1) ties correction; strata are summed before squaring.

    Examples
    --------
    As R's ``survdiff(Surv(time, status) ~ x, data = aml)``: chi-square 3.396 on 1 df, p 0.0653
    (maintained vs nonmaintained):

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, maintained = aml()
    >>> from rm_analytics.stats.survival import logrank_test
    >>> lr = logrank_test(time, event, maintained)
    >>> print(f"{lr.statistic:.3f} {lr.p_value:.4f}")
    3.396 0.0653
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    g = np.asarray(group, dtype=float)
    s = np.zeros(t.size, dtype=np.int64) if strata is None else group_codes(strata)
    order = np.lexsort((t, s))
    t, e, g, s = t[order], e[order], g[order], s[order]
    start, end = stratum_bounds(s)
    key_new = np.concatenate([[True], (np.diff(t) != 0) | (np.diff(s) != 0)])
    first = np.flatnonzero(key_new)
    grp = np.cumsum(key_new) - 1
    d = np.bincount(grp, weights=e)
    d1 = np.bincount(grp, weights=e * g)
    n = suffix_sum_by(np.ones(t.size), end)[first]
    n1 = suffix_sum_by(g, end)[first]
    with np.errstate(divide="ignore", invalid="ignore"):
        exp1 = d * n1 / n
        var = np.where(n > 1, d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1), 0.0)
    o, ex, v = float(d1.sum()), float(np.nansum(exp1)), float(np.nansum(var))
    if v <= 0:
        return LogRank(float("nan"), float("nan"), o, ex, v)
    chi2 = (o - ex) ** 2 / v
    return LogRank(float(chi2), float(stats.chi2.sf(chi2, 1)), o, ex, v)


@dataclass
class CIFTable:
    """Aalen-Johansen cumulative incidence of cause 1 at each distinct time (:func:`aalen_johansen`).

    Examples
    --------
    >>> import numpy as np
    >>> time = np.array([1, 2, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> cause = np.array([1, 2, 0, 1, 1, 0, 2, 1, 0, 1])
    >>> from rm_analytics.stats.survival import aalen_johansen
    >>> tab = aalen_johansen(time, cause)
    >>> print(tab.time)
    [1. 2. 3. 4. 5. 6. 7. 8. 9.]
    >>> print(tab.n_risk)
    [10.  9.  7.  6.  5.  4.  3.  2.  1.]
    >>> print(tab.n_event)
    [1. 0. 1. 1. 0. 0. 1. 0. 1.]
    >>> print(tab.n_competing)
    [0. 1. 0. 0. 0. 1. 0. 0. 0.]
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray  # events of the cause of interest
    n_competing: np.ndarray
    cif: np.ndarray
    var: np.ndarray
    n: float


def aalen_johansen(
    time, cause, weights=None, *, robust: bool | None = None, cluster=None
) -> CIFTable:
    """Cumulative incidence of cause 1 with competing causes (Aalen-Johansen), deterministic.

    ``cause``: 0 censored, 1 event of interest, any other positive value a competing event.
    Ties between causes at the same time are handled exactly (all events at t leave the risk
    set at t; no jitter). ``F1(t) = sum_{t_j <= t} S(t_{j-1}) d1_j / n_j`` with S the all-cause
    Kaplan-Meier. Variance: the delta-method (Greenwood-type) estimator of Marubini and
    Valsecchi (1995), which reduces to Greenwood's formula for 1 - S when there are no
    competing events; with weights that are not whole numbers (or a ``cluster``) the robust
    infinitesimal-jackknife variance (:func:`aj_influence`), as R's multi-state ``survfit``.

    Examples
    --------
    Cumulative incidence of cause 1 (cause 2 competes, 0 is censored), as R's
    ``survfit(Surv(time, factor(cause)) ~ 1)`` (pstate and std.err of state 1):

    >>> import numpy as np
    >>> time = np.array([1, 2, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> cause = np.array([1, 2, 0, 1, 1, 0, 2, 1, 0, 1])
    >>> from rm_analytics.stats.survival import aalen_johansen
    >>> tab = aalen_johansen(time, cause)
    >>> print(np.round(tab.cif, 4))
    [0.1    0.1    0.2143 0.3286 0.3286 0.3286 0.4714 0.4714 0.7571]
    >>> print(np.round(np.sqrt(tab.var), 4))
    [0.0949 0.0949 0.135  0.1562 0.1562 0.1562 0.1756 0.1756 0.1521]
    """
    t = np.asarray(time, dtype=float)
    c = np.asarray(cause)
    w = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float)
    if t.size == 0:
        z = np.zeros(0)
        return CIFTable(z, z, z, z, z, z, 0.0)
    ut, inv = np.unique(t, return_inverse=True)
    n_at = np.bincount(inv, weights=w, minlength=ut.size)
    d1 = np.bincount(inv, weights=w * (c == 1), minlength=ut.size)
    d2 = np.bincount(inv, weights=w * ((c != 1) & (c > 0)), minlength=ut.size)
    d = d1 + d2
    n = np.cumsum(n_at[::-1])[::-1]
    surv = np.cumprod(1 - d / n)
    s_prev = np.concatenate([[1.0], surv[:-1]])
    inc = s_prev * d1 / n
    F = np.cumsum(inc)
    # delta-method variance at every time t_m (vectorised as cumulative sums of a quadratic in F)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(n - d > 0, d / (n * (n - d)), 0.0)
        b = s_prev**2 * d1 * (n - d1) / n**3
        cc = s_prev * d1 / n**2
    # Var(F(t)) = sum_j (F(t) - F_j)^2 a_j + b_j - 2 (F(t) - F_j) cc_j
    #           = F^2 A0 - 2F A1 + A2 + B - 2F C0 + 2 C1
    A0, A1, A2 = np.cumsum(a), np.cumsum(a * F), np.cumsum(a * F**2)
    B = np.cumsum(b)
    C0, C1 = np.cumsum(cc), np.cumsum(cc * F)
    var = F**2 * A0 - 2 * F * A1 + A2 + B - 2 * F * C0 + 2 * C1
    var = np.maximum(var, 0.0)
    if robust_default(weights, cluster) if robust is None else robust:
        var = robust_var(aj_influence(t, c, w, ut), cluster)
    return CIFTable(ut, n, d1, d2, F, var, float(w.sum()))


def cif_at(tab: CIFTable, at, alpha: float = 0.05) -> dict:
    """Cumulative incidence, SE and CI at times ``at``.

    CI on the log(-log F) scale (as cmprsk-based tools such as tidycmprsk report):
    ``exp(-exp(log(-log F) -+ z se / (F |log F|)))``; undefined (NaN) where F is 0 or 1.
    Times beyond the last observation give NaN, unless everyone still followed then had an
    exit (the cumulative incidence is then final).

    Examples
    --------
    As R's ``summary(survfit(Surv(time, factor(cause)) ~ 1), times = c(4, 8))``: cumulative
    incidence 0.3286 and 0.4714, std.err 0.1562 and 0.1756:

    >>> import numpy as np
    >>> time = np.array([1, 2, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> cause = np.array([1, 2, 0, 1, 1, 0, 2, 1, 0, 1])
    >>> from rm_analytics.stats.survival import aalen_johansen, cif_at
    >>> r = cif_at(aalen_johansen(time, cause), [4, 8])
    >>> for key in ("cif", "se", "ci_low", "ci_high", "n_risk"):
    ...     print(key, np.round(r[key], 4))
    cif [0.3286 0.4714]
    se [0.1562 0.1756]
    ci_low [0.0765 0.1374]
    ci_high [0.6176 0.7521]
    n_risk [6. 2.]
    """
    at = np.atleast_1d(np.asarray(at, dtype=float))
    i = step_index(tab.time, at)
    last = tab.time[-1] if tab.time.size else -np.inf
    if tab.time.size and tab.n_risk[-1] == tab.n_event[-1] + tab.n_competing[-1]:
        last = np.inf  # everyone has left: nothing can change after the last exit
    F = np.where(i >= 0, tab.cif[np.maximum(i, 0)], 0.0) if tab.time.size else np.zeros(at.size)
    v = np.where(i >= 0, tab.var[np.maximum(i, 0)], 0.0) if tab.time.size else np.zeros(at.size)
    F = np.where(at > last, np.nan, F)
    se = np.sqrt(np.where(at > last, np.nan, v))
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.log(-np.log(F))
        half = z * se / (F * np.abs(np.log(F)))
        b1, b2 = np.exp(-np.exp(ll - half)), np.exp(-np.exp(ll + half))
    lo, hi = np.fmin(b1, b2), np.fmax(b1, b2)
    ok = (F > 0) & (F < 1)
    j = np.searchsorted(tab.time, at, side="left")
    n_risk = np.where(j < tab.time.size, tab.n_risk[np.minimum(j, max(tab.time.size - 1, 0))], 0)
    cum = np.cumsum(tab.n_event)
    n_ev = np.where(i >= 0, cum[np.maximum(i, 0)] if tab.time.size else 0.0, 0.0)
    return {
        "cif": F,
        "se": se,
        "ci_low": np.where(ok, lo, np.nan),
        "ci_high": np.where(ok, hi, np.nan),
        "n_risk": n_risk.astype(float),
        "n_event": n_ev,
    }


def group_limits(tab: KMTable, horizon: float, conf_type: str):
    """The retention interval of one group at ``horizon`` as a function of alpha (vectorised):
    :func:`km_at`'s interval, computed once up to the normal quantile.

    Examples
    --------
    The interval of S(23) in the aml maintained group at any level (here 95% and 80%):

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, _ = aml(maintained_only=True)
    >>> from rm_analytics.stats.survival import group_limits, km_table
    >>> limits = group_limits(km_table(time, event), 23, "log")
    >>> s, lo, hi = limits(np.array([0.05, 0.2]))
    >>> print(round(s, 3), np.round(lo, 4), np.round(hi, 4))
    0.614 [0.3769 0.4461] [0.9992 0.844 ]
    """
    r = km_at(tab, [horizon], 0.05, conf_type)
    s, se_log, n_risk = float(r["surv"][0]), float(r["se_log"][0]), float(r["n_risk"][0])
    none = s == 1 and r["n_event"][0] == 0 and n_risk > 0

    def limits(alpha):
        a = np.asarray(alpha, dtype=float)
        lo, hi = ci_survival(np.full(a.shape, s), np.full(a.shape, se_log), a, conf_type)
        if none:
            lo, hi = (a / 2) ** (1 / n_risk), np.ones(a.shape)
        return s, lo, hi

    return limits


def mover_difference(tab_t, tab_c, horizon, alpha, conf_type) -> tuple[float, float]:
    """MOVER interval of S_t - S_c (= attrition control - treated) at ``horizon``.

    Examples
    --------
    Survival at 23 weeks, maintained minus nonmaintained (aml), with its MOVER interval:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, maintained = aml()
    >>> from rm_analytics.stats.survival import km_table, mover_difference
    >>> tab_t = km_table(time[maintained == 1], event[maintained == 1])
    >>> tab_c = km_table(time[maintained == 0], event[maintained == 0])
    >>> lo, hi = mover_difference(tab_t, tab_c, 23, 0.05, "log")
    >>> print(f"{lo:.3f} {hi:.3f}")
    -0.335 0.571
    """
    lo, hi = mover_bounds(
        group_limits(tab_t, horizon, conf_type), group_limits(tab_c, horizon, conf_type), alpha
    )
    return float(lo), float(hi)


def mover_bounds(lim_t, lim_c, alpha):
    """Lower and upper MOVER bounds of S_t - S_c from each group's interval function
    (:func:`group_limits`), at one or several levels ``alpha``.

    Examples
    --------
    The bounds of :func:`mover_difference`, from the two groups' interval functions:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, maintained = aml()
    >>> from rm_analytics.stats.survival import group_limits, km_table, mover_bounds
    >>> lim_t = group_limits(km_table(time[maintained == 1], event[maintained == 1]), 23, "log")
    >>> lim_c = group_limits(km_table(time[maintained == 0], event[maintained == 0]), 23, "log")
    >>> lo, hi = mover_bounds(lim_t, lim_c, np.array([0.05, 0.5]))
    >>> print(np.round(lo, 3), np.round(hi, 3))
    [-0.335 -0.018] [0.571 0.271]
    """

    s_t, l_t, u_t = lim_t(alpha)
    s_c, l_c, u_c = lim_c(alpha)
    d = s_t - s_c
    return d - np.hypot(s_t - l_t, u_c - s_c), d + np.hypot(u_t - s_t, s_c - l_c)


def mover_p(tab_t, tab_c, horizon, conf_type, diff) -> float:
    """Two-sided p-value by inverting the MOVER interval: the level at which it touches 0
    (the interval narrows as alpha grows; 1 when even the narrowest one covers 0).

    Examples
    --------
    The p-value that goes with :func:`mover_difference`'s interval (aml, 23 weeks):

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, maintained = aml()
    >>> from rm_analytics.stats.survival import km_at, km_table, mover_p
    >>> tab_t = km_table(time[maintained == 1], event[maintained == 1])
    >>> tab_c = km_table(time[maintained == 0], event[maintained == 0])
    >>> diff = km_at(tab_t, [23])["surv"][0] - km_at(tab_c, [23])["surv"][0]
    >>> print(f"{diff:.3f} {mover_p(tab_t, tab_c, 23, 'log', diff):.4f}")
    0.128 0.5542
    """
    if diff == 0:
        return 1.0
    lim_t = group_limits(tab_t, horizon, conf_type)
    lim_c = group_limits(tab_c, horizon, conf_type)
    side = 0 if diff > 0 else 1  # the bound that moves towards 0
    sign = 1.0 if side == 0 else -1.0

    def excess(a):  # > 0 when the level-a interval excludes 0
        return sign * mover_bounds(lim_t, lim_c, a)[side]

    grid = np.concatenate([10.0 ** np.arange(-15, -1), np.linspace(0.05, 1 - 1e-12, 60)])
    ex = excess(grid)
    ok = np.flatnonzero(np.isfinite(ex) & (ex > 0))
    if not np.all(np.isfinite(ex)) and ok.size == 0:
        return float("nan")
    if ok.size == 0:
        return 1.0
    i = int(ok[0])
    if i == 0:
        return float(grid[0])
    from scipy import optimize

    return float(
        optimize.brentq(lambda a: float(excess(a)), grid[i - 1], grid[i], xtol=1e-14, rtol=1e-12)
    )


def exact_attrition_p(left_t: int, n_t: int, left_c: int, n_c: int, method: str = "auto") -> float:
    """Two-sided exact p-value comparing the share leaving in two independent groups.

    ``left_t`` of ``n_t`` treated and ``left_c`` of ``n_c`` controls left. ``method``:
    ``"boschloo"`` (Boschloo's exact unconditional test, scipy's ``boschloo_exact``: twice the
    smaller one-sided p-value, each maximised over the common leaving probability),
    ``"fisher"`` (Fisher's exact test, conditional on both margins) or ``"auto"`` (Boschloo up
    to :data:`BOSCHLOO_MAX_PER_GROUP` people per group, Fisher above, for speed).

    scipy takes the two samples as the *columns* of the 2x2 table, so the table passed is
    ``[[left_t, left_c], [stayed_t, stayed_c]]``; given the groups as rows it would test
    another design (samples fixed by the outcome) and is then not exact for this one (a
    12-vs-12 pilot would reject a true null in 6.4% of samples at alpha 0.05). Both tests are
    exact here: the size of the 0.05-level test, enumerated over every table and a fine grid
    of the nuisance probability, stays at or below 0.05 (``tests/test_small_pilots.py``).
    Returns 1 when nobody, or everybody, left.

    Examples
    --------
    2 of 12 participants and 7 of 12 controls left (Fisher's p as R's ``fisher.test``):

    >>> from rm_analytics.stats.survival import exact_attrition_p
    >>> print(f"{exact_attrition_p(2, 12, 7, 12, 'boschloo'):.4f}")
    0.0419
    >>> print(f"{exact_attrition_p(2, 12, 7, 12, 'fisher'):.4f}")
    0.0894
    """
    if n_t == 0 or n_c == 0:
        return float("nan")
    if left_t + left_c == 0 or left_t + left_c == n_t + n_c:
        return 1.0
    use = method
    if method == "auto":
        use = "boschloo" if max(n_t, n_c) <= BOSCHLOO_MAX_PER_GROUP else "fisher"
    if use not in ("boschloo", "fisher"):
        raise ValueError(f"exact must be 'auto', 'boschloo' or 'fisher', not {method!r}")
    return exact_p_cached(int(left_t), int(n_t), int(left_c), int(n_c), use)


@functools.lru_cache(maxsize=4096)
def exact_p_cached(left_t: int, n_t: int, left_c: int, n_c: int, use: str) -> float:
    table = np.array([[left_t, left_c], [n_t - left_t, n_c - left_c]])  # columns = groups
    if use == "boschloo":
        p = float(stats.boschloo_exact(table, alternative="two-sided").pvalue)
    else:
        p = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
    return min(p, 1.0)
