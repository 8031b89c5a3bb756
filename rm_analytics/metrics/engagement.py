"""Engagement delta: difference-in-differences, the engagement index, event studies.

``difference_in_differences`` works on any DataFrame; ``engagement_index`` turns long survey
answers into one index per respondent and wave; ``pilot_engagement`` runs the participants-vs-
control comparison of a :class:`~rm_analytics.Pilot` per role, for the engagement index and the
retention-intent item, with an event-study pre-trend check.

Least-squares engine
--------------------
Least squares with absorbed fixed effects and classical, robust or cluster-robust inference.

A small numpy engine shared by the engagement (difference-in-differences, event study) and
skills modules. It exists so that the variance conventions are explicit and identical
everywhere:

* ``classical``: ``s^2 (X'X)^-1`` with ``s^2 = RSS / (N - K - G_a)``, ``G_a`` absorbed groups;
  inference with t(N - K - G_a).
* ``hc1``: White's sandwich times ``N / (N - K - G_a)``; t(N - K - G_a).
* ``cr2`` (the default with clusters): the bias-reduced linearisation CR2 of Bell and
  McCaffrey (2002), the sandwich with each cluster's residuals multiplied by
  ``A_g = (I - H_gg)^(-1/2)`` (symmetric pseudo-inverse square root, ``H_gg`` the cluster's block
  of the hat matrix of the full model, absorbed unit effects included), with inference on
  each coefficient from a t distribution with Satterthwaite degrees of freedom (Bell-McCaffrey;
  Pustejovsky & Tipton 2018), and joint tests by their HTZ approximation: R's
  ``clubSandwich::coef_test(..., vcov = "CR2", test = "Satterthwaite")`` and
  ``Wald_test(..., test = "HTZ")``. The degrees of freedom shrink when few clusters carry the
  treatment, which is what keeps the tests valid with a few treated clusters, where CR1 with
  t(G - 1) and even the wild bootstrap over-reject (MacKinnon & Webb 2017).
* ``cluster``: CR1, the sandwich with cluster sums of scores times
  ``G / (G - 1) * (N - 1) / (N - K)`` (Stata's ``regress, vce(cluster)`` and
  ``xtreg, fe vce(cluster)``; ``K`` counts the slope coefficients plus the intercept, absorbed
  fixed effects nested in clusters are not counted); inference with t(G - 1) or a wild cluster
  bootstrap.

With fewer than :data:`MIN_CLUSTERS_PER_ARM` clusters holding treated observations, or holding
control observations, no cluster-robust method has a variance to estimate for the treatment
(with one treated cluster, its residuals carry no information on the treatment effect's
variance: CR1's score for it is 0 by the normal equations and CR2's adjustment is singular),
so the treatment terms get an estimate but no standard error, interval or p-value, and a note.

The wild cluster bootstrap is the unrestricted bootstrap-t (WCU, MacKinnon & Webb 2017):
``y* = X b + w_g u``, with Rademacher or Webb six-point weights drawn per cluster; the p-value is
the share of ``|t*| >= |t|`` and the interval is ``b -/+ q * se`` with ``q`` the ``1 - alpha``
quantile of ``|t*|`` (symmetric percentile-t). It is vectorised over clusters and draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InsufficientDataError
from ..results import Note, Result, normalise_role, tidy
from ..stats import DEFAULT_SEED
from ..stats.ols import (
    fit_ols,
)
from ._inputs import as_frame, deprecated_min_cell_size, need_columns

# ---------------------------------------------------------------------------------------------
# difference-in-differences
# ---------------------------------------------------------------------------------------------


class DiDResult(Result):
    """A difference-in-differences estimate.

    Attributes
    ----------
    summary : DataFrame
        One row: ``metric`` (``difference_in_differences``: the coefficient of
        treated x post), ``estimate, ci_low, ci_high, p_value, n``, ``se``, ``n_units``,
        ``n_clusters``, ``df``, ``n_treated_clusters``, ``method``.
    cells_ : DataFrame
        Mean outcome per group and period: ``group`` (treated/control), ``period`` (pre/post),
        ``mean``, ``sd``, ``n``.
    coefs_ : DataFrame
        Every coefficient of the regression (term, estimate, se, ci_low, ci_high, p_value).
    """

    title = "Difference-in-differences"

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        c = self.cells_.set_index(["group", "period"])["mean"]
        x = [0, 1]
        for grp, style in (("control", "o-"), ("treated", "s-")):
            ax.plot(
                x, [c.get((grp, "pre"), np.nan), c.get((grp, "post"), np.nan)], style, label=grp
            )
        cf = c.get(("treated", "pre"), np.nan) + (
            c.get(("control", "post"), np.nan) - c.get(("control", "pre"), np.nan)
        )
        ax.plot(
            x,
            [c.get(("treated", "pre"), np.nan), cf],
            "s--",
            color="grey",
            label="treated without the program (parallel trends)",
        )
        ax.set_xticks(x, ["before", "after"])
        ax.set_ylabel(self.arguments.get("outcome", "outcome"))
        est = self.summary["estimate"].iloc[0] if len(self.summary) else np.nan
        ax.set_title(f"Difference-in-differences: {est:+.3g}")
        ax.legend(fontsize="small")
        return ax


def _design_covariates(df: pd.DataFrame, covariates) -> tuple[np.ndarray, list[str]]:
    """Numeric matrix of covariates; categoricals and text become dummies (first level dropped)."""
    if not covariates:
        return np.empty((len(df), 0)), []
    cols = list(covariates)
    if all(
        pd.api.types.is_bool_dtype(df[c]) or pd.api.types.is_numeric_dtype(df[c]) for c in cols
    ):  # one conversion for all (e.g. the stacked cohorts' period dummies)
        return df[cols].to_numpy(dtype=float), [str(c) for c in cols]
    parts, names = [], []
    for c in covariates:
        s = df[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            parts.append(s.astype(float).to_numpy()[:, None])
            names.append(str(c))
        else:
            d = pd.get_dummies(s.astype("category"), prefix=str(c), drop_first=True, dtype=float)
            if d.shape[1]:
                parts.append(d.to_numpy())
                names += list(d.columns)
    return (np.hstack(parts) if parts else np.empty((len(df), 0))), names


def difference_in_differences(
    data: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    period: str,
    treated=1,
    post=1,
    pre=None,
    unit: str | None = None,
    unit_effects: bool = True,
    covariates: list[str] | tuple[str, ...] | None = None,
    cluster: str | None = None,
    cov_type: str = "auto",
    small_sample: str = "auto",
    alpha: float = 0.05,
    n_boot: int = 9999,
    wild_weights: str = "auto",
    seed: int | None = DEFAULT_SEED,
) -> DiDResult:
    """Two-group, two-period difference-in-differences from an OLS with an interaction.

    The model is ``y = a + b*treated + c*post + delta*treated*post (+ covariates) + e`` and
    ``delta`` is the effect: the change among the treated minus the change among the controls.
    It is exactly the difference of the four cell means when there are no covariates.

    Two designs:

    * **Repeated cross-sections** (``unit=None``; e.g. anonymous surveys): pooled OLS. Standard
      errors are heteroskedasticity-robust (HC1) by default, or clustered on ``cluster``.
    * **Panel** (``unit`` given; the same people in both periods): with ``unit_effects=True``
      (default) unit fixed effects are absorbed (within transformation; ``treated`` is absorbed,
      units seen once drop out), which for two periods equals first-differencing; with
      ``unit_effects=False``, pooled OLS. Either way standard errors are clustered by unit
      (or by ``cluster``) by default.

    Standard-error conventions (``cov_type``): ``"classical"`` (homoskedastic, as in most
    textbook tables), ``"hc1"`` (White, times N/(N-K)), ``"cr2"`` (Bell-McCaffrey's bias-reduced
    cluster-robust variance with Satterthwaite degrees of freedom, R's ``clubSandwich``),
    ``"cluster"`` (CR1: times G/(G-1)(N-1)/(N-K), K = slope coefficients plus intercept, as
    Stata's ``vce(cluster)``). ``"auto"`` = CR2 when ``unit`` or ``cluster`` is given (CR1 when
    ``small_sample`` is ``"t"``, ``"none"`` or ``"wild"``), else HC1.

    Inference with clustered errors (``small_sample``): ``"auto"`` (with CR2: a t reference
    with Satterthwaite degrees of freedom, valid with few clusters and few treated clusters,
    Pustejovsky & Tipton 2018; with CR1: t(G - 1) below 42 clusters, normal from 42 on);
    ``"satterthwaite"`` (CR2's); ``"t"`` CR1 with t(G - 1); ``"none"`` CR1 with the normal;
    ``"wild"`` CR1 with a wild cluster bootstrap-t (unrestricted; Rademacher weights, or Webb's
    six-point weights below 12 clusters; ``n_boot`` draws; ``seed``). With 12 teams of which
    3 are treated, a true null was rejected in 11% of simulated samples by CR1 with t(G - 1)
    and 8% by the wild bootstrap, 2% by CR2 with Satterthwaite degrees of freedom
    (``tests/test_null_simulations.py``). With fewer than 2 clusters holding treated
    observations, or 2 holding control observations, no method gives a standard error,
    interval or p-value for the effect (the estimate is reported with a note). The notes name
    the number of clusters with treated and with control observations. Non-clustered errors
    use t(N - K).

    Parameters
    ----------
    data
        One row per observation (person and period).
    outcome
        Numeric outcome column.
    group, treated
        Column holding the group, and its value for the treated group; every other value is the
        control group (the column must have exactly two distinct values).
    period, post, pre
        Column holding the period and its value for the post period. With more than two periods
        give ``pre`` (the baseline value); other periods are left out and counted in a note.
    unit
        Person (panel) identifier, or None for repeated cross-sections.
    unit_effects
        Absorb unit fixed effects in a panel (default True).
    covariates
        Extra regressors (numeric; text/categorical columns become dummies).
    cluster
        Cluster column (default: ``unit`` when given).
    cov_type, small_sample, n_boot, wild_weights, seed
        Inference; see above.
    alpha
        1 - confidence level.

    Returns
    -------
    DiDResult
        ``summary`` with one row and columns ``metric`` (``difference_in_differences``),
        ``estimate, ci_low, ci_high, p_value, n, se, n_units, n_clusters, df,
        n_treated_clusters, method`` (``n`` = observations used, ``n_units`` = distinct
        units or NaN, ``n_clusters`` = clusters or NaN, ``df`` = degrees of freedom of the t
        reference or NaN for normal/bootstrap); ``cells_``; ``coefs_`` (every coefficient,
        by ``term``); ``notes``.

    References
    ----------
    Wooldridge, *Introductory Econometrics*, ch. 13 (KIELMC, Example 13.3; JTRAIN two-period
    panel); Angrist & Pischke (2009), *Mostly Harmless Econometrics*, ch. 5 and 8;
    MacKinnon & Webb (2017), *J. Appl. Econometrics* 32(2); Bell & McCaffrey (2002), *Survey
    Methodology* 28(2); Pustejovsky & Tipton (2018), *J. Bus. Econ. Stat.* 36(4).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> pilot = rm.load_sample()
    >>> idx = rm.engagement.engagement_index(pilot.surveys)
    >>> mentors = pilot.pairs.mentor_id[pilot.pairs.cohort_id.eq("C01")]
    >>> control = pilot.control.employee_id[pilot.control.cohort_id.eq("C01")]
    >>> idx = idx[idx.wave.isin(["2024-08-12", "2025-08-11"])
    ...           & idx.respondent_id.isin([*mentors, *control])]
    >>> frame = idx.assign(post=idx.wave.eq("2025-08-11").astype(int),
    ...                    treated=idx.respondent_id.isin(mentors).astype(int))
    >>> res = rm.difference_in_differences(frame, outcome="index", group="treated",
    ...                                    period="post", unit="respondent_id")
    >>> cols = ["metric", "estimate", "ci_low", "ci_high", "p_value", "n"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
                       metric  estimate  ci_low  ci_high  p_value  n
    difference_in_differences     0.253  -0.174    0.681    0.225 46

    The first cohort's mentors gained 0.25 points on the 1-5 engagement index relative to their
    waitlist control, but with 12 mentors the interval includes no change; pooling the cohorts
    (:func:`pilot_engagement`) narrows it.
    """
    df = as_frame(data)
    need_columns(df, [outcome, group, period, unit, cluster, *(covariates or [])])
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    notes: list[str] = []
    n_in = len(df)
    if pre is not None:
        keep = df[period].isin([pre, post])
        if (~keep).any():
            notes.append(
                Note(
                    f"{int((~keep).sum())} row(s) in periods other than {pre!r} and {post!r} "
                    "were left out.",
                    "excluded_rows",
                )
            )
        df = df[keep.to_numpy()]
    periods = pd.unique(df[period].dropna())
    if post not in set(periods):
        raise InsufficientDataError(f"column {period!r} has no row with the post value {post!r}")
    if len(periods) > 2:
        raise ValueError(
            f"column {period!r} has {len(periods)} distinct values; a 2x2 difference-in-"
            "differences needs two: give pre=<baseline value> (or use event_study)"
        )
    groups = pd.unique(df[group].dropna())
    if treated not in set(groups):
        raise InsufficientDataError(
            f"column {group!r} has no row with the treated value {treated!r}"
        )
    if len(groups) < 2:
        raise InsufficientDataError(
            f"column {group!r} has only the treated value {treated!r}: no control group"
        )
    if len(groups) > 2:
        raise ValueError(
            f"column {group!r} must have exactly two values (treated {treated!r} and a control), "
            f"found {len(groups)}: {', '.join(map(str, groups[:10]))}"
        )
    if not pd.api.types.is_numeric_dtype(df[outcome]):
        raise TypeError(f"outcome column {outcome!r} must be numeric")
    need = [outcome, group, period, *(covariates or [])] + [c for c in (unit, cluster) if c]
    complete = df[need].notna().all(axis=1).to_numpy()
    if (~complete).any():
        notes.append(
            Note(
                f"{int((~complete).sum())} row(s) with a missing outcome, group, period, unit "
                "or covariate were left out.",
                "excluded_rows",
            )
        )
    df = df[complete]
    d = df[group].eq(treated).to_numpy().astype(float)
    p = df[period].eq(post).to_numpy().astype(float)
    y = df[outcome].to_numpy(dtype=float)
    xc, cnames = _design_covariates(df, covariates)
    fe = unit is not None and unit_effects
    if fe:
        moves = df.groupby(unit, observed=True)[group].nunique()
        if (moves > 1).any():
            raise ValueError(
                f"{int((moves > 1).sum())} unit(s) change {group!r} between periods; a unit "
                "must stay in one group"
            )
        X = np.column_stack([p, d * p, xc])
        names = ["post", "treated:post", *cnames]
    else:
        X = np.column_stack([np.ones_like(y), d, p, d * p, xc])
        names = ["intercept", "treated", "post", "treated:post", *cnames]
    cl = df[cluster].to_numpy() if cluster else (df[unit].to_numpy() if unit else None)
    cells = (
        pd.DataFrame(
            {
                "group": np.where(d == 1, "treated", "control"),
                "period": np.where(p == 1, "post", "pre"),
                "y": y,
            }
        )
        .groupby(["group", "period"])["y"]
        .agg(["mean", "std", "count"])
        .rename(columns={"std": "sd", "count": "n"})
        .reset_index()
    )
    if len(cells) < 4:
        raise InsufficientDataError(
            "both groups must be observed in both periods; cells present: "
            + ", ".join(f"{g}/{q}" for g, q in zip(cells.group, cells.period, strict=True))
        )
    fit = fit_ols(
        y,
        X,
        names,
        absorb=df[unit].to_numpy() if fe else None,
        cluster=cl,
        cov_type=cov_type,
        small_sample=small_sample,
        alpha=alpha,
        boot_terms=("treated:post",),
        n_boot=n_boot,
        wild_weights=wild_weights,
        seed=seed,
        treated=d == 1,
        treatment_terms=("treated:post",),
    )
    notes += fit.notes
    if fe and covariates:
        notes.append(
            Note(
                "Covariates that do not vary within a unit are absorbed by the unit effects.",
                "method",
            )
        )
    t = fit.term("treated:post")
    row = {
        "metric": "difference_in_differences",
        **{k: t[k] for k in ("estimate", "se", "ci_low", "ci_high", "p_value")},
        "n": fit.n,
        "n_units": float(df[unit].nunique()) if unit else float("nan"),
        "n_clusters": float(fit.n_clusters) if fit.n_clusters else float("nan"),
        "df": (
            float(fit.df_of("treated:post"))
            if fit.df_of("treated:post") is not None and fit.inference == "t"
            else float("nan")
        ),
        "n_treated_clusters": (
            float(fit.n_treated_clusters) if fit.n_treated_clusters is not None else float("nan")
        ),
        "method": fit.method,
    }
    notes.insert(0, Note(f"Estimator: {fit.method}.", "method"))
    res = DiDResult(
        tidy(pd.DataFrame([row])),
        notes,
        outcome=outcome,
        n_input=n_in,
        design="panel" if unit else "repeated cross-sections",
        alpha=alpha,
        seed=seed,
    )
    res.cells_ = cells
    res.coefs_ = pd.DataFrame(fit.columns())
    res.fit_ = fit
    return res


# ---------------------------------------------------------------------------------------------
# event study
# ---------------------------------------------------------------------------------------------


class EventStudyResult(Result):
    """Coefficients per event time relative to a reference period, and a pre-trend test.

    Attributes
    ----------
    summary : DataFrame
        One row per event time: ``metric`` (``effect``), ``event_time, estimate, ci_low,
        ci_high, p_value, n, se`` (``n`` = observations at that event time); the reference
        row has estimate 0 and no CI.
    pretrend_ : DataFrame
        One row: ``test, statistic, df1, df2, p_value, n_pre`` (joint Wald/F test that every
        pre-period coefficient is zero), or empty when there are fewer than two pre periods.
    """

    title = "Event study"

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        from ..plotting.errorbars import error_bars

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        s = self.summary
        yerr = error_bars(s.estimate, s.ci_low, s.ci_high)
        ax.errorbar(s.event_time, s.estimate, yerr=yerr, fmt="o", capsize=3)
        ax.axhline(0, color="grey", lw=0.8)
        ref = self.arguments.get("reference", -1)
        ax.axvline(ref + 0.5, color="grey", ls=":", lw=0.8)
        ax.set_xlabel("wave relative to the programme start (reference = last wave before)")
        ax.set_ylabel(f"effect on {self.arguments.get('outcome', 'outcome')}")
        ax.set_title("Event study (pre-period estimates should be near 0)")
        return ax


def event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    event_time: str,
    treated=1,
    reference: int = -1,
    unit: str | None = None,
    stack: str | None = None,
    cluster: str | None = None,
    small_sample: str = "auto",
    alpha: float = 0.05,
    n_boot: int = 9999,
    seed: int | None = DEFAULT_SEED,
) -> EventStudyResult:
    """Dynamic difference-in-differences: one coefficient per event time.

    Model: ``y = unit effects (or group x stack effects) + stack x event-time effects +
    sum_{e != reference} beta_e * treated * 1[event_time = e] + error``. ``event_time`` is an
    integer wave index relative to the treatment start, the same for the treated and the
    controls of a stack (cohort); ``reference`` (default -1, the last wave before the start) is
    the omitted category, so each ``beta_e`` is the treated-minus-control difference at ``e``
    relative to that at the reference. Pre-trend check: the joint Wald test that every
    ``beta_e`` with ``e < reference`` is zero: with the default CR2 errors the HTZ test of
    Pustejovsky & Tipton (2018) (clubSandwich's ``Wald_test(..., test = "HTZ")``), with CR1
    an F statistic with (q, G - 1) degrees of freedom (chi-square / q with the normal
    reference). Standard errors: clustered on ``cluster`` (default ``unit``), CR2 with
    Satterthwaite degrees of freedom unless ``small_sample`` asks for CR1, as in
    :func:`difference_in_differences`; without unit or cluster, HC1.

    Returns
    -------
    EventStudyResult
        ``summary`` (``metric`` = ``effect``, ``event_time, estimate, ci_low, ci_high,
        p_value, n, se``),
        ``pretrend_`` (``test, statistic, df1, df2, p_value, n_pre``), ``notes``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import rm_analytics as rm
    >>> rng = np.random.default_rng(3)
    >>> person = np.repeat(np.arange(40), 4)
    >>> e = np.tile([-3, -2, -1, 0], 40)
    >>> d = (person < 20).astype(int)
    >>> y = rng.normal(0, 1, 40)[person] + 0.5 * d * (e == 0) + rng.normal(0, 0.3, len(e))
    >>> data = pd.DataFrame({"y": y, "d": d, "e": e, "id": person})
    >>> res = rm.event_study(data, outcome="y", group="d", event_time="e", unit="id")
    >>> cols = ["metric", "event_time", "estimate", "ci_low", "ci_high", "p_value"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
    metric  event_time  estimate  ci_low  ci_high  p_value
    effect          -3    -0.095  -0.368    0.179    0.487
    effect          -2    -0.012  -0.280    0.255    0.928
    effect          -1     0.000     NaN      NaN      NaN
    effect           0     0.396   0.149    0.643    0.002

    The simulated effect of 0.5 at event time 0 is recovered (0.40); the leads -3 and -2 are
    near 0, as they should be when the trends were parallel before the event.
    """
    df = as_frame(data)
    need_columns(df, [outcome, group, event_time, unit, stack, cluster])
    need = [c for c in (outcome, group, event_time, unit, stack, cluster) if c]
    complete = df[need].notna().all(axis=1).to_numpy()
    notes: list[str] = []
    if (~complete).any():
        notes.append(
            Note(
                f"{int((~complete).sum())} row(s) with missing values were left out.",
                "excluded_rows",
            )
        )
    df = df[complete]
    e = df[event_time].astype(int).to_numpy()
    d = df[group].eq(treated).to_numpy()
    st = df[stack].astype(str).to_numpy() if stack else np.zeros(len(df), dtype=int).astype(str)
    y = df[outcome].to_numpy(dtype=float)
    times = sorted(set(e[d].tolist()))
    if reference not in times:
        raise InsufficientDataError(
            f"no treated observation at the reference event time {reference}"
        )
    effect_times = [t for t in times if t != reference]
    cols, names = [], []
    for t in effect_times:
        cols.append((d & (e == t)).astype(float))
        names.append(f"e{t}")
    # stack x event-time effects, reference time of each stack omitted (absorbed by the units)
    st_e = pd.Series(st).str.cat(pd.Series(e).astype(str), sep="|").to_numpy()
    fe = unit is not None
    levels = sorted(set(st_e.tolist()))
    for lv in levels:
        s_, t_ = lv.rsplit("|", 1)
        if fe and int(t_) == reference:
            continue
        cols.append((st_e == lv).astype(float))
        names.append(f"t[{lv}]")
    if not fe:
        for s_ in sorted(set(st.tolist())):
            cols.append(((st == s_) & d).astype(float))
            names.append(f"treated[{s_}]")
    X = np.column_stack(cols)
    # drop stack x time columns that are empty or that reference levels make redundant
    keep = X.sum(axis=0) > 0
    X, names = X[:, keep], [n for n, k in zip(names, keep, strict=True) if k]
    if not fe:
        # without unit effects, every stack's reference time is the intercept of that stack
        drop = [
            j for j, n in enumerate(names) if n.startswith("t[") and n.endswith(f"|{reference}]")
        ]
        X = np.delete(X, drop, axis=1)
        names = [n for j, n in enumerate(names) if j not in set(drop)]
        for s_ in sorted(set(st.tolist())):
            X = np.column_stack([X, (st == s_).astype(float)])
            names.append(f"stack[{s_}]")
    cl = df[cluster].to_numpy() if cluster else (df[unit].to_numpy() if unit else None)
    effect_terms = tuple(n for n in names if n[0] == "e" and n[1:].lstrip("-").isdigit())
    fit = fit_ols(
        y,
        X,
        names,
        absorb=df[unit].to_numpy() if fe else None,
        cluster=cl,
        small_sample=small_sample,
        alpha=alpha,
        boot_terms=effect_terms,
        n_boot=n_boot,
        seed=seed,
        treated=d,
        treatment_terms=effect_terms,
    )
    notes += fit.notes
    counts = pd.Series(e).value_counts()
    rows = []
    for t in times:
        if t == reference:
            rows.append(
                {
                    "event_time": t,
                    "estimate": 0.0,
                    "se": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p_value": np.nan,
                    "n": int(counts.get(t, 0)),
                }
            )
        else:
            r = fit.term(f"e{t}")
            rows.append(
                {
                    "event_time": t,
                    **{k: r[k] for k in ("estimate", "se", "ci_low", "ci_high", "p_value")},
                    "n": int(counts.get(t, 0)),
                }
            )
    pre = [f"e{t}" for t in effect_times if t < reference]
    if pre:
        w = fit.wald(pre)
        label = (
            "joint HTZ Wald test (CR2): pre-period coefficients = 0"
            if fit.cr2_ is not None
            else "joint Wald F: pre-period coefficients = 0"
        )
        pretrend = pd.DataFrame([{"test": label, **w, "n_pre": len(pre)}])
        verdict = (
            "no evidence against parallel pre-trends"
            if w["p_value"] >= alpha
            else "the groups already diverged before the programme (parallel trends doubtful)"
        )
        notes.append(
            Note(
                f"Pre-trend check over {len(pre)} pre-period coefficient(s): F = "
                f"{w['statistic']:.2f}, p = {w['p_value']:.3f}: {verdict}. A non-significant "
                "test with few waves and few people is weak evidence.",
                "assumption",
            )
        )
    else:
        pretrend = pd.DataFrame(columns=["test", "statistic", "df1", "df2", "p_value", "n_pre"])
        notes.append(
            Note(
                "Fewer than two waves before the programme start: no pre-trend test.",
                "not_estimable",
            )
        )
    notes.insert(0, Note(f"Estimator: {fit.method}; reference event time {reference}.", "method"))
    summary = pd.DataFrame(rows)
    summary.insert(0, "metric", "effect")
    res = EventStudyResult(
        tidy(summary, ["event_time"]),
        notes,
        outcome=outcome,
        reference=reference,
        alpha=alpha,
        seed=seed,
    )
    res.pretrend_ = pretrend
    res.fit_ = fit
    return res


# ---------------------------------------------------------------------------------------------
# engagement index
# ---------------------------------------------------------------------------------------------

ENGAGEMENT_ITEMS = ("eng1", "eng2", "eng3", "eng4", "eng5")


def engagement_index(
    surveys: pd.DataFrame,
    *,
    items: tuple[str, ...] | list[str] = ENGAGEMENT_ITEMS,
    survey: str | None = "engagement",
    min_items: int | None = None,
    respondent: str = "respondent_id",
    wave: str = "wave",
    item: str = "item",
    value: str = "value",
) -> pd.DataFrame:
    """The engagement index: mean of a respondent's answered items in a wave.

    Parameters
    ----------
    surveys
        Long answers (the ``surveys`` table layout: respondent_id, survey, wave, item, value).
    items
        Item codes forming the index.
    survey
        Keep only rows of this instrument (None: do not filter on ``survey``).
    min_items
        Fewest answered items for an index; below it the index is NaN. Default: a majority of
        the items (3 of 5).

    Returns
    -------
    DataFrame
        One row per respondent and wave: ``respondent_id, wave, index, n_items``
        (``n_items`` = answered items; ``index`` NaN when ``n_items < min_items``), plus
        ``response_date`` (earliest) when the input has it.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> pilot = rm.load_sample()
    >>> idx = rm.engagement.engagement_index(pilot.surveys)
    >>> print(idx.head(3).to_string(index=False))
    respondent_id       wave  index  n_items response_date
          E000001 2024-02-12    3.0        5    2024-02-13
          E000001 2025-02-10    3.4        5    2025-02-13
          E000001 2025-08-11    3.0        5    2025-08-24

    One row per respondent and wave: the mean of the items answered (here all five).
    """
    df = as_frame(surveys, "surveys")
    need_columns(df, [respondent, wave, item, value], "surveys")
    items = list(items)
    if not items:
        raise ValueError("items must name at least one survey item")
    k = len(items) // 2 + 1 if min_items is None else int(min_items)
    if not 1 <= k <= len(items):
        raise ValueError(f"min_items must be between 1 and {len(items)}, not {min_items}")
    mask = df[item].isin(items)
    if survey is not None:
        need_columns(df, ["survey"], "surveys")
        mask &= df["survey"].eq(survey)
    sub = df.loc[
        mask.to_numpy(),
        [respondent, wave, value] + (["response_date"] if "response_date" in df.columns else []),
    ]
    if sub.empty:
        raise InsufficientDataError(
            f"no answers to items {', '.join(items)}"
            + (f" in survey {survey!r}" if survey is not None else "")
        )
    g = sub.groupby([respondent, wave], observed=True, sort=True)
    out = g[value].agg(["mean", "count"]).rename(columns={"mean": "index", "count": "n_items"})
    if "response_date" in sub.columns:
        out["response_date"] = g["response_date"].min()
    out["index"] = out["index"].where(out["n_items"] >= k)
    out = out.reset_index()
    out["n_items"] = out["n_items"].astype("int64")
    return out


# ---------------------------------------------------------------------------------------------
# pilot engagement
# ---------------------------------------------------------------------------------------------


#: A summary's role in the words of figure labels.
ROLE_WORDS = {"both": "all"}


class EngagementResult(Result):
    """Participants-vs-control engagement deltas of a pilot.

    Attributes
    ----------
    summary : DataFrame
        One row per outcome and role: ``metric`` (engagement_index, retention_intent: the
        difference-in-differences of that outcome), ``role`` (mentor, mentee, both),
        ``estimate, ci_low, ci_high, p_value, n`` (answers used), ``se``, ``n_treated``,
        ``n_control`` (people), ``n_clusters``, ``method``.
    waves_ : DataFrame
        Per cohort: ``cohort_id, cohort_start, cohort_end, baseline, followup, n_pre_waves``.
    event_study_ : EventStudyResult or None
        Engagement index, all participants, every wave (when some cohort has two or more pre
        waves).
    """

    title = "Engagement delta (difference-in-differences)"

    def plot(self, ax=None, *, hidden=None):
        """One row per outcome and role with its interval. ``hidden`` (booleans, one per row
        of ``summary``) draws those rows as hidden (the report's privacy policy)."""
        import matplotlib.pyplot as plt

        from ..plotting.errorbars import error_bars
        from ..plotting.hidden import hidden_row

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        hide = np.zeros(len(self.summary), bool) if hidden is None else np.asarray(hidden, bool)
        keep = self.summary.estimate.notna().to_numpy() | hide
        s = self.summary[keep].reset_index(drop=True)
        hide = hide[keep]
        labels = [f"{o} ({ROLE_WORDS.get(r, r)})" for o, r in zip(s.metric, s.role, strict=True)]
        y = np.arange(len(s))
        shown = s[~hide]
        xerr = error_bars(shown.estimate, shown.ci_low, shown.ci_high)
        ax.errorbar(shown.estimate, y[~hide], xerr=xerr, fmt="o", capsize=3)
        for yi in y[hide]:
            hidden_row(ax, yi)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlabel("change among participants minus change among controls (1-5 scale)")
        ax.set_title(self.title)
        return ax


def _wave_dates(surveys: pd.DataFrame, survey: str) -> pd.Series:
    """Median response date of each wave of one instrument, sorted."""
    sv = surveys[surveys["survey"].eq(survey).to_numpy()]
    return sv.groupby("wave", observed=True)["response_date"].median().dropna().sort_values()


def _pick_waves(dates: pd.Series, start, end, baseline, followup):
    pre = dates[dates < start]
    after = dates[dates > end]
    b = baseline if baseline is not None else (pre.index[-1] if len(pre) else None)
    f = followup if followup is not None else (after.index[0] if len(after) else None)
    return b, f, len(pre)


class _Coded:
    """An outcome frame (respondent_id, wave, y) with its respondents factorised once.

    ``select(treated_ids, control_ids, mask)`` returns the rows of the given people (in the
    frame's order, restricted to ``mask``) with a ``treated`` column (1/0): the same rows, in
    the same order, as an inner merge with a (respondent_id, treated) table of unique ids.
    """

    def __init__(self, odf: pd.DataFrame) -> None:
        self.df = odf.astype({"respondent_id": "string"})
        codes, uniques = pd.factorize(self.df["respondent_id"])
        self.codes = codes  # -1 for a missing respondent: maps to the sentinel slot below
        self.uniques = pd.Index(uniques)

    def select(self, treated_ids, control_ids, mask=None) -> pd.DataFrame:
        flag = np.full(len(self.uniques) + 1, -1, dtype=np.int64)  # last slot: code -1
        for ids, value in ((list(control_ids), 0), (list(treated_ids), 1)):
            pos = self.uniques.get_indexer(pd.Index(ids, dtype="string")) if ids else []
            pos = np.asarray(pos, dtype=np.int64)
            flag[pos[pos >= 0]] = value
        tr = flag[self.codes]
        keep = tr >= 0
        if mask is not None:
            keep &= np.asarray(mask, dtype=bool)
        o = self.df[keep].reset_index(drop=True)
        o["treated"] = tr[keep]
        return o


def pilot_engagement(
    pilot,
    *,
    baseline: str | None = None,
    followup: str | None = None,
    roles: tuple[str, ...] = ("mentor", "mentee"),
    control: str = "designated",
    items: tuple[str, ...] = ENGAGEMENT_ITEMS,
    survey: str = "engagement",
    min_items: int | None = None,
    intent_survey: str = "retention_intent",
    intent_item: str = "intent",
    small_sample: str = "auto",
    alpha: float = 0.05,
    min_cell_size: int | None = None,
    event_study_check: bool = True,
    seed: int | None = DEFAULT_SEED,
) -> EngagementResult:
    """Engagement delta of a pilot: participants vs control, baseline to follow-up.

    Design (per cohort, then stacked over cohorts):

    * **baseline** = the last engagement wave whose median response date is before the cohort
      start; **follow-up** = the first wave whose median response date is after the cohort end
      (waves during the cohort are partly treated and are not used). ``baseline`` /
      ``followup`` override these with wave labels (for every cohort).
    * **treated** = the cohort's mentors / mentees / both (``roles``, plus the two together
      as role ``both``);
      **control** = the cohort's designated control list (``control="designated"``; if there is
      none, all non-participants, with a note) or everyone never in a pair
      (``"all_nonparticipants"``). The designated list is usually drawn for mentors (juniors):
      compared with mentees (senior leaders) it relies on parallel trends across grades.
    * The outcome is the engagement index (:func:`engagement_index`) and the retention-intent
      item. Each is a panel difference-in-differences (:func:`difference_in_differences`) with
      person-by-cohort fixed effects, cohort-specific period effects, standard errors clustered
      by person (CR2 with Satterthwaite degrees of freedom by default) and the rules given
      there.
    * Event study (when some cohort has two or more pre waves): every wave of each cohort,
      indexed relative to the last wave before the start, with a joint pre-trend test.

    Every row carries its people (``n_treated``, ``n_control``); hiding small groups from
    sponsors is the report's privacy policy (``min_cell_size`` is deprecated and ignored).
    Answers left out (respondents in neither group, waves not used) are logged on the pilot.
    ``seed`` seeds the wild cluster bootstrap when ``small_sample="wild"``.

    Returns
    -------
    EngagementResult
        ``summary`` columns: ``metric, role, estimate, ci_low, ci_high, p_value, n, se,
        n_treated, n_control, n_clusters, method``; ``waves_``; ``event_study_``; ``notes``.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.pilot_engagement(rm.load_sample())
    >>> cols = ["metric", "role", "estimate", "ci_low", "ci_high", "p_value", "n"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
              metric   role  estimate  ci_low  ci_high  p_value   n
    engagement_index mentor     0.390   0.082    0.698    0.015  90
    engagement_index mentee     0.470   0.114    0.826    0.012  84
    engagement_index   both     0.427   0.185    0.668    0.001 114
    retention_intent mentor     0.549  -0.356    1.454    0.224  90
    retention_intent mentee     0.700  -0.101    1.501    0.083  84
    retention_intent   both     0.617  -0.029    1.263    0.061 114

    Participants' engagement index (1-5) rose 0.43 points more than the waitlist control's
    from baseline to follow-up; the intent to stay moved the same way, less clearly.
    """
    deprecated_min_cell_size(min_cell_size, "pilot_engagement")
    if control not in ("designated", "all_nonparticipants"):
        raise ValueError(f"control must be 'designated' or 'all_nonparticipants', not {control!r}")
    roles = tuple(normalise_role(r, argument="roles", allowed=("mentor", "mentee")) for r in roles)
    pilot.require("surveys", purpose="the engagement analysis")
    sv = pilot.surveys
    notes: list[str] = []
    idx = engagement_index(sv, items=items, survey=survey, min_items=min_items)
    n_low = int(idx["index"].isna().sum())
    pilot.log_quality(
        "surveys",
        "engagement",
        "index below min_items",
        n_low,
        "excluded",
        "respondent-waves with too few answered engagement items",
    )
    outcomes = {
        "engagement_index": idx.rename(columns={"index": "y"})[["respondent_id", "wave", "y"]]
    }
    has_intent = bool((sv["survey"].eq(intent_survey) & sv["item"].eq(intent_item)).any())
    if has_intent:
        it = sv[(sv["survey"].eq(intent_survey) & sv["item"].eq(intent_item)).to_numpy()]
        outcomes["retention_intent"] = (
            it.groupby(["respondent_id", "wave"], observed=True)["value"]
            .mean()
            .rename("y")
            .reset_index()
        )
    else:
        notes.append(
            Note(
                f"No {intent_survey!r} answers to item {intent_item!r}: no retention-intent delta.",
                "missing_data",
            )
        )
    dates = _wave_dates(sv, survey)
    for label, w in (("baseline", baseline), ("followup", followup)):
        if w is not None and w not in set(dates.index.astype(str)):
            raise ValueError(
                f"{label}={w!r}: no engagement wave with that label; waves are "
                + ", ".join(dates.index.astype(str))
            )
    part = pilot.participants("both")
    ever = set(part.employee_id)
    ctrl_tab = pilot.control
    waves_rows, stacks = [], []
    for c in pilot.cohorts.sort_values("start_date").itertuples():
        b, f, n_pre = _pick_waves(dates, c.start_date, c.end_date, baseline, followup)
        waves_rows.append(
            {
                "cohort_id": c.cohort_id,
                "cohort_start": c.start_date,
                "cohort_end": c.end_date,
                "baseline": b,
                "followup": f,
                "n_pre_waves": n_pre,
            }
        )
        if b is None or f is None:
            notes.append(
                Note(
                    f"Cohort {c.cohort_id}: no engagement wave "
                    + ("before the start" if b is None else "after the end")
                    + " yet; left out of the engagement delta.",
                    "missing_data",
                )
            )
            continue
        p = part[part.cohort_id.eq(c.cohort_id)].drop_duplicates(["employee_id", "role"])
        if (
            control == "designated"
            and ctrl_tab is not None
            and ctrl_tab.cohort_id.eq(c.cohort_id).any()
        ):
            ctrl_ids = set(ctrl_tab.employee_id[ctrl_tab.cohort_id.eq(c.cohort_id)])
            ctrl_label = "designated control"
        else:
            if control == "designated":
                notes.append(
                    Note(
                        f"Cohort {c.cohort_id} has no designated control: compared with all "
                        "non-participants (opt-in participants may differ from them).",
                        "assumption",
                    )
                )
            ctrl_ids = set(pilot.employees.employee_id) - ever
            ctrl_label = "all non-participants"
        stacks.append((c.cohort_id, b, f, n_pre, p, ctrl_ids - ever, ctrl_label))
    waves = pd.DataFrame(waves_rows)
    rows: list[dict] = []
    singles: list[str] = []
    # respondents as integer codes, once per outcome: selecting a cohort's participants and
    # controls is then an array lookup instead of a string merge per cohort, role and outcome
    coded = {oname: _Coded(odf) for oname, odf in outcomes.items()}
    for oname, odf in outcomes.items():
        cd = coded[oname]
        for role in (*roles, "both"):
            frames = []
            for cid, b, f, _, p, ctrl_ids, _lab in stacks:
                who = p[p.role.isin(roles if role == "both" else [role])].employee_id
                o = cd.select(who.drop_duplicates().to_numpy(), ctrl_ids, odf.wave.isin([b, f]))
                o["post"] = o.wave.astype(str).eq(str(f)).astype(int)
                o["cohort_id"] = cid
                frames.append(o)
            row = {"metric": oname, "role": role}
            if not frames:
                rows.append({**row, "estimate": np.nan})
                continue
            st = pd.concat(frames, ignore_index=True).dropna(subset=["y"])
            st["stack_unit"] = st.cohort_id.astype(str) + ":" + st.respondent_id.astype(str)
            cov = []
            for cid in st.cohort_id.unique()[1:]:
                st[f"post_{cid}"] = (st.post.eq(1) & st.cohort_id.eq(cid)).astype(float)
                cov.append(f"post_{cid}")
            n_tr = int(st.loc[st.treated.eq(1), "respondent_id"].nunique())
            n_co = int(st.loc[st.treated.eq(0), "respondent_id"].nunique())
            row.update(n_treated=n_tr, n_control=n_co)
            if n_tr == 0 or n_co == 0:
                rows.append({**row, "estimate": np.nan, "n": len(st)})
                notes.append(
                    Note(
                        f"{oname}, {ROLE_WORDS.get(role, role)}: no "
                        + ("participant" if n_tr == 0 else "control")
                        + " answered both waves' surveys; not estimable.",
                        "not_estimable",
                    )
                )
                continue
            try:
                r = difference_in_differences(
                    st,
                    outcome="y",
                    group="treated",
                    period="post",
                    unit="stack_unit",
                    cluster="respondent_id",
                    covariates=cov or None,
                    small_sample=small_sample,
                    alpha=alpha,
                    seed=seed,
                )
            except ValueError as err:
                rows.append({**row, "estimate": np.nan, "n": len(st)})
                notes.append(
                    Note(
                        f"{oname}, {ROLE_WORDS.get(role, role)}: not estimable ({err}).",
                        "not_estimable",
                    )
                )
                continue
            s = r.summary.iloc[0]
            rows.append(
                {
                    **row,
                    **{
                        k: s[k]
                        for k in (
                            "estimate",
                            "se",
                            "ci_low",
                            "ci_high",
                            "p_value",
                            "n",
                            "n_clusters",
                            "method",
                        )
                    },
                }
            )
            single = len(st) - int(s["n"])
            if single:
                singles.append(f"{oname}/{ROLE_WORDS.get(role, role)}: {single}")
            for nt in r.notes[1:]:
                if "clusters" in nt:
                    notes.append(Note(f"{oname}, {ROLE_WORDS.get(role, role)}: {nt}", nt.code))
            if oname == "engagement_index" and role == "both":
                pilot.log_quality(
                    "surveys",
                    "engagement",
                    "answers in the difference-in-differences",
                    int(s["n"]),
                    "kept",
                    f"index answers of participants and controls at baseline and follow-up; "
                    f"{single} from people who answered only one of the two waves left out",
                )
    if singles:
        notes.append(
            Note(
                "Answers of people who answered only one of the two waves carry no "
                "within-person information and are left out of the panel fit ("
                + "; ".join(singles)
                + ").",
                "excluded_rows",
            )
        )
    cols = [
        "metric",
        "role",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "n",
        "se",
        "n_treated",
        "n_control",
        "n_clusters",
        "method",
    ]
    summary = pd.DataFrame(rows).reindex(columns=cols)
    labels = sorted({s[6] for s in stacks})
    notes.insert(
        0,
        Note(
            "Difference-in-differences of participants vs "
            + (" / ".join(labels) if labels else "control")
            + " between the last engagement wave before each cohort's start and the first "
            "after its end; person fixed effects, cohort-specific period effects, standard "
            "errors clustered by person. The engagement index is the mean of the answered "
            f"items ({', '.join(items)}; 1-5).",
            "method",
        ),
    )
    res = EngagementResult(
        summary,
        notes,
        roles=roles,
        control=control,
        alpha=alpha,
        small_sample=small_sample,
        seed=seed,
    )
    res.waves_ = waves
    res.event_study_ = None
    if event_study_check and stacks and waves.n_pre_waves.max() >= 2:
        frames = []
        for cid, _b, _f, _n, p, ctrl_ids, _lab in stacks:
            c = pilot.cohorts.set_index("cohort_id").loc[cid]
            pre = dates[dates < c.start_date]
            post = dates[dates >= c.start_date]
            rel = pd.Series(
                np.concatenate([np.arange(-len(pre), 0), np.arange(len(post))]),
                index=list(pre.index) + list(post.index),
            )
            who = p[p.role.isin(roles)].employee_id.drop_duplicates()
            o = coded["engagement_index"].select(who.to_numpy(), ctrl_ids)
            o["event_time"] = o.wave.astype(str).map({str(k): v for k, v in rel.items()})
            o["cohort_id"] = cid
            frames.append(o.dropna(subset=["y", "event_time"]))
        es_data = pd.concat(frames, ignore_index=True)
        es_data["stack_unit"] = (
            es_data.cohort_id.astype(str) + ":" + es_data.respondent_id.astype(str)
        )
        try:
            res.event_study_ = event_study(
                es_data,
                outcome="y",
                group="treated",
                event_time="event_time",
                unit="stack_unit",
                stack="cohort_id",
                cluster="respondent_id",
                small_sample=small_sample,
                alpha=alpha,
                seed=seed,
            )
            pt = res.event_study_.pretrend_
            if len(pt):
                res.note(
                    "Pre-trend check (engagement index, all participants): joint test of the "
                    f"pre-start wave coefficients p = {pt.p_value.iloc[0]:.3f}.",
                    "assumption",
                )
        except ValueError as err:
            res.note(f"Event study not estimable: {err}.", "not_estimable")
    elif event_study_check:
        res.note(
            "No cohort has two or more engagement waves before its start: no pre-trend check.",
            "not_estimable",
        )
    return res
