"""Retention of participants vs a control group: survival analysis a statistician would sign.

The headline question of a reverse-mentoring pilot is whether it kept the junior talent. This
module answers it with the estimates a careful reviewer expects, each with its uncertainty:

* :func:`compare_retention` - the generic engine on any person-level DataFrame: Cox hazard
  ratio (Efron ties; robust variance with weights or clusters), log-rank test, Kaplan-Meier
  retention at horizons (Greenwood CIs; the exact lower limit where a group has had no exit
  yet, see :func:`km_at`), restricted mean survival time (RMST) per group and its
  difference (survRM2's variance; a permutation test when a group has fewer than 10 exits, see
  :func:`rmst_permutation_test`), an exact test on attrition by each horizon, cumulative
  incidence of the event with competing exits (Aalen-Johansen), a proportional-hazards check and
  plain-language notes (no hazard ratio when it cannot be estimated).
* :func:`cohort_frame` - the person-level analysis frame built from a :class:`~rm_analytics.Pilot`:
  index date = cohort start, months to voluntary exit, other exits competing, censoring at
  ``as_of``, covariates at the index date, a designated or matched control group.
* :func:`pilot_retention` - both in one call, pooled across cohorts (stratified by cohort).
* :meth:`RetentionResult.attrition_at` - the attrition difference at a horizon with one
  method for its interval and p-value (MOVER and its inversion), as the ROI uses it.

``docs/methods.md`` states for each headline number its estimator, interval, test and edge
behaviour (zero events, tiny n), and the reference it was checked against.

The numerical kernels (:func:`km_table`, :func:`rmst_survrm2`, :func:`logrank_test`,
:func:`cox_efron`, :func:`aalen_johansen`) are numpy only, vectorised, and reproduce R's
``survival`` and ``survRM2`` (see ``tests/test_retention_reference.py``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import special, stats

from ..errors import InsufficientDataError
from ..results import Result
from ..stats.intervals import normal_ci

if TYPE_CHECKING:  # pragma: no cover
    from ..data.pilot import Pilot

__all__ = [
    "RetentionResult",
    "aalen_johansen",
    "aj_influence",
    "cohort_frame",
    "compare_retention",
    "cox_efron",
    "exact_attrition_p",
    "km_influence",
    "km_table",
    "logrank_test",
    "pilot_retention",
    "rmst_permutation_test",
    "rmst_robust",
    "rmst_survrm2",
]

#: Days per month used to express durations in months (365.25 / 12).
DAYS_PER_MONTH = 30.4375
#: Metrics of :attr:`RetentionResult.summary`, in display order.
METRICS = (
    "hazard_ratio",
    "logrank",
    "retention",
    "attrition",
    "cumulative_incidence",
    "rmst",
    "rmst_difference",
    "exact_test",
)
SUMMARY_COLUMNS = [
    "metric",
    "group",
    "horizon",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n",
    "n_at_risk",
    "n_events",
]
#: A Cox coefficient larger than this in absolute value (HR beyond e^10) is treated as diverged.
MAX_ABS_LOG_HR = 10.0
#: Covariates are adjusted for only with at least this many events per model parameter.
MIN_EVENTS_PER_PARAMETER = 5
#: Boschloo's exact test is used up to this many people per group, Fisher's above (speed).
BOSCHLOO_MAX_PER_GROUP = 200
#: survRM2's Wald test of the RMST difference is used (``rmst_test="auto"``) only when each
#: group has at least this many exits by tau; below it, the permutation test.
RMST_WALD_MIN_EVENTS = 10
#: Random permutations of the RMST permutation test (p-values in steps of 1 / 2000).
N_PERMUTATIONS = 1999

# --------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------


@dataclass
class KMTable:
    """Kaplan-Meier estimate at each distinct observed time (events and censorings)."""

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


def _robust_default(weights, cluster) -> bool:
    """R's ``survfit`` rule: the robust variance when a weight is not a whole number (sampling
    or inverse-probability weights) or a cluster is given; whole-number weights are counts."""
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
    if _robust_default(weights, cluster) if robust is None else robust:
        v = _robust_var(km_influence(t, e, w, ut), cluster)
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


def _robust_var(infl: np.ndarray, cluster=None) -> np.ndarray:
    """Sum of squared influences (rows), after summing them within clusters."""
    if cluster is not None:
        codes = _codes(cluster)
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
    v = _robust_var(infl[:, None], cluster)[0]
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


def _step_index(times: np.ndarray, at) -> np.ndarray:
    """Index of the last table time <= each ``at`` (-1 when before the first)."""
    return np.searchsorted(times, np.asarray(at, dtype=float), side="right") - 1


def ci_survival(surv, se_log, alpha: float = 0.05, conf_type: str = "log"):
    """Pointwise CI for survival probabilities, as R's ``survfit(conf.type=...)``.

    ``se_log`` is the standard error of log S (square root of the Greenwood sum).
    ``"log"`` (R's default): S exp(+-z se); ``"log-log"`` (lifelines' default): on
    log(-log S); ``"plain"``: S +- z S se. Bounds are clipped to [0, 1]; where S is 0 or (for
    log-log) 1, the interval is undefined (NaN) except that ``"log"`` gives [1, 1] at S = 1.
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
    """
    at = np.atleast_1d(np.asarray(at, dtype=float))
    i = _step_index(tab.time, at)
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


# --------------------------------------------------------------------------------------------
# RMST (survRM2)
# --------------------------------------------------------------------------------------------


def rmst_survrm2(tab: KMTable, tau: float) -> tuple[float, float]:
    """Restricted mean survival time up to ``tau`` and its standard error.

    Area under the Kaplan-Meier curve from 0 to tau; variance is survRM2's Greenwood plug-in
    estimator ``sum_j [int_{t_j}^{tau} S(u) du]^2 d_j / (n_j (n_j - d_j))`` over event times
    t_j <= tau (``survRM2:::rmst1``). This is the sampling variance of the estimator, not
    lifelines' ``return_variance`` (the variance of min(T, tau)).
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
    block = np.zeros(n, dtype=np.int64) if strata is None else _codes(strata)
    unit = np.arange(n)
    if cluster is not None:
        cl = _codes(cluster)
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
    seed: int | None = 20250113,
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
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float) * (t <= tau)
    g = np.asarray(group, dtype=float)
    d = float(_rmst_by_labels(t, e, g[None, :], tau)[0])
    nan = float("nan")
    out = dict(estimate=d, ci_low=nan, ci_high=nan, p_value=nan, null_sd=nan,
               n_permutations=int(n_permutations))  # fmt: skip
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


# --------------------------------------------------------------------------------------------
# Sorting helpers for stratified risk sets
# --------------------------------------------------------------------------------------------


def _codes(x) -> np.ndarray:
    if x is None:
        return None
    return np.unique(np.asarray(x), return_inverse=True)[1].astype(np.int64)


def _suffix_sum_by(x: np.ndarray, stratum_end: np.ndarray) -> np.ndarray:
    """Sum of x[i:end_of_stratum] for every i (x sorted by stratum, then time)."""
    c = np.concatenate([np.cumsum(x[::-1], axis=0)[::-1], np.zeros((1,) + x.shape[1:])])
    return c[:-1] - c[stratum_end]


def _prefix_sum_by(x: np.ndarray, stratum_start: np.ndarray) -> np.ndarray:
    """Sum of x[start_of_stratum:i+1] for every i."""
    c = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)])
    return c[1:] - c[stratum_start]


def _stratum_bounds(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row index of the first row and one past the last row of its stratum (s sorted)."""
    n = s.size
    change = np.flatnonzero(np.diff(s)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n]])
    k = np.repeat(np.arange(starts.size), ends - starts)
    return starts[k], ends[k]


# --------------------------------------------------------------------------------------------
# Log-rank
# --------------------------------------------------------------------------------------------


@dataclass
class LogRank:
    statistic: float
    p_value: float
    observed: float  # events in group 1
    expected: float  # expected events in group 1
    variance: float


def logrank_test(time, event, group, strata=None) -> LogRank:
    """Two-sample log-rank test (R ``survdiff(rho = 0)``), stratified when ``strata`` given.

    ``group`` is 1 for the group of interest, 0 otherwise. Hypergeometric variance with the
    (n - d) / (n - 1) ties correction; strata are summed before squaring.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    g = np.asarray(group, dtype=float)
    s = np.zeros(t.size, dtype=np.int64) if strata is None else _codes(strata)
    order = np.lexsort((t, s))
    t, e, g, s = t[order], e[order], g[order], s[order]
    start, end = _stratum_bounds(s)
    key_new = np.concatenate([[True], (np.diff(t) != 0) | (np.diff(s) != 0)])
    first = np.flatnonzero(key_new)
    grp = np.cumsum(key_new) - 1
    d = np.bincount(grp, weights=e)
    d1 = np.bincount(grp, weights=e * g)
    n = _suffix_sum_by(np.ones(t.size), end)[first]
    n1 = _suffix_sum_by(g, end)[first]
    with np.errstate(divide="ignore", invalid="ignore"):
        exp1 = d * n1 / n
        var = np.where(n > 1, d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1), 0.0)
    o, ex, v = float(d1.sum()), float(np.nansum(exp1)), float(np.nansum(var))
    if v <= 0:
        return LogRank(float("nan"), float("nan"), o, ex, v)
    chi2 = (o - ex) ** 2 / v
    return LogRank(float(chi2), float(stats.chi2.sf(chi2, 1)), o, ex, v)


# --------------------------------------------------------------------------------------------
# Cox proportional hazards (Efron), as R's coxph
# --------------------------------------------------------------------------------------------


@dataclass
class CoxFit:
    coef: np.ndarray
    var: np.ndarray  # model-based (inverse information), or robust when robust=True
    var_model: np.ndarray
    loglik: float
    loglik0: float
    converged: bool
    iterations: int
    robust: bool
    n: int
    n_events: int
    notes: list[str] = field(default_factory=list)
    #: per coefficient: True when it "may be infinite" by R's rule (see :func:`cox_efron`)
    infinite: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.var))


class _CoxData:
    """Rows sorted by (stratum, time) with the index structures Efron's method needs."""

    def __init__(self, time, event, X, strata, weights):
        t = np.asarray(time, dtype=float)
        e = np.asarray(event, dtype=float)
        X = np.asarray(X, dtype=float).reshape(t.size, -1)
        w = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float)
        s = np.zeros(t.size, dtype=np.int64) if strata is None else _codes(strata)
        order = np.lexsort((t, s))
        self.order = order
        self.t, self.e, self.X, self.w, self.s = t[order], e[order], X[order], w[order], s[order]
        self.start, self.end = _stratum_bounds(self.s)
        new = np.concatenate([[True], (np.diff(self.t) != 0) | (np.diff(self.s) != 0)])
        self.grp = np.cumsum(new) - 1  # distinct (stratum, time) per row
        self.first = np.flatnonzero(new)
        ng = self.first.size
        dead = self.e > 0
        self.dead = dead
        d = np.bincount(self.grp, weights=dead.astype(float), minlength=ng)
        self.ev = np.flatnonzero(d > 0)  # groups with deaths: the event times k
        self.d = d[self.ev]
        wd = np.bincount(self.grp, weights=self.w * dead, minlength=ng)[self.ev]
        self.wbar = wd / self.d
        # expand every event time k into l = 0..d_k-1 (Efron)
        dk = self.d.astype(int)
        self.k_of = np.repeat(np.arange(self.ev.size), dk)
        self.frac = (np.arange(dk.sum()) - np.repeat(np.cumsum(dk) - dk, dk)) / np.repeat(dk, dk)
        # map each row's group to an event-time index (or -1)
        self.ev_index = np.full(ng, -1)
        self.ev_index[self.ev] = np.arange(self.ev.size)

    def pieces(self, beta):
        X, w = self.X, self.w
        eta = X @ beta
        eta = eta - eta.max() if eta.size else eta  # scale-invariant in each risk set
        risk = np.exp(eta)
        r = w * risk
        S0 = _suffix_sum_by(r, self.end)[self.first][self.ev]
        S1 = _suffix_sum_by(r[:, None] * X, self.end)[self.first][self.ev]
        rd = r * self.dead
        D0 = np.bincount(self.grp, weights=rd, minlength=self.first.size)[self.ev]
        D1 = (
            np.stack(
                [
                    np.bincount(self.grp, weights=rd * X[:, j], minlength=self.first.size)[self.ev]
                    for j in range(X.shape[1])
                ],
                axis=1,
            )
            if X.shape[1]
            else np.zeros((self.ev.size, 0))
        )
        k, f = self.k_of, self.frac
        den = S0[k] - f * D0[k]
        A = (S1[k] - f[:, None] * D1[k]) / den[:, None]
        wb = self.wbar[k]
        return eta, risk, r, den, A, wb

    def loglik_score_info(self, beta):
        X = self.X
        eta, risk, r, den, A, wb = self.pieces(beta)
        k, f = self.k_of, self.frac
        wdead = self.w * self.dead
        ll = float(np.sum(wdead * eta) - np.sum(wb * np.log(den)))
        U = X.T @ wdead - (wb[:, None] * A).sum(axis=0)
        # information: sum_kl wbar [ (S2 - f D2)/den - a a' ]
        c = np.bincount(k, weights=wb / den, minlength=self.ev.size)
        ef = np.bincount(k, weights=wb * f / den, minlength=self.ev.size)
        c_row = np.zeros(self.t.size)
        c_row[self.first[self.ev]] = c
        C = _prefix_sum_by(c_row, self.start)
        E = np.where(self.dead, ef[np.maximum(self.ev_index[self.grp], 0)], 0.0)
        info = (X * (r * C)[:, None]).T @ X - (X * (r * E)[:, None]).T @ X - (A * wb[:, None]).T @ A
        return ll, U, info

    def score_residuals(self, beta):
        """Per-row score residuals (Efron), as R's ``residuals(fit, type="score")``."""
        X = self.X
        eta, risk, r, den, A, wb = self.pieces(beta)
        k, f = self.k_of, self.frac
        nk = self.ev.size
        h = wb / den
        c = np.bincount(k, weights=h, minlength=nk)
        ca = np.stack(
            [np.bincount(k, weights=h * A[:, j], minlength=nk) for j in range(X.shape[1])], 1
        )
        g = np.bincount(k, weights=h * f, minlength=nk)
        ga = np.stack(
            [np.bincount(k, weights=h * f * A[:, j], minlength=nk) for j in range(X.shape[1])], 1
        )
        abar = np.stack(
            [np.bincount(k, weights=A[:, j], minlength=nk) for j in range(X.shape[1])], 1
        )
        abar = abar / self.d[:, None]
        c_row = np.zeros(self.t.size)
        c_row[self.first[self.ev]] = c
        ca_row = np.zeros_like(X)
        ca_row[self.first[self.ev]] = ca
        H = _prefix_sum_by(c_row, self.start)
        AH = _prefix_sum_by(ca_row, self.start)
        kk = np.maximum(self.ev_index[self.grp], 0)
        dead = self.dead[:, None]
        res = dead * (X - abar[kk])
        res -= risk[:, None] * (X * H[:, None] - AH)
        res += dead * risk[:, None] * (X * g[kk][:, None] - ga[kk])
        out = np.empty_like(res)
        out[self.order] = res
        return out


def cox_efron(
    time,
    event,
    X,
    *,
    strata=None,
    weights=None,
    cluster=None,
    robust: bool = False,
    max_iter: int = 30,
    eps: float = 1e-9,
) -> CoxFit:
    """Cox proportional-hazards fit by Newton-Raphson with Efron's ties method.

    Reproduces R's ``coxph(..., ties="efron")`` (weights handled as R does: the Efron
    denominators use the mean weight of the tied deaths). ``robust=True`` (or a ``cluster``)
    gives the sandwich variance ``D'D`` of the weighted dfbeta residuals summed within
    clusters, as ``coxph(..., robust=TRUE)`` / ``cluster()``. Convergence: relative change of
    the log partial likelihood below ``eps`` (R's default), with step halving.

    ``infinite`` flags the coefficients R's ``coxph.fit`` warns about ("Loglik converged
    before variable j; coefficient may be infinite"): the next Newton step at the solution,
    ``|I^-1 U|``, exceeds both ``eps`` and ``sqrt(eps) |beta|`` (monotone likelihood, e.g. a
    covariate level with no events).
    """
    data = _CoxData(time, event, X, strata, weights)
    p = data.X.shape[1]
    beta = np.zeros(p)
    ll, U, info = data.loglik_score_info(beta)
    ll0 = ll
    converged = False
    iterations = 0
    notes: list[str] = []
    for it in range(1, max_iter + 1):
        iterations = it
        try:
            step = np.linalg.solve(info, U)
        except np.linalg.LinAlgError:
            notes.append("the information matrix is singular")
            break
        new = beta + step
        ll_new, U_new, info_new = data.loglik_score_info(new)
        halvings = 0
        while (not np.isfinite(ll_new) or ll_new < ll - 1e-12) and halvings < 20:
            step /= 2
            new = beta + step
            ll_new, U_new, info_new = data.loglik_score_info(new)
            halvings += 1
        done = abs(ll_new - ll) <= eps * abs(ll_new) if np.isfinite(ll_new) else False
        beta, ll, U, info = new, ll_new, U_new, info_new
        if done:
            converged = True
            break
    try:
        var_model = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        var_model = np.full((p, p), np.nan)
    with np.errstate(invalid="ignore"):
        step_next = np.abs(var_model @ U) if p else np.zeros(0)
        infinite = (step_next > eps) & (step_next > np.sqrt(eps) * np.abs(beta))
    var = var_model
    use_robust = robust or cluster is not None
    if use_robust and np.all(np.isfinite(var_model)):
        res = data.score_residuals(beta)
        w = np.ones(res.shape[0]) if weights is None else np.asarray(weights, dtype=float)
        dfb = (res * w[:, None]) @ var_model
        if cluster is not None:
            cl = _codes(cluster)
            dfb = (
                np.stack([np.bincount(cl, weights=dfb[:, j]) for j in range(p)], axis=1)
                if p
                else dfb
            )
        var = dfb.T @ dfb
    return CoxFit(
        coef=beta,
        var=var,
        var_model=var_model,
        loglik=float(ll),
        loglik0=float(ll0),
        converged=converged,
        iterations=iterations,
        robust=use_robust,
        n=int(data.t.size),
        n_events=int(data.dead.sum()),
        notes=notes,
        infinite=infinite,
    )


# --------------------------------------------------------------------------------------------
# Competing risks: Aalen-Johansen cumulative incidence
# --------------------------------------------------------------------------------------------


@dataclass
class CIFTable:
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
    if _robust_default(weights, cluster) if robust is None else robust:
        var = _robust_var(aj_influence(t, c, w, ut), cluster)
    return CIFTable(ut, n, d1, d2, F, var, float(w.sum()))


def cif_at(tab: CIFTable, at, alpha: float = 0.05) -> dict:
    """Cumulative incidence, SE and CI at times ``at``.

    CI on the log(-log F) scale (as cmprsk-based tools such as tidycmprsk report):
    ``exp(-exp(log(-log F) -+ z se / (F |log F|)))``; undefined (NaN) where F is 0 or 1.
    Times beyond the last observation give NaN, unless everyone still followed then had an
    exit (the cumulative incidence is then final).
    """
    at = np.atleast_1d(np.asarray(at, dtype=float))
    i = _step_index(tab.time, at)
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


# ============================================================================================
# Result object
# ============================================================================================


class RetentionResult(Result):
    """Retention of a treated group vs a control group (see :func:`compare_retention`).

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per estimate; columns ``metric, group, horizon, estimate, se, ci_low, ci_high,
        p_value, n, n_at_risk, n_events`` (see :func:`compare_retention`).
    notes : list of str
        Plain-language statements: what could not be estimated and why, conventions, checks.
    frame_ : pandas.DataFrame
        The analysis frame actually used (rows with missing values removed).
    km_ : dict
        Kaplan-Meier tables (:class:`KMTable`) by group (``"treated"``, ``"control"``).
    cif_ : pandas.DataFrame
        Cumulative incidence of the event (competing exits accounted for) at every distinct
        time, per group: ``group, time, cumulative_incidence, se, ci_low, ci_high, n_at_risk,
        n_events``.
    cox_ : CoxFit or None
        The Cox fit behind the hazard ratio (None when not estimable).
    balance_ : pandas.DataFrame or None
        Covariate balance before and after matching (set by :func:`pilot_retention`).
    """

    title = "Retention: treated vs control"

    def __init__(self, summary, notes, **params):
        super().__init__(summary, notes, **params)
        self.frame_: pd.DataFrame = pd.DataFrame()
        self.km_: dict[str, KMTable] = {}
        self.cif_: pd.DataFrame = pd.DataFrame()
        self.cox_: CoxFit | None = None
        self.balance_: pd.DataFrame | None = None
        self.matching_ = None

    # -- conveniences ------------------------------------------------------------------------
    @property
    def hazard_ratio(self) -> float:
        """The treated-vs-control hazard ratio (NaN when not estimable)."""
        return float(self.row(metric="hazard_ratio").estimate)

    def attrition_at(self, horizon: float) -> dict[str, float]:
        """Kaplan-Meier attrition (1 - retention) per group at ``horizon`` and its difference.

        Returns
        -------
        dict
            ``treated``, ``control`` (attrition probabilities), ``difference`` (control minus
            treated: positive when the program retains), ``se_difference`` (Greenwood SEs of
            the two independent KM estimates, combined as sqrt(se_t^2 + se_c^2); descriptive,
            the inference below does not use it), ``ci_low``, ``ci_high`` (level 1 - alpha),
            ``p_value`` (two-sided, H0: no difference), ``p_method``, ``ci_method``,
            ``n_treated``, ``n_control``. NaN where the horizon is beyond a group's follow-up.

        One method gives both the interval and the p-value, so they agree by construction
        (p < alpha exactly when the interval excludes 0). The interval is Newcombe's
        square-and-add (MOVER; Newcombe, Stat Med 1998, method 10; Zou and Donner 2008) of the
        two groups' retention intervals as the summary shows them (:func:`km_at` with the
        result's ``conf_type``; for a group without exits by the horizon, where Greenwood's
        variance is 0, the exact lower limit on those followed). The p-value inverts that
        interval: the smallest level alpha' whose MOVER interval excludes 0 (1 when none does);
        ``p_method`` is ``"mover inversion"``. With ``conf_type="plain"`` and exits in both
        groups this is the Wald interval and z-test. Under the null, in 12-vs-24 pilots with
        staggered follow-up and 10-30% annual attrition, it rejects in at most 2-3% of samples
        with the default ``"log"`` transform (``tests/test_null_simulations.py``): valid,
        conservative.
        """
        alpha = self.arguments.get("alpha", 0.05)
        conf_type = self.arguments.get("conf_type", "log")
        out: dict = {}
        tabs, ses = {}, {}
        for g in ("treated", "control"):
            tab = self.km_.get(g)
            if tab is None or tab.time.size == 0:
                out[g], ses[g], out[f"n_{g}"] = float("nan"), float("nan"), 0
                continue
            r = km_at(tab, [horizon], alpha, conf_type)
            tabs[g] = tab
            out[g] = float(1 - r["surv"][0])
            ses[g] = float(r["se"][0])
            out[f"n_{g}"] = int(round(tab.n))
        diff = out["control"] - out["treated"]
        se = float(np.sqrt(ses["treated"] ** 2 + ses["control"] ** 2))
        lo = hi = p = float("nan")
        if np.isfinite(diff) and len(tabs) == 2:
            lo, hi = _mover_difference(tabs["treated"], tabs["control"], horizon, alpha, conf_type)
            if np.isfinite(lo) and np.isfinite(hi):
                p = _mover_p(tabs["treated"], tabs["control"], horizon, conf_type, diff)
        out.update(difference=diff, se_difference=se, ci_low=float(lo), ci_high=float(hi),
                   p_value=float(p), p_method="mover inversion", ci_method="mover")  # fmt: skip
        return {
            k: out[k]
            for k in (
                "treated",
                "control",
                "difference",
                "se_difference",
                "ci_low",
                "ci_high",
                "p_value",
                "p_method",
                "ci_method",
                "n_treated",
                "n_control",
            )
        }

    # -- plots -------------------------------------------------------------------------------
    def plot(self, ax=None, **kwargs):
        """Kaplan-Meier retention curves in survminer style (see
        :func:`rm_analytics.survival_plots.plot_km`). Returns the axes."""
        from ..plotting.survival import plot_km

        return plot_km(self, ax=ax, **kwargs)

    def plot_cumulative_incidence(self, ax=None, **kwargs):
        """Cumulative incidence of voluntary exits per group with CI bands. Returns the axes."""
        from ..plotting.survival import plot_cumulative_incidence

        return plot_cumulative_incidence(self, ax=ax, **kwargs)


# ============================================================================================
# Generic engine
# ============================================================================================


def _design(frame: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Numeric design matrix of covariates: numbers as they are, other columns as dummies
    (first level dropped), constant columns removed."""
    parts = []
    for c in covariates:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s) or (
            pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype)
        ):
            parts.append(s.astype(float).rename(c))
        else:
            cat = s.astype("category")
            cat = cat.cat.remove_unused_categories()
            d = pd.get_dummies(cat, prefix=c, prefix_sep="=", drop_first=True, dtype=float)
            parts.append(d)
    if not parts:
        return pd.DataFrame(index=frame.index)
    X = pd.concat(parts, axis=1)
    return X.loc[:, X.nunique() > 1]


def _independent_columns(X: np.ndarray, names: list[str]) -> list[int]:
    """Indices of a maximal set of linearly independent columns (first ones kept)."""
    keep: list[int] = []
    for j in range(X.shape[1]):
        cand = keep + [j]
        if np.linalg.matrix_rank(X[:, cand] - X[:, cand].mean(axis=0)) == len(cand):
            keep.append(j)
    return keep


def _group_limits(tab: KMTable, horizon: float, conf_type: str):
    """The retention interval of one group at ``horizon`` as a function of alpha (vectorised):
    :func:`km_at`'s interval, computed once up to the normal quantile."""
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


def _mover_difference(tab_t, tab_c, horizon, alpha, conf_type) -> tuple[float, float]:
    """MOVER interval of S_t - S_c (= attrition control - treated) at ``horizon``."""
    lo, hi = _mover_bounds(
        _group_limits(tab_t, horizon, conf_type), _group_limits(tab_c, horizon, conf_type), alpha
    )
    return float(lo), float(hi)


def _mover_bounds(lim_t, lim_c, alpha):
    s_t, l_t, u_t = lim_t(alpha)
    s_c, l_c, u_c = lim_c(alpha)
    d = s_t - s_c
    return d - np.hypot(s_t - l_t, u_c - s_c), d + np.hypot(u_t - s_t, s_c - l_c)


def _mover_p(tab_t, tab_c, horizon, conf_type, diff) -> float:
    """Two-sided p-value by inverting the MOVER interval: the level at which it touches 0
    (the interval narrows as alpha grows; 1 when even the narrowest one covers 0)."""
    if diff == 0:
        return 1.0
    lim_t = _group_limits(tab_t, horizon, conf_type)
    lim_c = _group_limits(tab_c, horizon, conf_type)
    side = 0 if diff > 0 else 1  # the bound that moves towards 0
    sign = 1.0 if side == 0 else -1.0

    def excess(a):  # > 0 when the level-a interval excludes 0
        return sign * _mover_bounds(lim_t, lim_c, a)[side]

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
    return _exact_p_cached(int(left_t), int(n_t), int(left_c), int(n_c), use)


@functools.lru_cache(maxsize=4096)
def _exact_p_cached(left_t: int, n_t: int, left_c: int, n_c: int, use: str) -> float:
    table = np.array([[left_t, left_c], [n_t - left_t, n_c - left_c]])  # columns = groups
    if use == "boschloo":
        p = float(stats.boschloo_exact(table, alternative="two-sided").pvalue)
    else:
        p = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
    return min(p, 1.0)


def _exact_test(dur, ev, treated, horizon, method="auto"):
    """Exact test of attrition by ``horizon`` among people whose status there is known."""
    left = (ev == 1) & (dur <= horizon)
    known = left | (dur >= horizon)
    t, c = known & (treated == 1), known & (treated == 0)
    a, cc = int((left & t).sum()), int((left & c).sum())
    n_t, n_c = int(t.sum()), int(c.sum())
    if n_t == 0 or n_c == 0:
        return dict(estimate=np.nan, p=np.nan, n=n_t + n_c, events=a + cc, used="none")
    use = method
    if method == "auto":
        use = "boschloo" if max(n_t, n_c) <= BOSCHLOO_MAX_PER_GROUP else "fisher"
    p = exact_attrition_p(a, n_t, cc, n_c, use)
    return dict(estimate=a / n_t - cc / n_c, p=p, n=n_t + n_c, events=a + cc, used=use)


#: How the notes name the proportional-hazards check (see :func:`_ph_check`).
PH_TEST = (
    "lifelines' proportional_hazard_test: Grambsch and Therneau's score test with the "
    "Kaplan-Meier time transform, in the approximation R's cox.zph used before survival 3.0 "
    "(the current cox.zph uses the exact variance and can give another p-value)"
)


def _ph_check(df, duration, event, names, strata, weights, alpha) -> tuple[float, str | None]:
    """Grambsch-Therneau test of proportional hazards for the treatment (lifelines,
    time transform "km"). Returns (p-value, problem).

    This is lifelines' ``proportional_hazard_test``, which uses Grambsch and Therneau's (1994)
    approximation (scaled Schoenfeld residuals with the average variance), as R's
    ``cox.zph`` did before survival 3.0; survival 3.x computes the score test with the full
    variance, so R's current ``cox.zph`` gives a somewhat different p-value. The notes say so
    (:data:`PH_TEST`)."""
    try:
        from lifelines import CoxPHFitter
        from lifelines.statistics import proportional_hazard_test
    except ImportError:  # pragma: no cover
        return float("nan"), "lifelines is not installed"
    cols = [duration, event, *names] + ([strata] if strata else []) + ([weights] if weights else [])
    d = df[cols].copy()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cph = CoxPHFitter().fit(
                d,
                duration,
                event,
                strata=[strata] if strata else None,
                weights_col=weights,
            )
            res = proportional_hazard_test(cph, d, time_transform="km")
        return float(res.summary.loc["treated", "p"]), None
    except Exception as exc:
        return float("nan"), f"{type(exc).__name__}: {exc}"


def compare_retention(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    group: str,
    treated: Any = 1,
    covariates: Sequence[str] | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    strata: str | None = None,
    horizons: Sequence[float] | None = None,
    tau: float | None = None,
    alpha: float = 0.05,
    competing: str | None = None,
    conf_type: str = "log",
    exact: str = "auto",
    ph_check: bool = True,
    rmst_test: str = "auto",
    n_permutations: int = N_PERMUTATIONS,
    seed: int | None = 20250113,
) -> RetentionResult:
    """Compare retention (time to an exit event) of a treated group with a control group.

    Parameters
    ----------
    data
        One row per person.
    duration
        Follow-up time from the index date (e.g. months) to the event or censoring; >= 0.
    event
        1 when the follow-up ended with the event of interest (voluntary exit), else 0.
    group
        Column identifying the groups; rows equal to ``treated`` are the treated group, all
        other (non-missing) values the control group.
    treated
        Value of ``group`` marking the treated.
    covariates
        Columns the Cox model adjusts for (numbers as is, other columns as dummies). They are
        used only with at least ``MIN_EVENTS_PER_PARAMETER`` (5) events per model parameter;
        otherwise the hazard ratio is unadjusted and a note says so.
    weights
        Case weights (e.g. inverse-probability weights). Used by the Cox model (robust variance)
        and the Kaplan-Meier, RMST and cumulative-incidence estimates. Weights that are not all
        whole numbers get the robust (infinitesimal-jackknife) variance for those estimates,
        as R's ``survfit(..., weights = w)`` (Greenwood's formula on weighted counts would
        treat them as people); whole-number weights are counts. The log-rank and exact tests
        ignore weights.
    cluster
        Cluster identifier (e.g. matched set or pair): Cox variance is the clustered sandwich;
        with non-integer weights the robust Kaplan-Meier, RMST and cumulative-incidence
        variances also sum the influences within clusters.
    strata
        Stratum (e.g. cohort) for a stratified Cox model and a stratified log-rank test (pooling
        cohorts). Kaplan-Meier, RMST, cumulative incidence and exact tests pool strata.
    horizons
        Times at which retention, attrition, cumulative incidence and the exact test are
        reported (default: ``tau``).
    tau
        Truncation time of the RMST (default, as survRM2: the smaller of the two groups'
        largest observed times).
    alpha
        1 - confidence level of every interval.
    competing
        Optional column: 1 when the follow-up ended with a competing exit (involuntary or other
        exit). Only the cumulative incidence uses it; elsewhere competing exits are censored
        (cause-specific analysis).
    conf_type
        Kaplan-Meier CI transform: ``"log"`` (R ``survfit``'s default), ``"log-log"`` (lifelines'
        default) or ``"plain"``.
    exact
        ``"auto"`` (Boschloo up to 200 people per group, Fisher above), ``"boschloo"`` or
        ``"fisher"``.
    ph_check
        Test proportional hazards for the treatment (Grambsch-Therneau, Kaplan-Meier time
        transform, via lifelines) and add a note when it fails at level ``alpha``.
    rmst_test, n_permutations, seed
        Inference on the RMST difference: ``"survrm2"`` (Wald with survRM2's standard
        errors), ``"permutation"`` (:func:`rmst_permutation_test`: ``n_permutations`` seeded
        permutations of the group labels within ``strata`` and clusters, the interval by test
        inversion) or ``"auto"`` (survRM2 when each group has at least
        ``RMST_WALD_MIN_EVENTS`` (10) exits by tau, else the permutation test). With weights
        the labels cannot be permuted: the Wald test with the weighted (robust) standard errors
        when each group has at least 10 exits by tau, otherwise no interval or p-value (the
        notes defer to the log-rank and exact tests); ``rmst_test="survrm2"`` forces Wald.

    Returns
    -------
    RetentionResult
        ``summary`` has one row per estimate with columns

        - ``metric``: ``hazard_ratio``, ``logrank``, ``retention``, ``attrition``,
          ``cumulative_incidence``, ``rmst``, ``rmst_difference``, ``exact_test``;
        - ``group``: ``treated`` / ``control`` for per-group rows, ``treated vs control`` for
          contrasts;
        - ``horizon``: the time of the estimate (tau for RMST rows; NaN for the hazard ratio and
          log-rank test);
        - ``estimate``: hazard ratio (treated / control; Cox, Efron ties); log-rank chi-square
          statistic (1 df); Kaplan-Meier probability of no event by the horizon (retention) or
          its complement (attrition); Aalen-Johansen cumulative incidence of the event with
          competing exits; RMST (area under the KM curve up to tau); RMST difference (treated
          minus control); for ``exact_test`` the difference in crude attrition proportions
          (treated minus control) among people whose status at the horizon is known (they had
          the event by the horizon or were followed up to it; people censored or with a
          competing exit before it are left out);
        - ``se``: standard error - of log(HR) for the hazard ratio; Greenwood SE of the KM
          probability (robust with non-integer weights); delta-method SE of the cumulative
          incidence (robust with such weights); survRM2's SE for RMST (NaN for a group
          without exits by tau, and for a permutation-tested difference); NaN for tests;
        - ``ci_low``, ``ci_high``: 1 - alpha interval - exp(log HR +- z se); KM CI with the
          ``conf_type`` transform and the exact lower limit for a group without exits
          (attrition: the retention interval flipped); cumulative incidence on the log(-log)
          scale; RMST Wald, or from the exact limit up to tau for a group without exits; RMST
          difference: Wald with survRM2's SEs, or the permutation test inverted
          (``rmst_test``);
        - ``p_value``: Wald (HR), chi-square (log-rank), z-test or permutation test (RMST
          difference), exact test (Boschloo's or Fisher's, two-sided);
        - ``n``: people in the group (contrasts: both groups; exact test: people with known
          status); ``n_at_risk``: people still followed at the horizon; ``n_events``: events
          observed (by the horizon for per-horizon rows).

    Notes
    -----
    Small samples: when a group has no events, or the Cox fit does not converge or its
    coefficient diverges (|log HR| > 10), the hazard-ratio row has no number (NaN) and a note
    explains why, while the log-rank, exact, Kaplan-Meier and RMST results are still reported.
    Competing exits are censored in the Cox, log-rank, KM, RMST and exact analyses
    (cause-specific hazard of voluntary exit); the cumulative incidence accounts for them.
    """
    for col in (duration, event, group, *(covariates or ()), weights, cluster, strata, competing):
        if col is not None and col not in data.columns:
            raise KeyError(f"compare_retention: column {col!r} is not in the data")
    if conf_type not in ("log", "log-log", "plain"):
        raise ValueError(f"conf_type must be 'log', 'log-log' or 'plain', not {conf_type!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    notes: list[str] = []
    needed = [duration, event, group] + [c for c in (weights, cluster, strata, competing) if c]
    df = data.copy()
    miss = df[needed].isna().any(axis=1)
    if miss.any():
        notes.append(
            f"{int(miss.sum())} row(s) with a missing {', '.join(needed)} value were left out."
        )
        df = df[~miss]
    dur = pd.to_numeric(df[duration], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(dur)) or (dur < 0).any():
        raise ValueError(f"compare_retention: column {duration!r} must hold finite times >= 0")
    ev_raw = pd.to_numeric(df[event], errors="coerce")
    if not ev_raw.isin([0, 1]).all():
        bad = df.loc[~ev_raw.isin([0, 1]), event].iloc[0]
        raise ValueError(f"compare_retention: column {event!r} must be 0/1, found {bad!r}")
    ev = ev_raw.to_numpy(dtype=float)
    trt = (df[group] == treated).to_numpy().astype(float)
    if trt.sum() == 0 or trt.sum() == len(trt):
        which = "treated" if trt.sum() == 0 else "control"
        raise ValueError(
            f"compare_retention: no {which} rows (group column {group!r}, treated={treated!r})"
        )
    w = None if weights is None else df[weights].to_numpy(dtype=float)
    if w is not None and ((w < 0) | ~np.isfinite(w)).any():
        raise ValueError(f"compare_retention: weights in {weights!r} must be finite and >= 0")
    comp = np.zeros(len(df)) if competing is None else df[competing].to_numpy(dtype=float)
    if ((comp == 1) & (ev == 1)).any():
        raise ValueError(
            f"compare_retention: a row cannot have both {event!r} and {competing!r} equal to 1"
        )
    df = df.assign(treated=trt, _dur=dur, _ev=ev)
    n_t, n_c = int(trt.sum()), int(len(trt) - trt.sum())
    groups = {"treated": trt == 1, "control": trt == 0}

    # -- Kaplan-Meier per group -------------------------------------------------------------
    robust_w = _robust_default(w, None)  # non-integer weights: infinitesimal jackknife
    cl_w = df[cluster].to_numpy() if (cluster and robust_w) else None

    def _wc(m):  # weights and clusters of a group
        return (None if w is None else w[m]), (None if cl_w is None else cl_w[m])

    kms = {
        g: km_table(dur[m], ev[m], _wc(m)[0], robust=robust_w, cluster=_wc(m)[1])
        for g, m in groups.items()
    }
    max_t = {g: float(dur[m].max()) for g, m in groups.items()}
    if tau is None:
        tau = min(max_t.values())
        notes.append(
            f"RMST truncation time tau = {tau:.4g} (survRM2's default: the smaller of the two "
            "groups' largest observed times)."
        )
    tau = float(tau)
    hz = [tau] if horizons is None else [float(h) for h in horizons]
    rows: list[dict] = []

    def add(metric, grp, horizon=np.nan, estimate=np.nan, se=np.nan, lo=np.nan, hi=np.nan,
            p=np.nan, n=np.nan, n_at_risk=np.nan, n_events=np.nan):  # fmt: skip
        rows.append(dict(metric=metric, group=grp, horizon=horizon, estimate=estimate, se=se,
                         ci_low=lo, ci_high=hi, p_value=p, n=n, n_at_risk=n_at_risk,
                         n_events=n_events))  # fmt: skip

    # -- Cox hazard ratio -------------------------------------------------------------------
    cox_fit = None
    ev_t, ev_c = int(ev[trt == 1].sum()), int(ev[trt == 0].sum())
    hr = dict(estimate=np.nan, se=np.nan, lo=np.nan, hi=np.nan, p=np.nan)
    used_names: list[str] = ["treated"]
    cox_df = df
    if ev_t == 0 and ev_c == 0:
        notes.append(
            "No exits at all: nobody in either group had the event during follow-up, so "
            "retention is 100% in both groups and there is nothing to compare yet. The hazard "
            "ratio and the log-rank test are undefined, the exact test and the RMST difference "
            "cannot show a difference; this is no evidence about the program's effect either "
            "way."
        )
    elif ev_t == 0 or ev_c == 0:
        who = "treated" if ev_t == 0 else "control"
        notes.append(
            f"No hazard ratio: there were no events in the {who} group, so the Cox model has no "
            "finite estimate (its coefficient would run off towards infinity). The log-rank "
            "test, the exact test and the Kaplan-Meier retention are reported instead."
        )
    else:
        covs = list(covariates or [])
        Xc = pd.DataFrame(index=df.index)
        if covs:
            cmiss = df[covs].isna().any(axis=1)
            n_params = 1 + _design(df[~cmiss], covs).shape[1]
            if ev_t + ev_c < MIN_EVENTS_PER_PARAMETER * n_params:
                notes.append(
                    f"The hazard ratio is not adjusted for {', '.join(covs)}: {ev_t + ev_c} "
                    f"events are too few for {n_params} model parameters (at least "
                    f"{MIN_EVENTS_PER_PARAMETER} events per parameter are needed)."
                    + (" Matching already balances these covariates." if cluster else "")
                )
                covs = []
            else:
                if cmiss.any():
                    notes.append(
                        f"{int(cmiss.sum())} row(s) with missing covariates were left out of "
                        "the Cox model."
                    )
                cox_df = df[~cmiss]
                Xc = _design(cox_df, covs)
        X = np.column_stack([cox_df["treated"].to_numpy(), Xc.to_numpy(dtype=float)])
        names = ["treated", *Xc.columns]
        keep = _independent_columns(X, names)
        if len(keep) < len(names):
            dropped = [names[j] for j in range(len(names)) if j not in keep]
            if 0 not in keep:
                keep = []
            notes.append(
                "Collinear covariate column(s) left out of the Cox model: " + ", ".join(dropped)
            )
        if keep and keep[0] == 0:
            X = X[:, keep]
            used_names = [names[j] for j in keep]
            cox_fit = cox_efron(
                cox_df["_dur"].to_numpy(),
                cox_df["_ev"].to_numpy(),
                X,
                strata=None if strata is None else cox_df[strata].to_numpy(),
                weights=None if w is None else cox_df[weights].to_numpy(dtype=float),
                cluster=None if cluster is None else cox_df[cluster].to_numpy(),
                robust=w is not None,
            )
            b, se = float(cox_fit.coef[0]), float(cox_fit.se[0])
            diverged = abs(cox_fit.coef) > MAX_ABS_LOG_HR
            if cox_fit.infinite.size:
                diverged |= cox_fit.infinite
            if not cox_fit.converged or not np.isfinite(se) or diverged[0]:
                notes.append(
                    "No hazard ratio: the Cox model did not converge to a finite estimate "
                    f"(log HR {b:.3g}, SE {se:.3g} after {cox_fit.iterations} iterations); "
                    "such a number would be meaningless. See the log-rank and exact tests."
                )
                cox_fit = None
            else:
                bad = [used_names[j] for j in np.flatnonzero(diverged[1:]) + 1]
                if bad:
                    notes.append(
                        f"The Cox coefficient of the adjustment covariate(s) {', '.join(bad)} "
                        "runs off towards infinity (monotone likelihood, e.g. a level without "
                        "exits; R's coxph warns 'coefficient may be infinite'): the hazard "
                        "ratio is adjusted for it, but that covariate's own estimate means "
                        "nothing and the adjustment amounts to setting its exit-free level "
                        "aside."
                    )
                lo, hi, p = normal_ci(b, se, alpha)
                hr = dict(estimate=np.exp(b), se=se, lo=np.exp(lo), hi=np.exp(hi), p=p)
                kind = (
                    "clustered robust (sandwich)"
                    if cluster
                    else ("robust (sandwich)" if w is not None else "model-based")
                )
                adj = f", adjusted for {', '.join(used_names[1:])}" if len(used_names) > 1 else ""
                notes.append(
                    f"Hazard ratio from a Cox model (Efron ties{adj}"
                    + (f", stratified by {strata}" if strata else "")
                    + f") with {kind} variance; se is the standard error of log(HR)."
                )
    add("hazard_ratio", "treated vs control", estimate=hr["estimate"], se=hr["se"],
        lo=hr["lo"], hi=hr["hi"], p=hr["p"], n=len(df), n_events=ev_t + ev_c)  # fmt: skip

    # -- log-rank ---------------------------------------------------------------------------
    lr = logrank_test(dur, ev, trt, None if strata is None else df[strata].to_numpy())
    add("logrank", "treated vs control", estimate=lr.statistic, p=lr.p_value, n=len(df),
        n_events=ev_t + ev_c)  # fmt: skip
    if strata:
        notes.append(f"Log-rank test stratified by {strata}.")

    # -- KM retention / attrition -----------------------------------------------------------
    for g in ("treated", "control"):
        r = km_at(kms[g], hz, alpha, conf_type)
        for j, h in enumerate(hz):
            common = dict(n=int(groups[g].sum()), n_at_risk=r["n_risk"][j],
                          n_events=r["n_event"][j])  # fmt: skip
            add("retention", g, h, r["surv"][j], r["se"][j], r["ci_low"][j], r["ci_high"][j],
                **common)  # fmt: skip
            add("attrition", g, h, 1 - r["surv"][j], r["se"][j], 1 - r["ci_high"][j],
                1 - r["ci_low"][j], **common)  # fmt: skip

    def _unfollowed(g, h):  # beyond the last follow-up, and not everyone has left
        return h > max_t[g] and bool(kms[g].surv[-1] > 0)

    beyond = [h for h in hz if any(_unfollowed(g, h) for g in groups)]
    if beyond:
        notes.append(
            "No Kaplan-Meier estimate beyond a group's last follow-up time "
            f"(horizon(s) {', '.join(f'{h:g}' for h in beyond)})."
        )
    notes.append(
        f"Kaplan-Meier confidence intervals use the {conf_type!r} transform "
        + ("(R survfit's default)." if conf_type == "log" else "(lifelines' default is log-log).")
    )

    # -- cumulative incidence (competing risks) ---------------------------------------------
    cause = np.where(ev == 1, 1, np.where(comp == 1, 2, 0))
    cif_frames = []
    for g, m in groups.items():
        tab = aalen_johansen(dur[m], cause[m], _wc(m)[0], robust=robust_w, cluster=_wc(m)[1])
        r = cif_at(tab, hz, alpha)
        for j, h in enumerate(hz):
            add("cumulative_incidence", g, h, r["cif"][j], r["se"][j], r["ci_low"][j],
                r["ci_high"][j], n=int(m.sum()), n_at_risk=r["n_risk"][j],
                n_events=r["n_event"][j])  # fmt: skip
        full = cif_at(tab, tab.time, alpha)
        cif_frames.append(
            pd.DataFrame(
                {
                    "group": g,
                    "time": tab.time,
                    "cumulative_incidence": full["cif"],
                    "se": full["se"],
                    "ci_low": full["ci_low"],
                    "ci_high": full["ci_high"],
                    "n_at_risk": tab.n_risk,
                    "n_events": np.cumsum(tab.n_event),
                }
            )
        )
    if competing is None:
        notes.append(
            "No competing-exit column given: the cumulative incidence equals 1 - Kaplan-Meier."
        )

    # -- RMST -------------------------------------------------------------------------------
    if rmst_test not in ("auto", "survrm2", "permutation"):
        raise ValueError(f"rmst_test must be 'auto', 'survrm2' or 'permutation', not {rmst_test!r}")
    rm = {}
    ev_tau = {g: float(ev[m & (dur <= tau)].sum()) for g, m in groups.items()}
    for g in ("treated", "control"):
        if robust_w:
            m = groups[g]
            est, se = rmst_robust(dur[m], ev[m], w[m], tau, cluster=_wc(m)[1])
        else:
            est, se = rmst_survrm2(kms[g], tau)
        if _unfollowed(g, tau):
            est, se = float("nan"), float("nan")
        rm[g] = (est, se)
        lo, hi, _ = normal_ci(est, se, alpha) if np.isfinite(est) else (np.nan,) * 3
        if np.isfinite(est) and ev_tau[g] == 0:
            # no exit by tau: S(tau) >= (alpha/2)^(1/n(tau)) with 1 - alpha/2 confidence
            # (exact, 0 events among those followed to tau), and S is decreasing, so
            # RMST >= tau (alpha/2)^(1/n(tau)): a valid, conservative lower limit
            n_tau = int(np.sum(groups[g] & (dur >= tau)))
            lo = tau * (alpha / 2) ** (1 / n_tau) if n_tau else float("nan")
            hi, se = tau, float("nan")
        add("rmst", g, tau, est, se, lo, hi, n=int(groups[g].sum()),
            n_events=ev_tau[g])  # fmt: skip
    d = rm["treated"][0] - rm["control"][0]
    sd = float(np.sqrt(rm["treated"][1] ** 2 + rm["control"][1] ** 2))
    lo = hi = p = float("nan")
    rmst_used = "none"
    few = min(ev_tau.values())
    if not np.isfinite(d):
        pass
    elif w is not None:  # weighted: no valid permutation of the labels
        if few >= RMST_WALD_MIN_EVENTS or rmst_test == "survrm2":
            lo, hi, p = normal_ci(d, sd, alpha)
            rmst_used = "wald-weighted"
        else:
            sd = float("nan")
            rmst_used = "none-weighted"
    else:
        use = rmst_test
        if use == "auto":
            use = "survrm2" if few >= RMST_WALD_MIN_EVENTS else "permutation"
        if use == "survrm2":
            lo, hi, p = normal_ci(d, sd, alpha)
            rmst_used = "survrm2"
        else:
            pt = rmst_permutation_test(
                dur, ev, trt, tau,
                strata=None if strata is None else df[strata].to_numpy(),
                cluster=None if cluster is None else df[cluster].to_numpy(),
                alpha=alpha, n_permutations=n_permutations, seed=seed,
            )  # fmt: skip
            lo, hi, p = pt["ci_low"], pt["ci_high"], pt["p_value"]
            sd = float("nan")
            rmst_used = "permutation"
    add("rmst_difference", "treated vs control", tau, d, sd, lo, hi, p, n=len(df),
        n_events=float(ev[dur <= tau].sum()))  # fmt: skip
    if rmst_used == "permutation":
        blocks = (f"within {strata} strata" if strata else "across everyone") + (
            f", respecting {cluster} clusters" if cluster else ""
        )
        notes.append(
            f"RMST difference: permutation test ({n_permutations:,} seeded random "
            f"permutations of the group labels {blocks}; seed {seed}), because a group had "
            f"fewer than {RMST_WALD_MIN_EVENTS} exits by tau = {tau:g} "
            f"(participants {int(ev_tau['treated'])}, controls {int(ev_tau['control'])}), "
            "where survRM2's Wald interval is too narrow (a group without exits gets a "
            "standard error of 0). Its interval inverts the test under a constant shift, so "
            "it excludes 0 exactly when p < alpha"
            + (
                "; with no exit by tau in either group there is no interval."
                if not np.isfinite(lo)
                else "."
            )
        )
    elif rmst_used == "wald-weighted":
        notes.append(
            "RMST difference: Wald interval and z-test with the weighted standard errors (the "
            "permutation test does not apply to weighted data)."
        )
    elif rmst_used == "none-weighted":
        notes.append(
            f"RMST difference without an interval or p-value: a group had fewer than "
            f"{RMST_WALD_MIN_EVENTS} exits by tau = {tau:g} "
            f"(participants {int(ev_tau['treated'])}, controls {int(ev_tau['control'])}), so "
            "its weighted standard error is unreliable (0 without exits), and with weights the "
            "permutation test does not apply. See the log-rank and exact tests (unweighted)."
        )
    elif rmst_used == "survrm2":
        notes.append(
            "RMST difference: Wald interval and z-test with survRM2's standard errors "
            f"(each group had at least {RMST_WALD_MIN_EVENTS} exits by tau = {tau:g})."
            if rmst_test == "auto"
            else "RMST difference: Wald interval and z-test with survRM2's standard errors."
        )
    if any(ev_tau[g] == 0 and np.isfinite(rm[g][0]) for g in groups):
        notes.append(
            "A group without exits by tau has RMST = tau; its interval runs from the exact "
            "lower limit tau (alpha/2)^(1/n), n the people followed to tau, up to tau."
        )
    if any(_unfollowed(g, tau) for g in groups):
        notes.append(f"No RMST: tau = {tau:g} is beyond a group's last follow-up time.")
    if robust_w:
        notes.append(
            "With weights, the Kaplan-Meier, RMST and cumulative-incidence standard errors are "
            "robust (infinitesimal jackknife"
            + (f", summed within {cluster}" if cl_w is not None else "")
            + "; R survfit's default for such weights): Greenwood's formula on weighted counts "
            "would treat the weights as people. The log-rank and exact tests are unweighted."
        )
    elif w is not None:
        notes.append(
            "The weights are whole numbers and count as people (Greenwood variances on "
            "weighted counts, as R's survfit); the log-rank and exact tests are unweighted."
        )

    # -- exact tests ------------------------------------------------------------------------
    used_methods = set()
    for h in hz:
        x = _exact_test(dur, ev, trt, h, exact)
        used_methods.add(x["used"])
        add("exact_test", "treated vs control", h, x["estimate"], p=x["p"], n=x["n"],
            n_events=x["events"])  # fmt: skip
    names = {"boschloo": "Boschloo's", "fisher": "Fisher's"}
    used = " / ".join(names[m] for m in sorted(used_methods) if m in names) or "no"
    notes.append(
        f"Exact test ({used} exact test, two-sided) on attrition by each horizon among people "
        "whose status there is known: those with the event by the horizon or followed up to "
        "it; people censored or with a competing exit before it are left out."
    )

    # -- checks and plain-language verdict ---------------------------------------------------
    if cox_fit is not None and ph_check:
        if len(df) > 50_000:
            notes.append("Proportional-hazards check skipped (more than 50,000 rows).")
        else:
            tmp = cox_df.assign(**{c: v for c, v in zip(used_names[1:], X[:, 1:].T, strict=True)})
            ph_p, problem = _ph_check(
                tmp.rename(columns={"_dur": "_t", "_ev": "_e"}),
                "_t",
                "_e",
                used_names,
                strata,
                weights,
                alpha,
            )
            if problem:
                notes.append(f"Proportional-hazards check could not run ({problem}).")
            elif ph_p < alpha:
                notes.append(
                    f"Proportional hazards look violated for the treatment (p = {ph_p:.3g}; "
                    f"{PH_TEST}): the hazard ratio is an average over follow-up; read the "
                    "Kaplan-Meier curves and the RMST difference rather than the HR alone."
                )
            else:
                notes.append(
                    f"No evidence against proportional hazards for the treatment "
                    f"(p = {ph_p:.3g}; {PH_TEST})."
                )
    n_ev = ev_t + ev_c
    if n_ev > 0:
        z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(0.8)
        prop = n_t / (n_t + n_c)
        mde = float(np.exp(-z / np.sqrt(n_ev * prop * (1 - prop))))
        notes.append(
            f"With {n_ev} event(s) ({ev_t} treated, {ev_c} control) and this allocation, the "
            f"comparison has 80% power (two-sided alpha {alpha:g}) only for hazard ratios "
            f"below {mde:.2f} or above {1 / mde:.2f} (Schoenfeld's approximation)."
        )
    else:
        z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(0.8)
        prop = n_t / (n_t + n_c)
        need = int(np.ceil(z**2 / (prop * (1 - prop) * np.log(0.5) ** 2)))
        notes.append(
            f"With no events no comparison has any power yet: even a halved hazard of leaving "
            f"(HR 0.5) needs about {need} exits in total with this allocation for 80% power "
            f"(two-sided alpha {alpha:g}; Schoenfeld's approximation)."
        )
    p_main = hr["p"] if np.isfinite(hr["p"]) else lr.p_value
    if not np.isfinite(p_main) or p_main >= alpha:
        notes.append(
            "Insufficient evidence of a difference in retention between the groups; this is not "
            "proof that the program has no effect."
        )

    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    summary["metric"] = pd.Categorical(summary.metric, categories=METRICS)
    summary = summary.sort_values(["metric"], kind="stable").reset_index(drop=True)
    summary["metric"] = summary.metric.astype(str)
    res = RetentionResult(
        summary,
        notes,
        duration=duration,
        event=event,
        group=group,
        treated=treated,
        covariates=list(covariates or []),
        weights=weights,
        cluster=cluster,
        strata=strata,
        horizons=hz,
        tau=tau,
        alpha=alpha,
        conf_type=conf_type,
        competing=competing,
    )
    res.frame_ = df.drop(columns=["_dur", "_ev"])
    res.km_ = kms
    res.cif_ = pd.concat(cif_frames, ignore_index=True)
    res.cox_ = cox_fit
    res.logrank_ = lr
    return res


# ============================================================================================
# From the pilot to the analysis frame
# ============================================================================================

#: Covariates of the propensity model and balance table.
MATCH_COVARIATES = ("department", "level", "tenure_years", "age_band", "performance_rating")
AGE_BANDS = ((-np.inf, 25, "<25"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"),
             (55, np.inf, "55+"))  # fmt: skip
FRAME_COLUMNS = [
    "employee_id",
    "cohort_id",
    "treated",
    "role",
    "pair_id",
    "index_date",
    "end_date",
    "duration",
    "event",
    "exit_type",
    "competing",
    "tenure_years",
    "level",
    "department",
    "age_band",
    "performance_rating",
    "match_set",
    "cluster_id",
    "weight",
]


def latest_date(pilot: Pilot) -> pd.Timestamp:
    """The default ``as_of`` of the retention analysis: :meth:`Pilot.snapshot_date`, the
    latest date recorded anywhere in the pilot's tables (planned end dates excluded)."""
    return pilot.snapshot_date()


def _age_band(age: pd.Series) -> pd.Series:
    labels = [b[2] for b in AGE_BANDS]
    edges = [AGE_BANDS[0][0]] + [b[1] for b in AGE_BANDS]
    out = pd.cut(age, bins=edges, labels=labels, right=False)
    return out.cat.add_categories("unknown").fillna("unknown")


def _covariates_at_index(pilot: Pilot, rows: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Add hire/termination data and covariates at each row's index date (vectorised)."""
    emp = pilot.employees
    cols = ["employee_id", "hire_date", "termination_date", "termination_type", "department",
            "level"] + [c for c in ("birth_year", "performance_rating") if c in emp.columns]  # fmt: skip
    out = rows.merge(emp[cols], on="employee_id", how="left", validate="many_to_one")
    idx = out.index_date
    out["tenure_years"] = (idx - out.hire_date).dt.days / 365.25
    # grade at the index date: the roster grade minus promotions recorded after the index date
    level = out.level
    if pilot.outcomes is not None and len(pilot.outcomes):
        pr = pilot.outcomes
        pr = pr[(pr.outcome.astype(str) == "promotion") & pr.employee_id.notna()][
            ["employee_id", "date"]
        ]
        pr = pr[pr.date <= as_of]
        m = out[["employee_id", "index_date"]].reset_index().merge(pr, on="employee_id")
        later = m[m.date > m.index_date].groupby("index").size()
        n_later = later.reindex(out.index, fill_value=0).to_numpy()
        codes = np.maximum(level.cat.codes.to_numpy() - n_later, 0)
        level = pd.Categorical.from_codes(codes, dtype=level.dtype)
    out["level"] = pd.Series(level, index=out.index)
    if "birth_year" in out.columns:
        out["age_band"] = _age_band(idx.dt.year - out.birth_year)
    else:
        out["age_band"] = pd.Categorical(["unknown"] * len(out))
    if "performance_rating" not in out.columns:
        out["performance_rating"] = np.nan
    return out


def _outcome(out: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    term = out.termination_date.where(out.termination_date <= as_of)
    stop = term.fillna(as_of)
    if "censor_at" in out.columns:
        stop = stop.where(out.censor_at.isna() | (stop <= out.censor_at), out.censor_at)
    ended = term.notna() & (stop == term)
    ttype = out.termination_type.astype("string")
    out["end_date"] = stop
    out["exit_type"] = np.where(ended, ttype.fillna("other"), "none")
    out["event"] = (out.exit_type == "voluntary").astype(int)
    out["competing"] = out.exit_type.isin(["involuntary", "other"]).astype(int)
    out["duration"] = (stop - out.index_date).dt.days / DAYS_PER_MONTH
    return out


def _exclude(pilot, out, mask, check, detail, notes, population):
    k = int(mask.sum())
    if pilot is not None:
        pilot.log_quality("employees", f"retention ({population})", check, k,
                          "excluded" if k else "none", detail)  # fmt: skip
    if k:
        notes.append(f"{k} person(s) excluded: {detail}.")
    return out[~mask]


def cohort_frame(
    pilot: Pilot,
    *,
    population: str = "mentors",
    as_of: str | pd.Timestamp | None = None,
    cohort: str | Sequence[str] | None = None,
    control: str = "auto",
    ratio: int = 2,
    caliper: float | None = 0.2,
    exact: Sequence[str] = (),
) -> pd.DataFrame:
    """Person-level retention frame (participants and controls) built from a pilot.

    Parameters
    ----------
    pilot
        The validated pilot.
    population
        ``"mentors"`` (the junior mentors, default), ``"mentees"`` or ``"both"``.
    as_of
        Analysis date: follow-up is censored there and exits after it are ignored. Default:
        the latest date recorded in the data (:func:`latest_date`; planned cohort end dates
        are not data).
    cohort
        Cohort id(s) to include (default: all).
    control
        ``"auto"``: the designated control table when present and the population is the
        mentors (a waitlist of mentor applicants), else ``"matched"``; ``"designated"``;
        ``"matched"`` (nearest-neighbour propensity matching, see :mod:`rm_analytics.matching`)
        or ``"ipw"`` (inverse-probability weighted eligible non-participants).
    ratio, caliper, exact
        Matching: controls per participant (default 2), caliper in SDs of the logit of the
        propensity score (default 0.2) and covariates matched exactly (default none;
        ``("department",)`` takes each participant's controls from their own department, which
        balances the departments by construction but leaves fewer candidates for the rest).

    Returns
    -------
    pandas.DataFrame
        One row per person and group (a participant's first cohort; a control's first
        designation), columns: ``employee_id, cohort_id, treated`` (1/0), ``role`` (mentor,
        mentee, control), ``pair_id`` (participants), ``index_date`` (cohort start),
        ``end_date`` (exit, or censoring at ``as_of``), ``duration`` (months = days / 30.4375),
        ``event`` (1 = voluntary exit), ``exit_type`` (voluntary, involuntary, other, none),
        ``competing`` (1 = involuntary or other exit), covariates at the index date
        ``tenure_years, level`` (roster grade minus promotions recorded after the index date),
        ``department, age_band, performance_rating``, ``match_set`` (matched set id when
        matched, else missing), ``cluster_id`` (matched set, or pair for participants when both
        roles are analysed, else the person) and ``weight`` (1, matching or IPW weight).
        ``frame.attrs`` holds ``notes`` (list of str), ``control`` (the control used) and, when
        matched, ``matching`` (the :class:`~rm_analytics.matching.MatchResult`).

    Notes
    -----
    Exclusions are counted in ``pilot.quality`` (stage ``retention (<population>)``): people
    who left on or before the index date, were hired after it, or whose cohort starts after
    ``as_of``. A designated control who later joins the program is censored at that cohort's
    start.
    """
    roles = {"mentors": "mentor", "mentees": "mentee", "both": "both"}
    if population not in roles:
        raise ValueError(f"population must be 'mentors', 'mentees' or 'both', not {population!r}")
    if control not in ("auto", "designated", "matched", "ipw"):
        raise ValueError(
            f"control must be 'auto', 'designated', 'matched' or 'ipw', not {control!r}"
        )
    as_of = latest_date(pilot) if as_of is None else pd.Timestamp(as_of)
    notes: list[str] = [f"Follow-up censored at {as_of.date()} (as_of)."]
    cohorts = pilot.cohorts
    if cohort is not None:
        wanted = [cohort] if isinstance(cohort, str) else list(cohort)
        unknown = sorted(set(wanted) - set(cohorts.cohort_id))
        if unknown:
            raise ValueError(f"unknown cohort id(s): {', '.join(unknown)}")
        cohorts = cohorts[cohorts.cohort_id.isin(wanted)]
    late = cohorts.start_date > as_of
    if late.any():
        notes.append(
            f"Cohort(s) {', '.join(cohorts.cohort_id[late])} start after {as_of.date()} and are "
            "left out."
        )
        cohorts = cohorts[~late]
    if cohorts.empty:
        raise InsufficientDataError(
            f"no cohort had started by the analysis date {as_of.date()}: nothing to analyse"
        )
    cids = cohorts.cohort_id.tolist()
    start = cohorts.set_index("cohort_id").start_date

    part = pilot.participants(roles[population], cohort=cids)
    part = part.sort_values(["cohort_start_date", "pair_start", "pair_id"], kind="stable")
    dup = part.duplicated("employee_id")
    if dup.any():
        pilot.log_quality("pairs", f"retention ({population})", "repeat participation",
                          int(dup.sum()), "ignored",
                          "a person's first cohort/pair is their index")  # fmt: skip
        notes.append(
            f"{int(dup.sum())} repeat participation(s): each person is followed from their "
            "first cohort."
        )
    part = part[~dup]
    treated_rows = pd.DataFrame(
        {
            "employee_id": part.employee_id,
            "cohort_id": part.cohort_id,
            "treated": 1,
            "role": part.role,
            "pair_id": part.pair_id,
            "index_date": part.cohort_start_date,
        }
    )
    kind = control
    if kind == "auto":
        kind = (
            "designated"
            if pilot.control is not None and len(pilot.control) and population == "mentors"
            else "matched"
        )
    if kind == "designated":
        if pilot.control is None or len(pilot.control) == 0:
            raise ValueError("control='designated' but the pilot has no control table")
        notes.append("Control group: the designated control (waitlist) table.")
    else:
        notes.append(
            "Control group: "
            + ("propensity-matched" if kind == "matched" else "inverse-probability weighted")
            + " eligible non-participants (employed at the cohort start, never in a pair, in "
            "the participants' grade range)."
        )
    all_pairs = pilot.participants("both")
    first_part = all_pairs.groupby("employee_id", observed=True).cohort_start_date.min()

    t = _covariates_at_index(pilot, treated_rows.reset_index(drop=True), as_of)
    t = _exclude(pilot, t, t.hire_date > t.index_date, "hired after index date",
                 "hired after their cohort's start date", notes, population)  # fmt: skip
    t = _exclude(pilot, t, t.termination_date <= t.index_date, "left before index date",
                 "participants who left on or before their cohort's start date", notes,
                 population)  # fmt: skip
    matching = None
    if kind == "designated":
        c = pilot.control
        c = c[c.cohort_id.isin(cids)].copy()
        c["index_date"] = c.cohort_id.map(start).to_numpy()
        c = c.sort_values(["index_date", "cohort_id"], kind="stable")
        c = c[~c.employee_id.duplicated()]
        c = _covariates_at_index(
            pilot,
            pd.DataFrame(
                {
                    "employee_id": c.employee_id.to_numpy(),
                    "cohort_id": c.cohort_id.to_numpy(),
                    "treated": 0,
                    "role": "control",
                    "pair_id": pd.array([pd.NA] * len(c), dtype="string"),
                    "index_date": c.index_date.to_numpy(),
                }
            ),
            as_of,
        )
        fp = c.employee_id.map(first_part)
        joined_before = fp.notna() & (fp <= c.index_date)
        c = _exclude(pilot, c, joined_before.to_numpy(), "control already a participant",
                     "controls who were already in the program at the index date", notes,
                     population)  # fmt: skip
        fp = c.employee_id.map(first_part)
        c["censor_at"] = fp.where(fp > c.index_date)
        if c.censor_at.notna().any():
            notes.append(
                f"{int(c.censor_at.notna().sum())} control(s) later joined the program and "
                "are censored at that cohort's start."
            )
        c = _exclude(pilot, c, (c.hire_date > c.index_date).to_numpy(), "control hired after index",
                     "controls hired after the cohort's start date", notes,
                     population)  # fmt: skip
        c = _exclude(pilot, c, (c.termination_date <= c.index_date).to_numpy(),
                     "control left before index date",
                     "controls who left on or before the cohort's start date", notes,
                     population)  # fmt: skip
        frame = pd.concat([t, c], ignore_index=True)
        frame["match_set"] = pd.NA
        frame["weight"] = 1.0
    else:
        from .matching import match_controls

        emp = pilot.employees
        in_pairs = set(all_pairs.employee_id)
        cand = emp.loc[~emp.employee_id.isin(in_pairs), ["employee_id"]]
        pools = []
        for cid in t.cohort_id.unique():
            idx = start[cid]
            pools.append(cand.assign(cohort_id=cid, index_date=idx, treated=0, role="control",
                                     pair_id=pd.Series(pd.NA, index=cand.index, dtype="string")))  # fmt: skip
        pool = pd.concat(pools, ignore_index=True) if pools else cand.iloc[:0]
        pool = _covariates_at_index(pilot, pool, as_of)
        employed = (pool.hire_date <= pool.index_date) & ~(pool.termination_date <= pool.index_date)
        # the participants' grade range per cohort (level codes), mapped onto the pool
        t_codes = pd.Series(t.level.cat.codes.to_numpy(), index=t.index)
        by_cohort = t_codes.groupby(t.cohort_id.to_numpy())
        lo = pool.cohort_id.map(by_cohort.min()).to_numpy()
        hi = pool.cohort_id.map(by_cohort.max()).to_numpy()
        codes = pool.level.cat.codes.to_numpy()
        eligible = employed.to_numpy() & (codes >= lo) & (codes <= hi)
        pool = pool[eligible]
        notes.append(f"{len(pool)} eligible candidate control rows (person x cohort).")
        both = pd.concat([t, pool], ignore_index=True)
        matching = match_controls(
            both,
            treatment="treated",
            covariates=list(MATCH_COVARIATES),
            method="nearest" if kind == "matched" else "ipw",
            ratio=ratio,
            caliper=caliper,
            block="cohort_id" if both.cohort_id.nunique() > 1 else None,
            unit="employee_id",
            exact=exact,
        )
        frame = matching.matched_.drop(columns=["logit_ps", "propensity"])
        if kind == "matched":
            ids = frame.match_set.to_numpy()
            key = frame.loc[frame.treated == 1].set_index("match_set").employee_id
            frame["match_set"] = pd.Series(ids).map(key).astype("string").to_numpy()
        else:
            frame["match_set"] = pd.NA
        frame = frame[frame.treated.eq(1) | frame.weight.gt(0)]
        notes.extend(matching.notes)
    frame = _outcome(frame.reset_index(drop=True), as_of)
    # cluster: matched set; mentor and mentee of a pair share a cluster when both are analysed
    person = frame.employee_id.astype("string")
    if kind == "matched":
        cl = frame.match_set.astype("string")
        if population == "both":
            pair_of = frame.loc[frame.treated == 1].set_index("employee_id").pair_id
            cl = cl.map(pair_of).astype("string").fillna(cl)
    elif population == "both":
        cl = frame.pair_id.astype("string").fillna(person)
    else:
        cl = person
    frame["cluster_id"] = cl.to_numpy()
    frame["treated"] = frame.treated.astype(int)
    for c in ("employee_id", "cohort_id", "pair_id", "match_set", "cluster_id"):
        frame[c] = frame[c].astype("string")
    frame["department"] = frame.department.astype("category")
    frame = frame[FRAME_COLUMNS].sort_values(["cohort_id", "treated", "employee_id"],
                                             ascending=[True, False, True], ignore_index=True)  # fmt: skip
    frame.attrs["notes"] = notes
    frame.attrs["control"] = kind
    frame.attrs["as_of"] = str(as_of.date())
    if matching is not None:
        frame.attrs["matching"] = matching
    return frame


def pilot_retention(
    pilot: Pilot,
    *,
    population: str = "mentors",
    control: str = "auto",
    as_of: str | pd.Timestamp | None = None,
    horizons: Sequence[float] = (6, 12, 24),
    tau: float | None = None,
    cohort: str | Sequence[str] | None = None,
    alpha: float = 0.05,
    ratio: int = 2,
    caliper: float | None = 0.2,
    exact: Sequence[str] = (),
) -> RetentionResult:
    """Retention of a pilot's participants vs control, months from the cohort start.

    Builds :func:`cohort_frame` and runs :func:`compare_retention` with voluntary exit as the
    event, involuntary and other exits as competing events, the cohort as stratum when there
    are several cohorts (stratified Cox and log-rank), the matched set (or pair) as cluster for
    the Cox variance, and IPW weights when ``control="ipw"``. ``tau`` defaults to the largest
    horizon, shortened to survRM2's default when a group is not followed that long.

    Returns
    -------
    RetentionResult
        As :func:`compare_retention`, with ``frame_`` (the analysis frame), ``balance_`` (the
        balance table when matched or weighted, else None), ``matching_`` and ``cif_``.
    """
    frame = cohort_frame(pilot, population=population, as_of=as_of, cohort=cohort,
                         control=control, ratio=ratio, caliper=caliper, exact=exact)  # fmt: skip
    kind = frame.attrs["control"]
    if frame.treated.sum() == 0 or (frame.treated == 0).sum() == 0:
        raise ValueError(
            f"pilot_retention: no {'participants' if frame.treated.sum() == 0 else 'controls'} "
            "left to compare after exclusions"
        )
    hz = [float(h) for h in horizons]
    if tau is None:
        reach = frame.groupby("treated").duration.max().min()
        tau = float(min(max(hz), reach)) if hz else float(reach)
    strata = "cohort_id" if frame.cohort_id.nunique() > 1 else None
    clustered = kind == "matched" or population == "both"
    res = compare_retention(
        frame,
        duration="duration",
        event="event",
        group="treated",
        treated=1,
        weights="weight" if kind == "ipw" else None,
        cluster="cluster_id" if clustered else None,
        strata=strata,
        horizons=hz,
        tau=tau,
        alpha=alpha,
        competing="competing",
    )
    res.notes = frame.attrs["notes"] + res.notes
    res.note(
        "Time is months from the cohort start; the event is a voluntary exit; involuntary and "
        "other exits are competing events (censored in the cause-specific analyses)."
    )
    res.frame_ = frame
    m = frame.attrs.get("matching")
    res.matching_ = m
    res.balance_ = None if m is None else m.summary
    res.arguments.update(population=population, control=kind, as_of=frame.attrs["as_of"])
    res.title = f"Retention of {population}: participants vs {kind} control"
    return res
