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

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InsufficientDataError
from ..results import Note, Result, normalise_role
from ..stats import DEFAULT_SEED
from ..stats.cox import (
    MAX_ABS_LOG_HR,
    CoxFit,
    cox_efron,
)
from ..stats.design import (
    design_matrix,
    independent_columns,
)
from ..stats.intervals import normal_ci
from ..stats.survival import (
    BOSCHLOO_MAX_PER_GROUP,
    N_PERMUTATIONS,
    KMTable,
    aalen_johansen,
    aj_influence,
    cif_at,
    exact_attrition_p,
    km_at,
    km_influence,
    km_table,
    logrank_test,
    mover_difference,
    mover_p,
    rmst_permutation_test,
    rmst_robust,
    rmst_survrm2,
    robust_default,
)

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
    "ci_low",
    "ci_high",
    "p_value",
    "n",
    "se",
    "n_at_risk",
    "n_events",
]
#: A population (``mentor``, ``mentee``, ``both``) in the words of titles and the quality log.
POPULATION_WORDS = {"mentor": "mentors", "mentee": "mentees", "both": "both"}
#: Covariates are adjusted for only with at least this many events per model parameter.
MIN_EVENTS_PER_PARAMETER = 5
#: survRM2's Wald test of the RMST difference is used (``rmst_test="auto"``) only when each
#: group has at least this many exits by tau; below it, the permutation test.
RMST_WALD_MIN_EVENTS = 10

# ============================================================================================
# Result object
# ============================================================================================


class RetentionResult(Result):
    """Retention of a treated group vs a control group (see :func:`compare_retention`).

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per estimate; columns ``metric, group, horizon, estimate, ci_low, ci_high,
        p_value, n, se, n_at_risk, n_events`` (see :func:`compare_retention`).
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

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.pilot_retention(rm.load_sample(), horizons=(12,))
    >>> type(res).__name__, res.title
    ('RetentionResult', 'Retention of mentors: participants vs designated control')
    >>> print(f"{res.row(metric='hazard_ratio').estimate:.2f}")
    0.42
    >>> print(res.frame_[["employee_id", "treated", "duration", "event"]].head(2).round(2)
    ...       .to_string(index=False))
    employee_id  treated  duration  event
        E000656        1     21.22      0
        E000844        1     21.22      0
    >>> print(res.notes[0])
    Follow-up censored at 2026-09-30 (as_of).
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
            lo, hi = mover_difference(tabs["treated"], tabs["control"], horizon, alpha, conf_type)
            if np.isfinite(lo) and np.isfinite(hi):
                p = mover_p(tabs["treated"], tabs["control"], horizon, conf_type, diff)
        out.update(
            difference=diff,
            se_difference=se,
            ci_low=float(lo),
            ci_high=float(hi),
            p_value=float(p),
            p_method="mover inversion",
            ci_method="mover",
        )
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
    seed: int | None = DEFAULT_SEED,
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

    Examples
    --------
    >>> import rm_analytics as rm
    >>> frame = rm.cohort_frame(rm.load_sample())
    >>> res = rm.compare_retention(frame, duration="duration", event="event", group="treated",
    ...                            horizons=[12], competing="competing")
    >>> cols = ["metric", "group", "estimate", "ci_low", "ci_high", "p_value"]
    >>> keep = ["hazard_ratio", "retention", "rmst_difference"]
    >>> print(res.summary.loc[res.summary.metric.isin(keep), cols].round(3).to_string(index=False))
             metric              group  estimate  ci_low  ci_high  p_value
       hazard_ratio treated vs control     0.423   0.091    1.960    0.271
          retention            treated     0.930   0.839    1.000      NaN
          retention            control     0.937   0.871    1.000      NaN
    rmst_difference treated vs control     0.848  -1.361    3.058    0.458

    Without ``tau`` the restricted mean survival time runs to the shorter follow-up of the two
    groups (21.2 months here): the mentors stayed 0.85 months longer on average, with an
    interval that includes no difference.
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
            Note(
                f"{int(miss.sum())} row(s) with a missing {', '.join(needed)} value were left out.",
                "excluded_rows",
            )
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
        raise InsufficientDataError(
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
    robust_w = robust_default(w, None)  # non-integer weights: infinitesimal jackknife
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
            Note(
                f"RMST truncation time tau = {tau:.4g} (survRM2's default: the smaller of the two "
                "groups' largest observed times).",
                "method",
            )
        )
    tau = float(tau)
    hz = [tau] if horizons is None else [float(h) for h in horizons]
    rows: list[dict] = []

    def add(
        metric,
        grp,
        horizon=np.nan,
        estimate=np.nan,
        se=np.nan,
        lo=np.nan,
        hi=np.nan,
        p=np.nan,
        n=np.nan,
        n_at_risk=np.nan,
        n_events=np.nan,
    ):
        rows.append(
            dict(
                metric=metric,
                group=grp,
                horizon=horizon,
                estimate=estimate,
                se=se,
                ci_low=lo,
                ci_high=hi,
                p_value=p,
                n=n,
                n_at_risk=n_at_risk,
                n_events=n_events,
            )
        )

    # -- Cox hazard ratio -------------------------------------------------------------------
    cox_fit = None
    ev_t, ev_c = int(ev[trt == 1].sum()), int(ev[trt == 0].sum())
    hr = dict(estimate=np.nan, se=np.nan, lo=np.nan, hi=np.nan, p=np.nan)
    used_names: list[str] = ["treated"]
    cox_df = df
    if ev_t == 0 and ev_c == 0:
        notes.append(
            Note(
                "No exits at all: nobody in either group had the event during follow-up, so "
                "retention is 100% in both groups and there is nothing to compare yet. The hazard "
                "ratio and the log-rank test are undefined, the exact test and the RMST difference "
                "cannot show a difference; this is no evidence about the program's effect either "
                "way.",
                "no_events",
            )
        )
    elif ev_t == 0 or ev_c == 0:
        who = "treated" if ev_t == 0 else "control"
        notes.append(
            Note(
                f"No hazard ratio: there were no events in the {who} group, so the Cox model has no "
                "finite estimate (its coefficient would run off towards infinity). The log-rank "
                "test, the exact test and the Kaplan-Meier retention are reported instead.",
                "no_events",
            )
        )
    else:
        covs = list(covariates or [])
        Xc = pd.DataFrame(index=df.index)
        if covs:
            cmiss = df[covs].isna().any(axis=1)
            n_params = 1 + design_matrix(df[~cmiss], covs).shape[1]
            if ev_t + ev_c < MIN_EVENTS_PER_PARAMETER * n_params:
                notes.append(
                    Note(
                        f"The hazard ratio is not adjusted for {', '.join(covs)}: {ev_t + ev_c} "
                        f"events are too few for {n_params} model parameters (at least "
                        f"{MIN_EVENTS_PER_PARAMETER} events per parameter are needed)."
                        + (" Matching already balances these covariates." if cluster else ""),
                        "small_sample",
                    )
                )
                covs = []
            else:
                if cmiss.any():
                    notes.append(
                        Note(
                            f"{int(cmiss.sum())} row(s) with missing covariates were left out of "
                            "the Cox model.",
                            "excluded_rows",
                        )
                    )
                cox_df = df[~cmiss]
                Xc = design_matrix(cox_df, covs)
        X = np.column_stack([cox_df["treated"].to_numpy(), Xc.to_numpy(dtype=float)])
        names = ["treated", *Xc.columns]
        keep = independent_columns(X, names)
        if len(keep) < len(names):
            dropped = [names[j] for j in range(len(names)) if j not in keep]
            if 0 not in keep:
                keep = []
            notes.append(
                Note(
                    "Collinear covariate column(s) left out of the Cox model: "
                    + ", ".join(dropped),
                    "method",
                )
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
                    Note(
                        "No hazard ratio: the Cox model did not converge to a finite estimate "
                        f"(log HR {b:.3g}, SE {se:.3g} after {cox_fit.iterations} iterations); "
                        "such a number would be meaningless. See the log-rank and exact tests.",
                        "not_estimable",
                    )
                )
                cox_fit = None
            else:
                bad = [used_names[j] for j in np.flatnonzero(diverged[1:]) + 1]
                if bad:
                    notes.append(
                        Note(
                            f"The Cox coefficient of the adjustment covariate(s) {', '.join(bad)} "
                            "runs off towards infinity (monotone likelihood, e.g. a level without "
                            "exits; R's coxph warns 'coefficient may be infinite'): the hazard "
                            "ratio is adjusted for it, but that covariate's own estimate means "
                            "nothing and the adjustment amounts to setting its exit-free level "
                            "aside.",
                            "not_estimable",
                        )
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
                    Note(
                        f"Hazard ratio from a Cox model (Efron ties{adj}"
                        + (f", stratified by {strata}" if strata else "")
                        + f") with {kind} variance; se is the standard error of log(HR).",
                        "method",
                    )
                )
    add(
        "hazard_ratio",
        "treated vs control",
        estimate=hr["estimate"],
        se=hr["se"],
        lo=hr["lo"],
        hi=hr["hi"],
        p=hr["p"],
        n=len(df),
        n_events=ev_t + ev_c,
    )

    # -- log-rank ---------------------------------------------------------------------------
    lr = logrank_test(dur, ev, trt, None if strata is None else df[strata].to_numpy())
    add(
        "logrank",
        "treated vs control",
        estimate=lr.statistic,
        p=lr.p_value,
        n=len(df),
        n_events=ev_t + ev_c,
    )
    if strata:
        notes.append(Note(f"Log-rank test stratified by {strata}.", "method"))

    # -- KM retention / attrition -----------------------------------------------------------
    for g in ("treated", "control"):
        r = km_at(kms[g], hz, alpha, conf_type)
        for j, h in enumerate(hz):
            common = dict(
                n=int(groups[g].sum()), n_at_risk=r["n_risk"][j], n_events=r["n_event"][j]
            )
            add(
                "retention",
                g,
                h,
                r["surv"][j],
                r["se"][j],
                r["ci_low"][j],
                r["ci_high"][j],
                **common,
            )
            add(
                "attrition",
                g,
                h,
                1 - r["surv"][j],
                r["se"][j],
                1 - r["ci_high"][j],
                1 - r["ci_low"][j],
                **common,
            )

    def _unfollowed(g, h):  # beyond the last follow-up, and not everyone has left
        return h > max_t[g] and bool(kms[g].surv[-1] > 0)

    beyond = [h for h in hz if any(_unfollowed(g, h) for g in groups)]
    if beyond:
        notes.append(
            Note(
                "No Kaplan-Meier estimate beyond a group's last follow-up time "
                f"(horizon(s) {', '.join(f'{h:g}' for h in beyond)}).",
                "not_estimable",
            )
        )
    notes.append(
        Note(
            f"Kaplan-Meier confidence intervals use the {conf_type!r} transform "
            + (
                "(R survfit's default)."
                if conf_type == "log"
                else "(lifelines' default is log-log)."
            ),
            "method",
        )
    )

    # -- cumulative incidence (competing risks) ---------------------------------------------
    cause = np.where(ev == 1, 1, np.where(comp == 1, 2, 0))
    cif_frames = []
    for g, m in groups.items():
        tab = aalen_johansen(dur[m], cause[m], _wc(m)[0], robust=robust_w, cluster=_wc(m)[1])
        r = cif_at(tab, hz, alpha)
        for j, h in enumerate(hz):
            add(
                "cumulative_incidence",
                g,
                h,
                r["cif"][j],
                r["se"][j],
                r["ci_low"][j],
                r["ci_high"][j],
                n=int(m.sum()),
                n_at_risk=r["n_risk"][j],
                n_events=r["n_event"][j],
            )
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
            Note(
                "No competing-exit column given: the cumulative incidence equals 1 - Kaplan-Meier.",
                "method",
            )
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
        add("rmst", g, tau, est, se, lo, hi, n=int(groups[g].sum()), n_events=ev_tau[g])
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
                dur,
                ev,
                trt,
                tau,
                strata=None if strata is None else df[strata].to_numpy(),
                cluster=None if cluster is None else df[cluster].to_numpy(),
                alpha=alpha,
                n_permutations=n_permutations,
                seed=seed,
            )
            lo, hi, p = pt["ci_low"], pt["ci_high"], pt["p_value"]
            sd = float("nan")
            rmst_used = "permutation"
    add(
        "rmst_difference",
        "treated vs control",
        tau,
        d,
        sd,
        lo,
        hi,
        p,
        n=len(df),
        n_events=float(ev[dur <= tau].sum()),
    )
    if rmst_used == "permutation":
        blocks = (f"within {strata} strata" if strata else "across everyone") + (
            f", respecting {cluster} clusters" if cluster else ""
        )
        notes.append(
            Note(
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
                ),
                "method",
            )
        )
    elif rmst_used == "wald-weighted":
        notes.append(
            Note(
                "RMST difference: Wald interval and z-test with the weighted standard errors (the "
                "permutation test does not apply to weighted data).",
                "method",
            )
        )
    elif rmst_used == "none-weighted":
        notes.append(
            Note(
                f"RMST difference without an interval or p-value: a group had fewer than "
                f"{RMST_WALD_MIN_EVENTS} exits by tau = {tau:g} "
                f"(participants {int(ev_tau['treated'])}, controls {int(ev_tau['control'])}), so "
                "its weighted standard error is unreliable (0 without exits), and with weights the "
                "permutation test does not apply. See the log-rank and exact tests (unweighted).",
                "not_estimable",
            )
        )
    elif rmst_used == "survrm2":
        notes.append(
            Note(
                "RMST difference: Wald interval and z-test with survRM2's standard errors "
                f"(each group had at least {RMST_WALD_MIN_EVENTS} exits by tau = {tau:g})."
                if rmst_test == "auto"
                else "RMST difference: Wald interval and z-test with survRM2's standard errors.",
                "method",
            )
        )
    if any(ev_tau[g] == 0 and np.isfinite(rm[g][0]) for g in groups):
        notes.append(
            Note(
                "A group without exits by tau has RMST = tau; its interval runs from the exact "
                "lower limit tau (alpha/2)^(1/n), n the people followed to tau, up to tau.",
                "no_events",
            )
        )
    if any(_unfollowed(g, tau) for g in groups):
        notes.append(
            Note(
                f"No RMST: tau = {tau:g} is beyond a group's last follow-up time.", "not_estimable"
            )
        )
    if robust_w:
        notes.append(
            Note(
                "With weights, the Kaplan-Meier, RMST and cumulative-incidence standard errors are "
                "robust (infinitesimal jackknife"
                + (f", summed within {cluster}" if cl_w is not None else "")
                + "; R survfit's default for such weights): Greenwood's formula on weighted counts "
                "would treat the weights as people. The log-rank and exact tests are unweighted.",
                "method",
            )
        )
    elif w is not None:
        notes.append(
            Note(
                "The weights are whole numbers and count as people (Greenwood variances on "
                "weighted counts, as R's survfit); the log-rank and exact tests are unweighted.",
                "method",
            )
        )

    # -- exact tests ------------------------------------------------------------------------
    used_methods = set()
    for h in hz:
        x = _exact_test(dur, ev, trt, h, exact)
        used_methods.add(x["used"])
        add(
            "exact_test",
            "treated vs control",
            h,
            x["estimate"],
            p=x["p"],
            n=x["n"],
            n_events=x["events"],
        )
    names = {"boschloo": "Boschloo's", "fisher": "Fisher's"}
    used = " / ".join(names[m] for m in sorted(used_methods) if m in names) or "no"
    notes.append(
        Note(
            f"Exact test ({used} exact test, two-sided) on attrition by each horizon among people "
            "whose status there is known: those with the event by the horizon or followed up to "
            "it; people censored or with a competing exit before it are left out.",
            "method",
        )
    )

    # -- checks and plain-language verdict ---------------------------------------------------
    if cox_fit is not None and ph_check:
        if len(df) > 50_000:
            notes.append(
                Note("Proportional-hazards check skipped (more than 50,000 rows).", "info")
            )
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
                notes.append(
                    Note(f"Proportional-hazards check could not run ({problem}).", "not_estimable")
                )
            elif ph_p < alpha:
                notes.append(
                    Note(
                        f"Proportional hazards look violated for the treatment (p = {ph_p:.3g}; "
                        f"{PH_TEST}): the hazard ratio is an average over follow-up; read the "
                        "Kaplan-Meier curves and the RMST difference rather than the HR alone.",
                        "assumption",
                    )
                )
            else:
                notes.append(
                    Note(
                        f"No evidence against proportional hazards for the treatment "
                        f"(p = {ph_p:.3g}; {PH_TEST}).",
                        "assumption",
                    )
                )
    n_ev = ev_t + ev_c
    if n_ev > 0:
        z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(0.8)
        prop = n_t / (n_t + n_c)
        mde = float(np.exp(-z / np.sqrt(n_ev * prop * (1 - prop))))
        notes.append(
            Note(
                f"With {n_ev} event(s) ({ev_t} treated, {ev_c} control) and this allocation, the "
                f"comparison has 80% power (two-sided alpha {alpha:g}) only for hazard ratios "
                f"below {mde:.2f} or above {1 / mde:.2f} (Schoenfeld's approximation).",
                "small_sample",
            )
        )
    else:
        z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(0.8)
        prop = n_t / (n_t + n_c)
        need = int(np.ceil(z**2 / (prop * (1 - prop) * np.log(0.5) ** 2)))
        notes.append(
            Note(
                f"With no events no comparison has any power yet: even a halved hazard of leaving "
                f"(HR 0.5) needs about {need} exits in total with this allocation for 80% power "
                f"(two-sided alpha {alpha:g}; Schoenfeld's approximation).",
                "no_events",
            )
        )
    p_main = hr["p"] if np.isfinite(hr["p"]) else lr.p_value
    if not np.isfinite(p_main) or p_main >= alpha:
        notes.append(
            Note(
                "Insufficient evidence of a difference in retention between the groups; this is not "
                "proof that the program has no effect.",
                "info",
            )
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
        rmst_test=rmst_test,
        n_permutations=n_permutations,
        seed=seed,
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
AGE_BANDS = (
    (-np.inf, 25, "<25"),
    (25, 35, "25-34"),
    (35, 45, "35-44"),
    (45, 55, "45-54"),
    (55, np.inf, "55+"),
)
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


def _age_band(age: pd.Series) -> pd.Series:
    labels = [b[2] for b in AGE_BANDS]
    edges = [AGE_BANDS[0][0]] + [b[1] for b in AGE_BANDS]
    out = pd.cut(age, bins=edges, labels=labels, right=False)
    return out.cat.add_categories("unknown").fillna("unknown")


def _covariates_at_index(pilot: Pilot, rows: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Add hire/termination data and covariates at each row's index date (vectorised)."""
    emp = pilot.employees
    cols = [
        "employee_id",
        "hire_date",
        "termination_date",
        "termination_type",
        "department",
        "level",
    ] + [c for c in ("birth_year", "performance_rating") if c in emp.columns]
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
        pilot.log_quality(
            "employees",
            f"retention ({POPULATION_WORDS[population]})",
            check,
            k,
            "excluded" if k else "none",
            detail,
        )
    if k:
        notes.append(Note(f"{k} person(s) excluded: {detail}.", "excluded_rows"))
    return out[~mask]


def cohort_frame(
    pilot: Pilot,
    *,
    population: str = "mentor",
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
        ``"mentor"`` (the junior mentors, default), ``"mentee"`` or ``"both"`` (the plural
        spellings of version 0.1 still work, with a DeprecationWarning).
    as_of
        Analysis date: follow-up is censored there and exits after it are ignored. Default:
        the latest date recorded in the data (:meth:`Pilot.analysis_date
        <rm_analytics.Pilot.analysis_date>`; planned cohort end dates are not data).
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

    Examples
    --------
    >>> import rm_analytics as rm
    >>> frame = rm.cohort_frame(rm.load_sample())
    >>> cols = ["employee_id", "cohort_id", "treated", "duration", "event", "exit_type"]
    >>> print(frame[cols].head(3).round(3).to_string(index=False))
    employee_id cohort_id  treated  duration  event exit_type
        E000656       C01        1    21.224      0      none
        E000844       C01        1    21.224      0      none
        E000874       C01        1    21.224      0      none
    >>> frame.groupby("treated").size()
    treated
    0    72
    1    36
    dtype: int64

    One row per person: the 36 mentors and the 72 people of the designated waitlist control,
    followed in months from their cohort's start.
    """
    population = normalise_role(population, argument="population")
    who = POPULATION_WORDS[population]
    if control not in ("auto", "designated", "matched", "ipw"):
        raise ValueError(
            f"control must be 'auto', 'designated', 'matched' or 'ipw', not {control!r}"
        )
    as_of = pilot.analysis_date(as_of)
    notes: list[str] = [Note(f"Follow-up censored at {as_of.date()} (as_of).", "method")]
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
            Note(
                f"Cohort(s) {', '.join(cohorts.cohort_id[late])} start after {as_of.date()} "
                "and are left out.",
                "excluded_rows",
            )
        )
        cohorts = cohorts[~late]
    if cohorts.empty:
        raise InsufficientDataError(
            f"no cohort had started by the analysis date {as_of.date()}: nothing to analyse"
        )
    cids = cohorts.cohort_id.tolist()
    start = cohorts.set_index("cohort_id").start_date

    part = pilot.participants(population, cohort=cids)
    part = part.sort_values(["cohort_start_date", "pair_start", "pair_id"], kind="stable")
    dup = part.duplicated("employee_id")
    if dup.any():
        pilot.log_quality(
            "pairs",
            f"retention ({who})",
            "repeat participation",
            int(dup.sum()),
            "ignored",
            "a person's first cohort/pair is their index",
        )
        notes.append(
            Note(
                f"{int(dup.sum())} repeat participation(s): each person is followed from their "
                "first cohort.",
                "excluded_rows",
            )
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
            if pilot.control is not None and len(pilot.control) and population == "mentor"
            else "matched"
        )
    if kind == "designated":
        if pilot.control is None or len(pilot.control) == 0:
            raise InsufficientDataError("control='designated' but the pilot has no control table")
        notes.append(Note("Control group: the designated control (waitlist) table.", "method"))
    else:
        notes.append(
            Note(
                "Control group: "
                + ("propensity-matched" if kind == "matched" else "inverse-probability weighted")
                + " eligible non-participants (employed at the cohort start, never in a pair, in "
                "the participants' grade range).",
                "method",
            )
        )
    all_pairs = pilot.participants("both")
    first_part = all_pairs.groupby("employee_id", observed=True).cohort_start_date.min()

    t = _covariates_at_index(pilot, treated_rows.reset_index(drop=True), as_of)
    t = _exclude(
        pilot,
        t,
        t.hire_date > t.index_date,
        "hired after index date",
        "hired after their cohort's start date",
        notes,
        population,
    )
    t = _exclude(
        pilot,
        t,
        t.termination_date <= t.index_date,
        "left before index date",
        "participants who left on or before their cohort's start date",
        notes,
        population,
    )
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
        c = _exclude(
            pilot,
            c,
            joined_before.to_numpy(),
            "control already a participant",
            "controls who were already in the program at the index date",
            notes,
            population,
        )
        fp = c.employee_id.map(first_part)
        c["censor_at"] = fp.where(fp > c.index_date)
        if c.censor_at.notna().any():
            notes.append(
                Note(
                    f"{int(c.censor_at.notna().sum())} control(s) later joined the program and "
                    "are censored at that cohort's start.",
                    "method",
                )
            )
        c = _exclude(
            pilot,
            c,
            (c.hire_date > c.index_date).to_numpy(),
            "control hired after index",
            "controls hired after the cohort's start date",
            notes,
            population,
        )
        c = _exclude(
            pilot,
            c,
            (c.termination_date <= c.index_date).to_numpy(),
            "control left before index date",
            "controls who left on or before the cohort's start date",
            notes,
            population,
        )
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
            pools.append(
                cand.assign(
                    cohort_id=cid,
                    index_date=idx,
                    treated=0,
                    role="control",
                    pair_id=pd.Series(pd.NA, index=cand.index, dtype="string"),
                )
            )
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
        notes.append(
            Note(f"{len(pool)} eligible candidate control rows (person x cohort).", "method")
        )
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
    frame = frame[FRAME_COLUMNS].sort_values(
        ["cohort_id", "treated", "employee_id"], ascending=[True, False, True], ignore_index=True
    )
    frame.attrs["notes"] = notes
    frame.attrs["control"] = kind
    frame.attrs["as_of"] = str(as_of.date())
    if matching is not None:
        frame.attrs["matching"] = matching
    return frame


def pilot_retention(
    pilot: Pilot,
    *,
    population: str = "mentor",
    control: str = "auto",
    as_of: str | pd.Timestamp | None = None,
    horizons: Sequence[float] = (6, 12, 24),
    tau: float | None = None,
    cohort: str | Sequence[str] | None = None,
    alpha: float = 0.05,
    ratio: int = 2,
    caliper: float | None = 0.2,
    exact: Sequence[str] = (),
    n_permutations: int = N_PERMUTATIONS,
    seed: int | None = DEFAULT_SEED,
) -> RetentionResult:
    """Retention of a pilot's participants vs control, months from the cohort start.

    Builds :func:`cohort_frame` and runs :func:`compare_retention` with voluntary exit as the
    event, involuntary and other exits as competing events, the cohort as stratum when there
    are several cohorts (stratified Cox and log-rank), the matched set (or pair) as cluster for
    the Cox variance, and IPW weights when ``control="ipw"``. ``tau`` defaults to the largest
    horizon, shortened to survRM2's default when a group is not followed that long.
    ``population`` is ``"mentor"`` (default), ``"mentee"`` or ``"both"``; ``n_permutations``
    and ``seed`` are those of the RMST permutation test (see :func:`compare_retention`).

    Returns
    -------
    RetentionResult
        As :func:`compare_retention`, with ``frame_`` (the analysis frame), ``balance_`` (the
        balance table when matched or weighted, else None), ``matching_`` and ``cif_``.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> pilot = rm.load_sample()
    >>> res = rm.pilot_retention(pilot, horizons=(12,))
    >>> cols = ["metric", "group", "estimate", "ci_low", "ci_high", "p_value", "n"]
    >>> print(res.summary[cols].head(6).round(3).to_string(index=False))
          metric              group  estimate  ci_low  ci_high  p_value   n
    hazard_ratio treated vs control     0.422   0.091    1.956    0.270 108
         logrank treated vs control     1.293     NaN      NaN    0.256 108
       retention            treated     0.930   0.839    1.000      NaN  36
       retention            control     0.937   0.871    1.000      NaN  72
       attrition            treated     0.070   0.000    0.161      NaN  36
       attrition            control     0.063   0.000    0.129      NaN  72

    The mentors' hazard of leaving was less than half the waitlist control's (hazard ratio
    0.42), but with 11 exits the interval runs from 0.09 to 1.96: the sample cannot tell a
    benefit from none, and by month 12 about 7% of both groups had left.
    """
    population = normalise_role(population, argument="population")
    frame = cohort_frame(
        pilot,
        population=population,
        as_of=as_of,
        cohort=cohort,
        control=control,
        ratio=ratio,
        caliper=caliper,
        exact=exact,
    )
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
        n_permutations=n_permutations,
        seed=seed,
    )
    res.notes = [Note(n) for n in frame.attrs["notes"]] + res.notes
    res.note(
        "Time is months from the cohort start; the event is a voluntary exit; involuntary and "
        "other exits are competing events (censored in the cause-specific analyses).",
        "method",
    )
    res.frame_ = frame
    m = frame.attrs.get("matching")
    res.matching_ = m
    res.balance_ = None if m is None else m.summary
    res.arguments.update(population=population, control=kind, as_of=frame.attrs["as_of"])
    res.title = f"Retention of {POPULATION_WORDS[population]}: participants vs {kind} control"
    return res
