"""Retention of participants vs a control group: survival analysis a statistician would sign.

The headline question of a reverse-mentoring pilot is whether it kept the junior talent. This
module answers it with the estimates a careful reviewer expects, each with its uncertainty:

* :func:`compare_retention` - the generic engine on any person-level DataFrame: Cox hazard
  ratio (Efron ties; robust variance with weights or clusters), log-rank test, Kaplan-Meier
  retention at horizons (Greenwood CIs; the exact lower limit where a group has had no exit
  yet, see :func:`km_at`), restricted mean survival time (RMST) per group and its
  difference (survRM2's variance), an exact test on attrition by each horizon, cumulative
  incidence of the event with competing exits (Aalen-Johansen), a proportional-hazards check and
  plain-language notes (no hazard ratio when it cannot be estimated).
* :func:`cohort_frame` - the person-level analysis frame built from a :class:`~rm_analytics.Pilot`:
  index date = cohort start, months to voluntary exit, other exits competing, censoring at
  ``as_of``, covariates at the index date, a designated or matched control group.
* :func:`pilot_retention` - both in one call, pooled across cohorts (stratified by cohort).

The numerical kernels (:func:`km_table`, :func:`rmst_survrm2`, :func:`logrank_test`,
:func:`cox_efron`, :func:`aalen_johansen`) are numpy only, vectorised, and reproduce R's
``survival`` and ``survRM2`` (see ``tests/test_retention_reference.py``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InsufficientDataError
from ..results import Result
from ..stats.intervals import normal_ci

if TYPE_CHECKING:  # pragma: no cover
    from ..data.pilot import Pilot

__all__ = [
    "RetentionResult",
    "aalen_johansen",
    "cohort_frame",
    "compare_retention",
    "cox_efron",
    "km_table",
    "logrank_test",
    "pilot_retention",
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
    #: cumulative Greenwood sum  sum d / (n (n - d)); Var(log S) = this
    greenwood: np.ndarray
    n: float


def km_table(time, event, weights=None) -> KMTable:
    """Kaplan-Meier estimator with the Greenwood variance sum.

    With ``weights`` the counts are weighted (risk sets and events); the Greenwood sum then uses
    weighted counts, an approximation (the robust variance of weighted KM is not computed).
    Steps where everyone at risk has the event contribute 0 to the Greenwood sum (S = 0 there).
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
    return KMTable(ut, n_risk, d, n_at - d, surv, np.cumsum(gw), float(w.sum()))


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
    z = stats.norm.ppf(1 - alpha / 2)
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

    The number at risk at ``h`` counts people with time >= h (R's ``summary.survfit``);
    times beyond the last observation give NaN estimates.

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
    beyond = at > last
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


def aalen_johansen(time, cause, weights=None) -> CIFTable:
    """Cumulative incidence of cause 1 with competing causes (Aalen-Johansen), deterministic.

    ``cause``: 0 censored, 1 event of interest, any other positive value a competing event.
    Ties between causes at the same time are handled exactly (all events at t leave the risk
    set at t; no jitter). ``F1(t) = sum_{t_j <= t} S(t_{j-1}) d1_j / n_j`` with S the all-cause
    Kaplan-Meier. Variance: the delta-method (Greenwood-type) estimator of Marubini and
    Valsecchi (1995), which reduces to Greenwood's formula for 1 - S when there are no
    competing events.
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
    return CIFTable(ut, n, d1, d2, F, var, float(w.sum()))


def cif_at(tab: CIFTable, at, alpha: float = 0.05) -> dict:
    """Cumulative incidence, SE and CI at times ``at``.

    CI on the log(-log F) scale (as cmprsk-based tools such as tidycmprsk report):
    ``exp(-exp(log(-log F) -+ z se / (F |log F|)))``; undefined (NaN) where F is 0 or 1.
    Times beyond the last observation give NaN.
    """
    at = np.atleast_1d(np.asarray(at, dtype=float))
    i = _step_index(tab.time, at)
    last = tab.time[-1] if tab.time.size else -np.inf
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
            the two independent KM estimates, combined as sqrt(se_t^2 + se_c^2)), ``ci_low``,
            ``ci_high`` (level 1 - alpha), ``p_value`` (two-sided, H0: no difference) and
            ``p_method``, ``ci_method``, ``n_treated``, ``n_control``. NaN where the horizon is
            beyond a group's follow-up.

        The interval is Wald's (``ci_method="wald"``) unless a group has no exit by the
        horizon: its Greenwood SE is then 0 and Wald would ignore that group's uncertainty, so
        the group intervals of :func:`km_at` (the exact lower limit for the group without
        exits) are combined by Newcombe's square-and-add method (MOVER; ``"mover"``; Newcombe,
        Stat Med 1998, method 10; Zou and Donner 2008). The p-value is the z-test's with Wald
        (``p_method="z-test"``); with MOVER, where a z-test has no valid standard error, it is
        the result's exact test on attrition by that horizon (``"exact test"``: Boschloo or
        Fisher, see the notes; NaN when the horizon is not one of the result's horizons).
        """
        alpha = self.arguments.get("alpha", 0.05)
        out: dict = {}
        r, ses, no_exit = {}, {}, False
        for g in ("treated", "control"):
            tab = self.km_.get(g)
            if tab is None or tab.time.size == 0:
                out[g], ses[g], out[f"n_{g}"] = float("nan"), float("nan"), 0
                continue
            r[g] = km_at(tab, [horizon], alpha)
            out[g] = float(1 - r[g]["surv"][0])
            ses[g] = float(r[g]["se"][0])
            no_exit |= bool(r[g]["n_event"][0] == 0 and r[g]["surv"][0] == 1)
            out[f"n_{g}"] = int(round(tab.n))
        diff = out["control"] - out["treated"]
        se = float(np.sqrt(ses["treated"] ** 2 + ses["control"] ** 2))
        method = "mover" if no_exit else "wald"
        p_method = "z-test" if method == "wald" else "exact test"
        if not np.isfinite(diff):
            lo = hi = p = np.nan
        elif no_exit:  # retention difference S_t - S_c = diff; square-and-add (MOVER)
            s_t, l_t, u_t = (float(r["treated"][k][0]) for k in ("surv", "ci_low", "ci_high"))
            s_c, l_c, u_c = (float(r["control"][k][0]) for k in ("surv", "ci_low", "ci_high"))
            lo = diff - float(np.hypot(s_t - l_t, u_c - s_c))
            hi = diff + float(np.hypot(u_t - s_t, s_c - l_c))
            p = _exact_p(getattr(self, "summary", None), horizon)
        else:
            lo, hi, p = normal_ci(diff, se, alpha)
        out.update(difference=diff, se_difference=se, ci_low=float(lo), ci_high=float(hi),
                   p_value=float(p), p_method=p_method, ci_method=method)  # fmt: skip
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


def _exact_p(summary: pd.DataFrame | None, horizon: float) -> float:
    """p-value of the summary's exact test at ``horizon`` (NaN when there is none)."""
    if summary is None or summary.empty:
        return float("nan")
    s = summary
    row = s[(s.metric == "exact_test") & np.isclose(s.horizon.astype(float), horizon)]
    return float(row.p_value.iloc[0]) if len(row) else float("nan")


def _exact_test(dur, ev, treated, horizon, method="auto"):
    """Exact test of attrition by ``horizon`` among people whose status there is known."""
    left = (ev == 1) & (dur <= horizon)
    known = left | (dur >= horizon)
    t, c = known & (treated == 1), known & (treated == 0)
    a, b = int((left & t).sum()), int(t.sum() - (left & t).sum())
    cc, d = int((left & c).sum()), int(c.sum() - (left & c).sum())
    n_t, n_c = a + b, cc + d
    if n_t == 0 or n_c == 0:
        return dict(estimate=np.nan, p=np.nan, n=n_t + n_c, events=a + cc, used="none")
    table = np.array([[a, b], [cc, d]])
    use = method
    if method == "auto":
        use = "boschloo" if max(n_t, n_c) <= BOSCHLOO_MAX_PER_GROUP else "fisher"
    if a + cc == 0 or b + d == 0:
        p = 1.0
    elif use == "boschloo":
        p = float(stats.boschloo_exact(table, alternative="two-sided").pvalue)
    else:
        p = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
    return dict(estimate=a / n_t - cc / n_c, p=min(p, 1.0), n=n_t + n_c, events=a + cc, used=use)


def _ph_check(df, duration, event, names, strata, weights, alpha) -> tuple[float, str | None]:
    """Grambsch-Therneau test of proportional hazards for the treatment (lifelines,
    time transform "km"). Returns (p-value, problem)."""
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
        and the Kaplan-Meier, RMST and cumulative-incidence estimates (weighted counts;
        their Greenwood-type variances then are approximate, a note says so). The log-rank and
        exact tests ignore weights.
    cluster
        Cluster identifier (e.g. matched set or pair): Cox variance is the clustered sandwich.
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
          probability; delta-method SE of the cumulative incidence; survRM2's SE for RMST;
          NaN for tests;
        - ``ci_low``, ``ci_high``: 1 - alpha interval - exp(log HR +- z se); KM CI with the
          ``conf_type`` transform (attrition: the retention interval flipped); cumulative
          incidence on the log(-log) scale; RMST Wald;
        - ``p_value``: Wald (HR), chi-square (log-rank), z-test (RMST difference), exact test
          (Boschloo's or Fisher's, two-sided);
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
    kms = {g: km_table(dur[m], ev[m], None if w is None else w[m]) for g, m in groups.items()}
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
    if ev_t == 0 or ev_c == 0:
        who = "treated" if ev_t == 0 else "control"
        if ev_t == 0 and ev_c == 0:
            who = "either"
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
            if not cox_fit.converged or not np.isfinite(se) or abs(b) > MAX_ABS_LOG_HR:
                notes.append(
                    "No hazard ratio: the Cox model did not converge to a finite estimate "
                    f"(log HR {b:.3g}, SE {se:.3g} after {cox_fit.iterations} iterations); "
                    "such a number would be meaningless. See the log-rank and exact tests."
                )
                cox_fit = None
            else:
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
    beyond = [h for h in hz if any(h > max_t[g] for g in groups)]
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
        tab = aalen_johansen(dur[m], cause[m], None if w is None else w[m])
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
    rm = {}
    for g in ("treated", "control"):
        est, se = rmst_survrm2(kms[g], tau)
        if tau > max_t[g]:
            est, se = float("nan"), float("nan")
        rm[g] = (est, se)
        lo, hi, _ = normal_ci(est, se, alpha) if np.isfinite(est) else (np.nan,) * 3
        if np.isfinite(est) and se == 0:
            lo = hi = est
        add("rmst", g, tau, est, se, lo, hi, n=int(groups[g].sum()),
            n_events=float(ev[groups[g] & (dur <= tau)].sum()))  # fmt: skip
    d = rm["treated"][0] - rm["control"][0]
    sd = float(np.sqrt(rm["treated"][1] ** 2 + rm["control"][1] ** 2))
    lo, hi, p = normal_ci(d, sd, alpha) if np.isfinite(d) else (np.nan,) * 3
    add("rmst_difference", "treated vs control", tau, d, sd, lo, hi, p, n=len(df),
        n_events=float(ev[dur <= tau].sum()))  # fmt: skip
    if any(tau > max_t[g] for g in groups):
        notes.append(f"No RMST: tau = {tau:g} is beyond a group's last follow-up time.")
    if w is not None:
        notes.append(
            "With weights, Kaplan-Meier, RMST and cumulative-incidence standard errors use "
            "weighted counts (approximate); the log-rank and exact tests are unweighted."
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
                    f"Proportional hazards look violated for the treatment (Grambsch-Therneau "
                    f"p = {ph_p:.3g}): the hazard ratio is an average over follow-up; read the "
                    "Kaplan-Meier curves and the RMST difference rather than the HR alone."
                )
            else:
                notes.append(
                    f"No evidence against proportional hazards for the treatment "
                    f"(Grambsch-Therneau test, KM time transform, p = {ph_p:.3g})."
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
        raise InsufficientDataError("no cohort starts on or before as_of: nothing to analyse")
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
            raise InsufficientDataError("control='designated' but the pilot has no control table")
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
        raise InsufficientDataError(
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
