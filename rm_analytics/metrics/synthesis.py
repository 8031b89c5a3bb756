"""Evidence that accumulates: synthesis across cohorts, sequential decisions, probability of
benefit.

A program that survives its pilot runs cohort after cohort, and the sponsor's question becomes
"after three cohorts, how sure are we, and when can we decide?". This module answers it:

* :func:`meta_analysis`: random-effects meta-analysis of one estimate per cohort (or per
  program, or per published study) on any scale, as R's metafor (``rma(yi, sei = sei,
  method = "REML", test = "knha")`` and ``predict()``), with a forest plot and a cumulative
  forest plot (the estimate after 1, 2, ..., k cohorts).
* :func:`sequential_boundaries` and :func:`sequential_monitor`: group-sequential boundaries
  with Lan-DeMets alpha spending (as R's rpact), applied to the evidence after each cohort, so
  that looking after every cohort does not inflate the chance of a false "it works".
* :func:`probability_of_benefit`: the posterior probability that the program helps under a
  deliberately sceptical prior, with the neutral-prior value beside it.
* :func:`pilot_synthesis`: all of it on a :class:`~rm_analytics.Pilot`: per-cohort estimates of
  retention, engagement and skills, their synthesis, heterogeneity in plain words, the pooled
  analysis beside the synthesis, the sequential status and the probability of benefit.

The formulas, conventions and references are in ``docs/synthesis.md`` and in the kernels
:mod:`rm_analytics.stats.meta`, :mod:`rm_analytics.stats.sequential` and
:mod:`rm_analytics.stats.bayes`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InsufficientDataError
from ..results import Note, Result, normalise_role
from ..stats import DEFAULT_SEED
from ..stats.meta import METHODS, TESTS, MetaFit, fixed_effect_z, meta_fit
from ..stats.sequential import SPENDING
from ._inputs import as_frame, need_columns

__all__ = [
    "MetaAnalysisResult",
    "SequentialResult",
    "SynthesisResult",
    "heterogeneity_statement",
    "meta_analysis",
    "pilot_synthesis",
    "planned_information",
    "prior_statement",
    "probability_of_benefit",
    "sequential_boundaries",
    "sequential_monitor",
]

#: Summary columns of a meta-analysis.
META_COLUMNS = ["metric", "estimate", "ci_low", "ci_high", "p_value", "n", "se", "df"]

#: Sequential statuses, in the words the report uses.
EFFECTIVE = "decide now: effective"
HARMFUL = "stop: harmful"
KEEP_GOING = "keep going"
FUTILITY = "futility: stop"
NOT_DEMONSTRATED = "final look: benefit not demonstrated"
DECIDED = "decided earlier"
AFTER_PLAN = "after the plan's last look"
PLANNED = "planned"

#: Default sceptical prior: a 5% prior chance that the program cuts the hazard of leaving by
#: 30% or more (HR 0.7, the effect the power module's planning sentence uses), and a 5% prior
#: chance that it raises engagement by a quarter of a point (1-5 index) or more.
PRIOR_HAZARD_RATIO = 0.7
PRIOR_ENGAGEMENT_POINTS = 0.25
PRIOR_TAIL = 0.05


# ============================================================================================
# Input checks
# ============================================================================================


def _row_name(df: pd.DataFrame, i: int, label: str | None) -> str:
    where = f"row {i + 1}"
    if label is not None:
        where += f" ({label} = {str(df[label].iloc[i])!r})"
    return where


def _checked_estimates(
    data, estimate: str, se: str, label: str | None, what: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[str]]:
    """Estimates, standard errors and labels; ValueError listing every bad row (row number
    counted from 1, label, column, value and rule): no row is dropped silently."""
    df = as_frame(data)
    need_columns(df, [estimate, se, label], what)
    y = pd.to_numeric(df[estimate], errors="coerce").to_numpy(dtype=float)
    s = pd.to_numeric(df[se], errors="coerce").to_numpy(dtype=float)
    problems = []
    for i in range(len(df)):
        if not np.isfinite(y[i]):
            problems.append(
                f"{_row_name(df, i, label)}, column {estimate!r}: value {str(df[estimate].iloc[i])!r}: "
                "an estimate must be a finite number"
            )
        if not (np.isfinite(s[i]) and s[i] > 0):
            problems.append(
                f"{_row_name(df, i, label)}, column {se!r}: value {str(df[se].iloc[i])!r}: "
                "a standard error must be a finite number > 0"
            )
    if problems:
        raise ValueError(f"{what}: " + "; ".join(problems))
    labels = (
        [str(v) for v in df[label]] if label is not None else [str(i + 1) for i in range(len(df))]
    )
    return df, y, s, labels


def _normal_row(y: float, s: float, alpha: float) -> dict[str, float]:
    from scipy import stats

    z = float(stats.norm.ppf(1 - alpha / 2))
    return {
        "estimate": y,
        "se": s,
        "ci_low": y - z * s,
        "ci_high": y + z * s,
        "p_value": float(2 * stats.norm.sf(abs(y / s))),
    }


# ============================================================================================
# Meta-analysis
# ============================================================================================


class MetaAnalysisResult(Result):
    """A random-effects meta-analysis (see :func:`meta_analysis`).

    Attributes
    ----------
    summary : pandas.DataFrame
        Rows by ``metric``: ``pooled`` (estimate, se, ci_low, ci_high, p_value; n = studies;
        df of the t test), ``tau2`` (estimate), ``i2`` (estimate, percent), ``h2``, ``q``
        (estimate = Cochran's Q, p_value, df) and ``prediction`` (ci_low, ci_high: the
        prediction interval for the next study).
    studies_ : pandas.DataFrame
        ``label, estimate, se, ci_low, ci_high, weight`` (normal intervals; random-effects
        weights in percent).
    cumulative_ : pandas.DataFrame
        The synthesis after the first 1, 2, ..., k studies in the order given: ``label`` (the
        study added), ``k``, ``estimate, se, ci_low, ci_high, p_value, tau2, i2, pi_low,
        pi_high`` (row 1: the first study alone, normal interval, no tau2).
    fit_ : rm_analytics.stats.meta.MetaFit
        The kernel's fit.
    """

    title = "Random-effects meta-analysis"

    def __init__(self, summary, notes, **arguments):
        super().__init__(summary, notes, **arguments)
        self.studies_: pd.DataFrame = pd.DataFrame()
        self.cumulative_: pd.DataFrame = pd.DataFrame()
        self.fit_: MetaFit | None = None

    @property
    def estimate(self) -> float:
        return float(self.row(metric="pooled").estimate)

    def _exp(self, exponentiate: bool | None) -> bool:
        return bool(
            self.arguments.get("exponentiate", False) if exponentiate is None else exponentiate
        )

    def plot(self, ax=None, *, exponentiate: bool | None = None, title: str | None = None):
        """Forest plot: each study with its interval (square sized by its weight), the pooled
        estimate as a diamond and the prediction interval as a dashed line. Returns the axes."""
        from ..plotting.forest import forest_plot

        p = self.row(metric="pooled")
        pi = self.row(metric="prediction")
        return forest_plot(
            self.studies_,
            ax=ax,
            weight="weight",
            pooled={
                "label": "Synthesis",
                "estimate": p.estimate,
                "ci_low": p.ci_low,
                "ci_high": p.ci_high,
            },
            prediction=(pi.ci_low, pi.ci_high),
            exponentiate=self._exp(exponentiate),
            xlabel=self.arguments.get("xlabel", "estimate (95% interval)"),
            title=title or self.title,
        )

    def plot_cumulative(
        self, ax=None, *, exponentiate: bool | None = None, title: str | None = None
    ):
        """Cumulative forest plot: the synthesis after 1, 2, ..., k studies, and the prediction
        interval for the next one. Returns the axes."""
        from ..plotting.forest import cumulative_forest_plot

        pi = self.row(metric="prediction")
        c = self.cumulative_
        labels = [f"+ {lab}" if i else str(lab) for i, lab in enumerate(c["label"])]
        return cumulative_forest_plot(
            c.assign(label=labels),
            ax=ax,
            prediction=(pi.ci_low, pi.ci_high),
            exponentiate=self._exp(exponentiate),
            xlabel=self.arguments.get("xlabel", "pooled estimate (95% interval)"),
            title=title or f"Pooled estimate as {self.arguments.get('what', 'studies')} accumulate",
        )


def meta_analysis(
    data: pd.DataFrame,
    *,
    estimate: str,
    se: str,
    label: str | None = None,
    method: str = "REML",
    test: str = "knha",
    alpha: float = 0.05,
) -> MetaAnalysisResult:
    """Random-effects meta-analysis of one estimate per row (cohort, program or study).

    Parameters
    ----------
    data
        One row per study, in the order they happened (the cumulative synthesis follows it).
    estimate, se
        Columns of the effect estimates (any scale on which they are roughly normal: log
        hazard ratio, retention difference, difference-in-differences, skill change) and their
        standard errors (finite, > 0). A bad row raises ValueError naming it; none is dropped.
    label
        Optional column naming the studies (row numbers otherwise).
    method
        Between-study variance tau^2: ``"REML"`` (default; Fisher scoring as metafor),
        ``"DL"`` (DerSimonian-Laird) or ``"FE"`` (none: fixed effect).
    test
        ``"knha"`` (Knapp-Hartung / Hartung-Knapp-Sidik-Jonkman, t(k-1); default), ``"adhoc"``
        (Knapp-Hartung with the variance factor truncated at 1, never narrower than ``"z"``)
        or ``"z"`` (normal).
    alpha
        1 - level of the confidence and prediction intervals.

    Returns
    -------
    MetaAnalysisResult
        ``summary`` rows ``pooled``, ``tau2``, ``i2``, ``h2``, ``q``, ``prediction``; columns
        ``metric, estimate, se, ci_low, ci_high, p_value, n`` (studies) and ``df``; fitted
        ``studies_``, ``cumulative_`` and ``fit_``. Equal to metafor's ``rma(yi, sei = sei,
        method = method, test = test)`` and ``predict()`` (see ``tests/test_meta.py``).

    Examples
    --------
    >>> import pandas as pd
    >>> import rm_analytics as rm
    >>> d = pd.DataFrame({"cohort": ["C01", "C02", "C03"], "log_hr": [-0.6, -0.2, -0.4],
    ...                   "se": [0.45, 0.5, 0.4]})
    >>> res = rm.meta_analysis(d, estimate="log_hr", se="se", label="cohort")
    >>> round(float(res.row(metric="pooled").estimate), 4)
    -0.4124
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if test not in TESTS:
        raise ValueError(f"test must be one of {', '.join(TESTS)}, not {test!r}")
    _, y, s, labels = _checked_estimates(data, estimate, se, label, "meta_analysis")
    fit = meta_fit(y, s, method=method, test=test, alpha=alpha)
    rows = [
        {
            "metric": "pooled",
            "estimate": fit.estimate,
            "se": fit.se,
            "ci_low": fit.ci_low,
            "ci_high": fit.ci_high,
            "p_value": fit.p_value,
            "n": fit.k,
            "df": fit.df,
        },
        {"metric": "tau2", "estimate": fit.tau2, "n": fit.k},
        {"metric": "i2", "estimate": fit.i2, "n": fit.k},
        {"metric": "h2", "estimate": fit.h2, "n": fit.k},
        {"metric": "q", "estimate": fit.q, "p_value": fit.q_p_value, "n": fit.k, "df": fit.q_df},
        {
            "metric": "prediction",
            "estimate": fit.estimate,
            "ci_low": fit.pi_low,
            "ci_high": fit.pi_high,
            "n": fit.k,
            "df": fit.df,
        },
    ]
    summary = pd.DataFrame(rows).reindex(columns=META_COLUMNS)
    names = {"REML": "REML", "DL": "DerSimonian-Laird", "FE": "no (fixed effect)"}
    tests = {
        "z": "Wald z test and normal interval",
        "knha": "Knapp-Hartung t test with k - 1 degrees of freedom",
        "adhoc": "Knapp-Hartung t test (variance factor at least 1) with k - 1 degrees of freedom",
    }
    notes = [
        Note(
            f"Random-effects meta-analysis of {fit.k} estimates: {names[method]} between-study "
            f"variance, {tests[test]}; the prediction interval for a new study uses "
            + ("normal" if test == "z" else "t(k - 1)")
            + " quantiles and sqrt(se^2 + tau^2), as metafor's predict().",
            "method",
        )
    ]
    if fit.k < 5 and method != "FE":
        notes.append(
            Note(
                f"With only {fit.k} estimates, how much the true effects differ (tau^2) is "
                "poorly known; the intervals reflect that.",
                "small_sample",
            )
        )
    if method == "REML" and not fit.converged:
        notes.append(
            Note("The REML iterations did not converge; tau^2 may be inaccurate.", "not_estimable")
        )
    res = MetaAnalysisResult(
        summary, notes, estimate=estimate, se=se, label=label, method=method, test=test, alpha=alpha
    )
    studies = pd.DataFrame([_normal_row(a, b, alpha) for a, b in zip(y, s, strict=True)])
    studies.insert(0, "label", labels)
    res.studies_ = studies.drop(columns="p_value").assign(weight=fit.weights)
    cum = []
    for j in range(1, fit.k + 1):
        if j == 1:
            r = {
                "k": 1,
                **_normal_row(y[0], s[0], alpha),
                "tau2": np.nan,
                "i2": np.nan,
                "pi_low": np.nan,
                "pi_high": np.nan,
            }
        else:
            f = meta_fit(y[:j], s[:j], method=method, test=test, alpha=alpha)
            r = {
                "k": j,
                "estimate": f.estimate,
                "se": f.se,
                "ci_low": f.ci_low,
                "ci_high": f.ci_high,
                "p_value": f.p_value,
                "tau2": f.tau2,
                "i2": f.i2,
                "pi_low": f.pi_low,
                "pi_high": f.pi_high,
            }
        cum.append({"label": labels[j - 1], **r})
    res.cumulative_ = pd.DataFrame(cum)
    res.fit_ = fit
    return res


def heterogeneity_statement(
    result: MetaAnalysisResult, *, what: str = "cohorts", show_i2: bool = True
) -> str:
    """How much the studies' results differ, in plain words (from I^2 and the number of
    studies; Higgins et al. 2003's rough bands 25 / 50 / 75%). ``show_i2=False`` leaves out
    the "(I² = ..%)" for readers who do not know it.

    Examples
    --------
    >>> import pandas as pd
    >>> import rm_analytics as rm
    >>> from rm_analytics.metrics.synthesis import heterogeneity_statement
    >>> cohorts = pd.DataFrame({"cohort": ["C1", "C2", "C3"], "log_hr": [-0.6, -0.1, -0.9],
    ...                         "se": [0.35, 0.30, 0.40]})
    >>> res = rm.meta_analysis(cohorts, estimate="log_hr", se="se", label="cohort")
    >>> print(heterogeneity_statement(res))
    The cohorts' results differ somewhat more than chance alone would make them (I² = 30%). With
    only 3 cohorts, this cannot be judged reliably yet.
    """
    fit = result.fit_
    if fit is None:
        raise ValueError("the result has no fit")
    i2 = fit.i2
    if i2 < 25:
        words = f"The {what}' results agree: they differ no more than chance alone would make them"
    elif i2 < 50:
        words = f"The {what}' results differ somewhat more than chance alone would make them"
    elif i2 < 75:
        words = f"The {what}' results differ substantially: the program seems to work better in some than in others"
    else:
        words = f"The {what}' results differ a great deal: the program's effect depends strongly on the {what[:-1]}"
    words += f" (I\u00b2 = {i2:.0f}%)." if show_i2 else "."
    if fit.k <= 3:
        words += f" With only {fit.k} {what}, this cannot be judged reliably yet."
    return words


# ============================================================================================
# Sequential decisions
# ============================================================================================


def sequential_boundaries(
    information: int | Sequence[float],
    *,
    alpha: float = 0.05,
    spending: str = "obrien_fleming",
) -> pd.DataFrame:
    """Two-sided group-sequential boundaries with Lan-DeMets alpha spending.

    Parameters
    ----------
    information
        The number of equally spaced looks, or the information fractions at the looks
        (increasing, ending at 1).
    alpha
        Overall two-sided type I error.
    spending
        ``"obrien_fleming"`` (O'Brien-Fleming-type: strict early, near 1.96 at the end) or
        ``"pocock"`` (Pocock-type: about equal at every look); the two-sided conventions of R's
        rpact (``typeOfDesign = "asOF"`` / ``"asP"``, ``sided = 2``), see
        :mod:`rm_analytics.stats.sequential`.

    Returns
    -------
    pandas.DataFrame
        One row per look: ``look``, ``information`` (fraction), ``z_bound`` (stop when
        ``|z| >= z_bound``), ``nominal_p`` (the two-sided p-value at the boundary) and
        ``cumulative_alpha`` (type I error spent by that look). Equal to rpact's
        ``getDesignGroupSequential(typeOfDesign = "asOF", sided = 2, alpha = 0.05,
        informationRates = ...)$criticalValues`` to 1e-4.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> rm.sequential_boundaries(4).z_bound.round(3).tolist()
    [4.333, 2.963, 2.359, 2.014]
    """
    from scipy import stats

    from ..stats.sequential import sequential_bounds

    if np.ndim(information) and abs(float(np.asarray(information, dtype=float)[-1]) - 1) > 1e-9:
        raise ValueError("information fractions must end at 1 (the last look)")
    frac, cum, bounds = sequential_bounds(information, alpha=alpha, spending=spending)
    return pd.DataFrame(
        {
            "look": np.arange(1, frac.size + 1),
            "information": frac,
            "z_bound": bounds,
            "nominal_p": 2 * stats.norm.sf(bounds),
            "cumulative_alpha": cum,
        }
    )


def planned_information(
    hazard_ratio: float = PRIOR_HAZARD_RATIO,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    looks: int = 4,
    spending: str = "obrien_fleming",
    controls_per_participant: float = 2.0,
) -> dict[str, float]:
    """The statistical information (and leavers) a sequential plan needs for the log hazard
    ratio, set before the first cohort.

    The fixed-design information is Schoenfeld's ``((z_{1-a/2} + z_{1-b}) / log HR)^2``; the
    sequential design needs ``inflation_factor`` times more (computed from the boundaries; for
    4 O'Brien-Fleming-type looks about 1.02). Leavers needed follow from ``information =
    events p (1 - p)`` with ``p`` the share of participants among the people compared
    (:func:`rm_analytics.power.retention_sample_size` with ``method="schoenfeld"`` gives the
    fixed-design events).

    Returns
    -------
    dict
        ``fixed_information``, ``inflation_factor``, ``max_information`` (pass it as the
        plan's total information), ``events`` (leavers over both groups) and ``looks``.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> plan = rm.planned_information(0.7, looks=4)
    >>> round(plan["max_information"], 1), round(plan["events"])
    (62.9, 283)

    To detect a hazard ratio of 0.7 with 80% power over four looks, the plan needs about 283
    leavers in all: far more than one pilot provides, hence a synthesis across cohorts.
    """
    from ..stats.sequential import inflation_factor, sequential_bounds
    from .power import retention_sample_size

    if not 0 < hazard_ratio < 1:
        raise ValueError(f"hazard_ratio must be between 0 and 1 (a reduction), not {hazard_ratio}")
    k = 1.0 / controls_per_participant  # participants per control
    fixed_events = retention_sample_size(
        hazard_ratio=hazard_ratio,
        p_event_control=0.5,
        power=power,
        alpha=alpha,
        ratio=k,
        method="schoenfeld",
    ).events
    share = k / (1 + k)
    fixed_info = fixed_events * share * (1 - share)
    frac, _, bounds = sequential_bounds(looks, alpha=alpha, spending=spending)
    infl = inflation_factor(bounds, frac, alpha=alpha, power=power)
    return {
        "fixed_information": float(fixed_info),
        "inflation_factor": infl,
        "max_information": float(fixed_info * infl),
        "events": float(fixed_events * infl),
        "looks": looks,
    }


class SequentialResult(Result):
    """The sequential monitoring of a program (see :func:`sequential_monitor`).

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per look (observed, then the plan's remaining looks with ``status ==
        "planned"``): ``metric`` (``cumulative_estimate``), ``look, label, information`` (cumulative statistical information),
        ``fraction`` (spending time), ``estimate, se`` (pooled fixed-effect estimate so far),
        ``z`` (evidence of benefit: positive when the program does better), ``z_bound``,
        ``cumulative_alpha``, ``conditional_power`` and ``status``.
    status_ : str
        The program's status now: the decision when a boundary was crossed, else the status
        at the latest observed look within the plan (its final look once more cohorts than
        planned have been seen: the later ones do not change the plan's verdict).
    decision_look_ : int or None
        The look at which a boundary was crossed.
    status_look_ : int
        The look ``status_`` was taken at.
    """

    title = "Sequential monitoring"

    def __init__(self, summary, notes, **arguments):
        super().__init__(summary, notes, **arguments)
        self.status_: str = ""
        self.decision_look_: int | None = None
        self.status_look_: int = 0

    def plot(self, ax=None, *, title: str | None = None):
        """The z-statistic look by look against the boundaries. Returns the axes."""
        from ..plotting.forest import z_path_plot

        s = self.summary
        labels = [
            f"{lab}" if st != PLANNED else f"look {lk}"
            for lab, st, lk in zip(s.label, s.status, s.look, strict=True)
        ]
        kw = {"title": title} if title else {}
        return z_path_plot(s.assign(label=labels), ax=ax, **kw)


def _projected_info(info: np.ndarray, looks: int, max_information: float | None) -> np.ndarray:
    """Information at the plan's remaining looks: the plan's total spread evenly, or (plan by
    cohorts) the average information per look so far."""
    j = info.size
    if j >= looks:
        return np.array([])
    if max_information:
        return np.linspace(info[-1], max(max_information, info[-1] * 1.0001), looks - j + 1)[1:]
    return info[-1] * np.arange(j + 1, looks + 1) / j


def sequential_monitor(
    data: pd.DataFrame,
    *,
    estimate: str,
    se: str,
    label: str | None = None,
    looks: int = 4,
    max_information: float | None = None,
    alpha: float = 0.05,
    spending: str = "obrien_fleming",
    better: str = "lower",
    futility: float | None = 0.0,
    futility_from: float = 0.5,
) -> SequentialResult:
    """Sequential decisions on the evidence after each cohort (one row per cohort, in order).

    The statistic at look ``j`` is the inverse-variance (fixed-effect) z of the first ``j``
    estimates, ``z_j = sum w_i y_i / sqrt(I_j)``, ``I_j = sum 1 / se_i^2`` (for Peto's log
    hazard ratios this is the log-rank z stratified by cohort); under "no effect in any cohort"
    these are the canonical group-sequential statistics. It is signed so that positive is
    benefit (``better="lower"``: a lower estimate is better, e.g. a log hazard ratio).

    Boundaries are two-sided (:func:`sequential_boundaries`), computed at the observed looks
    (Lan-DeMets): the correlations follow the information actually gathered, and the error is
    spent at time ``t_j = j / looks`` (a plan by cohorts, ``max_information`` None) or
    ``t_j = I_j / max_information`` (a plan by information). The look where ``t_j`` reaches 1,
    or look ``looks``, is the final one (all remaining error is spent there).

    Statuses: ``"decide now: effective"`` (z at or above the boundary), ``"stop: harmful"``
    (at or below minus the boundary), ``"final look: benefit not demonstrated"``, and at
    interim looks ``"futility: stop"`` when ``futility`` is set, the spending time is at least
    ``futility_from`` and ``z <= futility`` (default 0: half-way through the plan the
    participants do no better than the controls; the inefficacy rule of Freidlin, Korn & Gray
    2010, which costs little power), else ``"keep going"``. The futility rule is non-binding:
    the boundaries ignore it, so the type I error is kept whether or not the program stops.
    After a decision later looks read ``"decided earlier"``; looks beyond the plan ``"after
    the plan's last look"``. ``conditional_power`` (informative only) is the chance of ending
    above the final boundary if the current trend continues (Brownian-motion approximation,
    final boundary of the plan as projected).

    Returns
    -------
    SequentialResult
        See the class for the columns.

    Examples
    --------
    >>> import pandas as pd
    >>> import rm_analytics as rm
    >>> cohorts = pd.DataFrame({"cohort": ["C1", "C2", "C3"], "log_hr": [-0.6, -0.1, -0.9],
    ...                         "se": [0.35, 0.30, 0.40]})
    >>> res = rm.sequential_monitor(cohorts, estimate="log_hr", se="se", label="cohort", looks=4)
    >>> cols = ["look", "label", "fraction", "z", "z_bound", "status"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
     look  label  fraction     z  z_bound     status
        1     C1      0.25 1.714    4.333 keep going
        2     C2      0.50 1.369    2.963 keep going
        3     C3      0.75 2.303    2.351 keep going
        4 look 4      1.00   NaN    2.013    planned

    After the third cohort the evidence (z = 2.30) is close to, but not past, the O'Brien-Fleming
    boundary (2.35): keep going.
    """
    from ..stats.sequential import alpha_spent, conditional_power, two_sided_bounds

    if spending not in SPENDING:
        raise ValueError(f"spending must be one of {', '.join(SPENDING)}, not {spending!r}")
    if not (isinstance(looks, (int, np.integer)) and looks >= 1):
        raise ValueError(f"looks must be a whole number >= 1, not {looks!r}")
    if max_information is not None and not max_information > 0:
        raise ValueError(f"max_information must be > 0 or None, not {max_information!r}")
    if better not in ("lower", "higher"):
        raise ValueError(f"better must be 'lower' or 'higher', not {better!r}")
    _, y, s, labels = _checked_estimates(data, estimate, se, label, "sequential_monitor")
    z_fe, info = fixed_effect_z(y, s)
    sign = -1.0 if better == "lower" else 1.0
    z = sign * z_fe
    pooled = np.cumsum(y / s**2) / info
    if max_information:
        t = np.minimum(info / max_information, 1.0)
    else:
        t = np.arange(1, y.size + 1) / looks
    final = np.flatnonzero((t >= 1) | (np.arange(1, y.size + 1) >= looks))
    n_plan = int(final[0]) + 1 if final.size else y.size
    t = np.minimum(t, 1.0)
    if final.size:
        t[final[0]] = 1.0
    in_plan = np.arange(y.size) < n_plan
    bounds = np.full(y.size, np.nan)
    cum = np.full(y.size, np.nan)
    cum[in_plan] = alpha_spent(t[in_plan], alpha, spending)
    bounds[in_plan] = two_sided_bounds(cum[in_plan], info[in_plan])
    # the plan's remaining looks, projected (for the picture and the conditional power)
    if not final.size:
        f_info = _projected_info(info, looks, max_information)
        f_t = (
            np.minimum(f_info / max_information, 1.0)
            if max_information
            else np.arange(y.size + 1, looks + 1) / looks
        )
        if f_t.size:
            f_t[-1] = 1.0
        all_info = np.concatenate([info, f_info])
        all_cum = alpha_spent(np.concatenate([t, f_t]), alpha, spending)
        all_bounds = two_sided_bounds(all_cum, all_info)
        f_bounds, f_cum, final_bound = all_bounds[y.size :], all_cum[y.size :], all_bounds[-1]
    else:
        f_info = f_t = f_bounds = f_cum = np.array([])
        final_bound = bounds[n_plan - 1]
    status, cp, decided = [], np.full(y.size, np.nan), None
    for j in range(y.size):
        if j >= n_plan:
            status.append(DECIDED if decided else AFTER_PLAN)
            continue
        if decided is not None:
            status.append(DECIDED)
            continue
        is_final = j == n_plan - 1 and final.size > 0
        if not is_final:
            cp[j] = conditional_power(z[j], t[j], final_bound)
        if z[j] >= bounds[j]:
            status.append(EFFECTIVE)
            decided = j + 1
        elif z[j] <= -bounds[j]:
            status.append(HARMFUL)
            decided = j + 1
        elif is_final:
            status.append(NOT_DEMONSTRATED)
        elif futility is not None and t[j] >= futility_from and z[j] <= futility:
            status.append(FUTILITY)
        else:
            status.append(KEEP_GOING)
    rows = pd.DataFrame(
        {
            "look": np.arange(1, y.size + 1),
            "label": labels,
            "information": info,
            "fraction": np.where(in_plan, t, np.nan),
            "estimate": pooled,
            "se": 1 / np.sqrt(info),
            "z": z,
            "z_bound": bounds,
            "cumulative_alpha": cum,
            "conditional_power": cp,
            "status": status,
        }
    )
    if f_info.size:
        planned = pd.DataFrame(
            {
                "look": np.arange(y.size + 1, looks + 1),
                "label": [f"look {i}" for i in range(y.size + 1, looks + 1)],
                "information": f_info,
                "fraction": f_t,
                "z_bound": f_bounds,
                "cumulative_alpha": f_cum,
                "status": PLANNED,
            }
        )
        rows = pd.concat([rows, planned], ignore_index=True)
    plan = (
        f"a total information of {max_information:.3g}"
        if max_information
        else f"{looks} looks, one per cohort"
    )
    kind = "O'Brien-Fleming" if spending == "obrien_fleming" else "Pocock"
    notes = [
        Note(
            f"Plan: {plan}; {kind}-type alpha spending, two-sided alpha {alpha:g} (Lan-DeMets). "
            "The evidence after each look is the fixed-effect z of the cohorts so far "
            "(positive: the program does better).",
            "method",
        )
    ]
    if futility is not None:
        notes.append(
            Note(
                f"Non-binding futility rule: at interim looks from {futility_from:.0%} of the "
                "plan, stop when the evidence is at or below "
                + ("no effect (z <= 0)" if futility == 0 else f"z = {futility:g}")
                + ": participants doing no better than controls half-way through.",
                "method",
            )
        )
    rows.insert(0, "metric", "cumulative_estimate")
    res = SequentialResult(
        rows,
        notes,
        estimate=estimate,
        se=se,
        label=label,
        looks=looks,
        max_information=max_information,
        alpha=alpha,
        spending=spending,
        better=better,
        futility=futility,
        futility_from=futility_from,
    )
    res.status_look_ = decided or min(y.size, n_plan)
    res.status_ = status[res.status_look_ - 1]
    res.decision_look_ = decided
    return res


# ============================================================================================
# Probability of benefit
# ============================================================================================


def probability_of_benefit(
    estimate: float,
    se: float,
    *,
    better: str = "lower",
    effect: float = math.log(PRIOR_HAZARD_RATIO),
    tail: float = PRIOR_TAIL,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Posterior probability that the true effect is on the good side of "no effect".

    Two priors, both normal and centred at no effect (0 on the estimate's scale, e.g. the log
    hazard ratio):

    * ``sceptical``: a spread such that an effect at least as large as ``effect`` (default
      log 0.7: a 30% lower hazard of leaving) has prior probability ``tail`` (5%): the data
      must overcome the doubt (Spiegelhalter, Freedman & Parmar 1994);
    * ``neutral``: flat (every effect equally plausible beforehand): the probability equals
      one minus the one-sided p-value.

    The likelihood is normal, ``estimate ~ N(theta, se^2)``; the posterior is normal in closed
    form (:mod:`rm_analytics.stats.bayes`). A supporting statement beside the primary
    estimate, never a replacement.

    Returns
    -------
    pandas.DataFrame
        Rows ``prior`` = ``sceptical``, ``neutral``; columns ``prior_mean, prior_sd,
        estimate`` (posterior mean), ``ci_low, ci_high`` (posterior ``1 - alpha`` interval),
        ``probability`` (of benefit: effect below 0 for ``better="lower"``, above 0 for
        ``"higher"``).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> p = rm.probability_of_benefit(-0.35, 0.2)
    >>> p.probability.round(3).tolist()
    [0.901, 0.96]
    """
    from scipy import stats

    from ..stats.bayes import normal_posterior, sceptical_prior_sd

    if better not in ("lower", "higher"):
        raise ValueError(f"better must be 'lower' or 'higher', not {better!r}")
    z = float(stats.norm.ppf(1 - alpha / 2))
    rows = []
    for name, sd in (("sceptical", sceptical_prior_sd(effect, tail)), ("neutral", math.inf)):
        m, s = normal_posterior(estimate, se, 0.0, sd)
        below = float(stats.norm.cdf(-m / s))
        rows.append(
            {
                "prior": name,
                "prior_mean": 0.0,
                "prior_sd": sd,
                "estimate": m,
                "ci_low": m - z * s,
                "ci_high": m + z * s,
                "probability": below if better == "lower" else 1 - below,
            }
        )
    return pd.DataFrame(rows)


def prior_statement(
    effect: float = math.log(PRIOR_HAZARD_RATIO),
    tail: float = PRIOR_TAIL,
    *,
    outcome: str = "retention",
) -> str:
    """The sceptical prior's meaning in one sentence a sponsor can read.

    Examples
    --------
    >>> from rm_analytics.metrics.synthesis import prior_statement
    >>> print(prior_statement())
    The starting assumption is deliberately sceptical: before seeing the data, the program most
    likely makes no difference, with only a 5% chance that it cuts voluntary exits by 30% or more.
    """
    if outcome == "retention":
        cut = 1 - math.exp(-abs(effect))
        what = f"cuts voluntary exits by {cut:.0%} or more"
    else:
        what = f"raises engagement by {abs(effect):.2g} points or more"
    return (
        "The starting assumption is deliberately sceptical: before seeing the data, the program "
        f"most likely makes no difference, with only a {tail:.0%} chance that it {what}."
    )


# ============================================================================================
# The pilot: per-cohort estimates and their synthesis
# ============================================================================================

RETENTION_OUTCOMES = ("auto", "log_hr", "rmst", "attrition")
OUTCOMES = ("retention", "engagement", "skills")
_SCALES = {
    "log_hr": "log hazard ratio of leaving voluntarily, participants vs control",
    "rmst": "difference in months retained (restricted mean), participants minus control",
    "attrition": "difference in retention at the horizon, participants minus control",
    "engagement": "difference-in-differences of the engagement index (points, 1-5)",
    "skills": "skill change beyond the control group (points)",
}
_BETTER = {
    "log_hr": "lower",
    "rmst": "higher",
    "attrition": "higher",
    "engagement": "higher",
    "skills": "higher",
}


class SynthesisResult(Result):
    """Cross-cohort synthesis of a pilot (see :func:`pilot_synthesis`).

    Attributes
    ----------
    summary : pandas.DataFrame
        Per outcome: the synthesis rows ``pooled``, ``tau2``, ``i2``, ``prediction`` (from
        :func:`meta_analysis`) and ``pooled_analysis`` (the single analysis of all cohorts
        together, as the report's outcome sections compute it); columns ``metric, outcome,
        estimate, ci_low, ci_high, p_value, n`` (cohorts, or people for ``pooled_analysis``),
        ``se`` and ``scale``.
    cohorts_ : pandas.DataFrame
        One row per outcome and cohort (start order): ``outcome, cohort_id, estimate, se,
        ci_low, ci_high, n_treated, n_control, status`` (``ok`` or ``not estimable``) and
        ``reason``. Cohorts without an estimate are listed with the reason, never dropped.
    meta_ : dict
        :class:`MetaAnalysisResult` per outcome with at least two cohort estimates.
    heterogeneity_ : dict
        Plain-language heterogeneity sentence per outcome.
    sequential_ : SequentialResult or None
        Sequential monitoring of the retention outcome (when ``looks`` is given).
    benefit_ : pandas.DataFrame
        :func:`probability_of_benefit` rows per outcome (``outcome`` column added).
    retention_outcome_ : str
        The retention scale used (``log_hr``, ``rmst`` or ``attrition``).
    """

    title = "Across cohorts"

    def __init__(self, summary, notes, **arguments):
        super().__init__(summary, notes, **arguments)
        self.cohorts_: pd.DataFrame = pd.DataFrame()
        self.meta_: dict[str, MetaAnalysisResult] = {}
        self.heterogeneity_: dict[str, str] = {}
        self.sequential_: SequentialResult | None = None
        self.benefit_: pd.DataFrame = pd.DataFrame()
        self.retention_outcome_: str = ""

    @property
    def not_estimable_(self) -> pd.DataFrame:
        """The cohorts without an estimate, with the reason."""
        c = self.cohorts_
        return c[c.status != "ok"].reset_index(drop=True)

    def plot(self, ax=None, *, outcome: str = "retention"):
        """Cumulative forest plot of ``outcome`` (hazard ratios for the log hazard ratio).
        Returns the axes."""
        if outcome not in self.meta_:
            raise InsufficientDataError(
                f"no synthesis of {outcome!r} (fewer than two cohort estimates)"
            )
        return self.meta_[outcome].plot_cumulative(ax=ax)

    def plot_forest(self, ax=None, *, outcome: str = "retention"):
        """Forest plot of ``outcome``: each cohort and the synthesis. Returns the axes."""
        if outcome not in self.meta_:
            raise InsufficientDataError(
                f"no synthesis of {outcome!r} (fewer than two cohort estimates)"
            )
        return self.meta_[outcome].plot(ax=ax)


def _peto(frame: pd.DataFrame) -> tuple[float, float, int]:
    """Peto's one-step log hazard ratio (O - E) / V and its SE 1 / sqrt(V), from the log-rank
    test (treated vs control); NaN when there is no voluntary exit."""
    from .retention import logrank_test

    lr = logrank_test(frame.duration, frame.event, frame.treated)
    n_ev = int(frame.event.sum())
    if not lr.variance > 0:
        return float("nan"), float("nan"), n_ev
    return (lr.observed - lr.expected) / lr.variance, 1 / math.sqrt(lr.variance), n_ev


def _retention_rows(
    frame: pd.DataFrame, cohorts: list[str], outcome: str, horizon: float, k: int
) -> list[dict]:
    from .retention import compare_retention

    rows = []
    for c in cohorts:
        f = frame[frame.cohort_id.astype(str) == c]
        n_t, n_c = int((f.treated == 1).sum()), int((f.treated == 0).sum())
        row = {
            "cohort_id": c,
            "n_treated": n_t,
            "n_control": n_c,
            "estimate": np.nan,
            "se": np.nan,
            "reason": "",
        }
        if n_t == 0 or n_c == 0:
            row["reason"] = "no " + ("participants" if n_t == 0 else "controls") + " to compare"
        elif n_t < k or n_c < k:
            row["reason"] = f"fewer than {k} participants or controls"
        elif outcome == "log_hr":
            est, se, n_ev = _peto(f)
            if n_ev == 0:
                row["reason"] = "no voluntary exit yet, so no information on the hazard ratio"
            else:
                row.update(estimate=est, se=se)
        else:
            r = compare_retention(
                f,
                duration="duration",
                event="event",
                group="treated",
                treated=1,
                horizons=[horizon],
                tau=horizon,
                competing="competing",
                ph_check=False,
            )
            if outcome == "rmst":
                d = r.row(metric="rmst_difference")
                est, se = float(d.estimate), float(d.se)
                no_exit = any(
                    float(r.summary.query("metric == 'rmst' and group == @g").n_events.iloc[0]) == 0
                    for g in ("treated", "control")
                )
            else:
                a = r.attrition_at(horizon)
                est, se = a["difference"], a["se_difference"]
                no_exit = a["ci_method"] == "mover"
            if not np.isfinite(est):
                row["reason"] = f"follow-up shorter than {horizon:g} months"
            elif no_exit or not (np.isfinite(se) and se > 0):
                row["reason"] = (
                    f"a group had no voluntary exit by {horizon:g} months, so its standard "
                    "error is zero and the cohort would get unlimited weight"
                )
            else:
                row.update(estimate=est, se=se)
        rows.append(row)
    return rows


def _engagement_rows(
    pilot, cohorts: list[str], k: int, alpha: float, seed: int | None
) -> list[dict]:
    from .engagement import pilot_engagement

    rows = []
    for c in cohorts:
        row = {"cohort_id": c, "estimate": np.nan, "se": np.nan, "reason": ""}
        try:
            r = pilot_engagement(pilot.select(c), alpha=alpha, event_study_check=False, seed=seed)
        except (ValueError, KeyError) as err:
            row["reason"] = f"not estimable ({err})"
            rows.append(row)
            continue
        s = r.summary
        m = s[(s.metric == "engagement_index") & (s.role == "both")]
        if len(m) and np.isfinite(m.estimate.iloc[0]) and m.n_treated.iloc[0] < k:
            row["reason"] = f"fewer than {k} participants answered both surveys"
        elif m.empty or not np.isfinite(m.estimate.iloc[0]):
            w = r.waves_
            ww = w[w.cohort_id.astype(str) == c] if len(w) else w
            if len(ww) and (ww.baseline.isna().iloc[0] or ww.followup.isna().iloc[0]):
                row["reason"] = "no engagement survey " + (
                    "before the cohort started"
                    if ww.baseline.isna().iloc[0]
                    else "after the cohort ended yet"
                )
            else:
                row["reason"] = f"fewer than {k} participants answered both surveys"
        else:
            m = m.iloc[0]
            row.update(n_treated=m.n_treated, n_control=m.n_control)
            if not (np.isfinite(m.se) and m.se > 0):
                row["reason"] = "too few people for a standard error"
            else:
                row.update(estimate=float(m.estimate), se=float(m.se))
        rows.append(row)
    return rows


def _skills_rows(pilot, cohorts: list[str], role: str, k: int, alpha: float) -> list[dict]:
    from .skills import pilot_skills

    rows = []
    for c in cohorts:
        row = {"cohort_id": c, "estimate": np.nan, "se": np.nan, "reason": ""}
        try:
            s = pilot_skills(pilot.select(c), alpha=alpha).summary
        except (ValueError, KeyError) as err:
            row["reason"] = f"not estimable ({err})"
            rows.append(row)
            continue
        m = s[(s.metric == "change_vs_control") & (s.role == role)]
        if m.empty:
            row["reason"] = "no pre and post assessments of participants and controls"
        else:
            m = m.iloc[0]
            row.update(n_treated=m.n, n_control=m.n_control)
            if (
                m.n < k
                or m.n_control < k
                or not (np.isfinite(m.estimate) and np.isfinite(m.se) and m.se > 0)
            ):
                row["reason"] = f"fewer than {k} participants or controls assessed twice"
            else:
                row.update(estimate=float(m.estimate), se=float(m.se))
        rows.append(row)
    return rows


def _finish_cohort_rows(rows: list[dict], outcome: str, alpha: float) -> pd.DataFrame:
    from scipy import stats

    z = float(stats.norm.ppf(1 - alpha / 2))
    df = pd.DataFrame(rows).reindex(
        columns=["cohort_id", "estimate", "se", "n_treated", "n_control", "reason"]
    )
    df.insert(0, "outcome", outcome)
    ok = np.isfinite(df.estimate.astype(float))
    df.insert(4, "ci_low", np.where(ok, df.estimate - z * df.se, np.nan))
    df.insert(5, "ci_high", np.where(ok, df.estimate + z * df.se, np.nan))
    df["status"] = np.where(ok, "ok", "not estimable")
    df.loc[ok, "reason"] = ""
    return df


def pilot_synthesis(
    pilot,
    *,
    outcomes: Sequence[str] = OUTCOMES,
    retention: str = "auto",
    population: str = "mentor",
    horizon: float = 12,
    as_of: str | pd.Timestamp | None = None,
    method: str = "REML",
    test: str = "adhoc",
    alpha: float = 0.05,
    min_cell_size: int = 5,
    looks: int | None = None,
    max_information: float | None = None,
    spending: str = "obrien_fleming",
    futility: float | None = 0.0,
    prior_hazard_ratio: float = PRIOR_HAZARD_RATIO,
    prior_engagement: float = PRIOR_ENGAGEMENT_POINTS,
    prior_tail: float = PRIOR_TAIL,
    retention_fit=None,
    seed: int | None = DEFAULT_SEED,
) -> SynthesisResult:
    """Per-cohort estimates of the headline outcomes, their synthesis and what it means.

    Parameters
    ----------
    pilot
        A :class:`~rm_analytics.Pilot` with two or more cohorts.
    outcomes
        Any of ``"retention"``, ``"engagement"``, ``"skills"``.
    retention
        The retention estimate per cohort: ``"log_hr"``, Peto's log hazard ratio
        ``(O - E) / V`` from the cohort's log-rank test, SE ``1 / sqrt(V)`` (defined whenever
        the cohort has a voluntary exit, also when one group has none, where a Cox model
        diverges; the fixed-effect pool of these is the log-rank test stratified by cohort);
        ``"rmst"``, the difference in restricted mean months retained up to ``horizon``
        (survRM2 SE); ``"attrition"``, the difference in Kaplan-Meier retention at
        ``horizon`` (Greenwood SE). ``"auto"`` (default): ``log_hr`` when at least two cohorts
        have a voluntary exit, else ``rmst``, else ``attrition``. With ``rmst`` and
        ``attrition`` a cohort where a group had no exit is not estimable (its Greenwood SE
        is 0).
    population, horizon, as_of
        Whose retention (``"mentor"``, ``"mentee"``, ``"both"``), the horizon in months and
        the analysis date, as :func:`rm_analytics.pilot_retention`. Each cohort's estimate
        uses the pooled analysis frame (same people, same controls) restricted to the cohort.
    method, test, alpha
        Of :func:`meta_analysis`. ``test="adhoc"`` (default here): Knapp-Hartung with t(k-1)
        quantiles and a variance factor of at least 1, so a handful of cohorts that happen to
        agree closely never get an interval narrower than the normal one.
    min_cell_size
        Cohorts with fewer participants or controls than this are listed, not estimated
        (an inclusion rule of the synthesis: a handful of people gives no usable estimate).
    looks, max_information, spending, futility
        The sequential plan for the retention outcome (:func:`sequential_monitor`); None
        ``looks``: no monitoring.
    prior_hazard_ratio, prior_engagement, prior_tail
        The sceptical priors of :func:`probability_of_benefit`: a ``prior_tail`` chance of a
        hazard ratio at or below ``prior_hazard_ratio`` and of an engagement gain of
        ``prior_engagement`` points or more.
    retention_fit
        The pilot's pooled :func:`rm_analytics.pilot_retention` result when already computed
        (its analysis frame and pooled estimates are reused; ``population`` and ``as_of`` are
        then those of that fit).
    seed
        Seeds the resampling of the analyses it runs (the pooled retention's RMST permutation
        test, a wild cluster bootstrap of the engagement analysis).

    Returns
    -------
    SynthesisResult
        See the class. The probability of benefit (retention on the log hazard ratio scale,
        and engagement) takes the synthesis estimate with the standard error its interval
        implies, ``(ci_high - ci_low) / (2 z_{1-alpha/2})`` (Knapp-Hartung with t(k-1): wider
        than the z-test's when cohorts are few), so that with the neutral prior the
        probability agrees with the interval shown beside it (the interval excludes no effect
        exactly when the probability exceeds ``1 - alpha/2``).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.pilot_synthesis(rm.load_sample(), looks=4)
    >>> cols = ["metric", "outcome", "estimate", "ci_low", "ci_high", "p_value"]
    >>> print(res.summary[cols].head(6).round(3).to_string(index=False))
             metric    outcome  estimate  ci_low  ci_high  p_value
    pooled_analysis  retention    -0.863  -2.396    0.671    0.270
             pooled  retention    -0.606 -10.664    9.452    0.584
               tau2  retention     0.334     NaN      NaN      NaN
                 i2  retention    19.380     NaN      NaN      NaN
         prediction  retention    -0.606 -13.057   11.844      NaN
    pooled_analysis engagement     0.427   0.185    0.668    0.001
    >>> cohorts = res.cohorts_[["outcome", "cohort_id", "estimate", "se", "status"]]
    >>> print(cohorts.head(3).round(3).to_string(index=False))
      outcome cohort_id  estimate    se        status
    retention       C01    -1.050 0.700            ok
    retention       C02     0.805 1.511            ok
    retention       C03       NaN   NaN not estimable

    Retention is on the log hazard-ratio scale: the pooled analysis (-0.86, a hazard ratio of
    0.42) and the random-effects synthesis of the two completed cohorts both lean towards fewer
    exits, with intervals that include none. The running third cohort cannot be estimated yet.
    """
    from .retention import pilot_retention

    population = normalise_role(population, argument="population")
    unknown = set(outcomes) - set(OUTCOMES)
    if unknown:
        raise ValueError(f"unknown outcome(s) {sorted(unknown)}; outcomes are {OUTCOMES}")
    if retention not in RETENTION_OUTCOMES:
        raise ValueError(f"retention must be one of {RETENTION_OUTCOMES}, not {retention!r}")
    cohorts = [str(c) for c in pilot.cohorts.sort_values(["start_date", "cohort_id"]).cohort_id]
    if len(cohorts) < 2:
        raise InsufficientDataError("a synthesis across cohorts needs two or more cohorts")
    frames, summary_rows = [], []
    res = SynthesisResult(
        pd.DataFrame(),
        [],
        outcomes=list(outcomes),
        method=method,
        test=test,
        alpha=alpha,
        horizon=horizon,
        population=population,
        seed=seed,
    )
    pooled: dict[str, dict[str, float]] = {}
    if "retention" in outcomes:
        r = retention_fit
        if r is None:
            r = pilot_retention(
                pilot,
                population=population,
                as_of=as_of,
                horizons=(horizon,),
                alpha=alpha,
                seed=seed,
            )
        frame = r.frame_
        kind = retention
        if kind == "auto":
            per = frame.groupby(frame.cohort_id.astype(str)).event.sum()
            kind = "log_hr" if int((per > 0).sum()) >= 2 else "rmst"
            if kind == "rmst":
                rows = _retention_rows(frame, cohorts, "rmst", horizon, min_cell_size)
                if sum(np.isfinite(x["estimate"]) for x in rows) < 2:
                    kind = "attrition"
        res.retention_outcome_ = kind
        frames.append(
            _finish_cohort_rows(
                _retention_rows(frame, cohorts, kind, horizon, min_cell_size), "retention", alpha
            )
        )
        if kind == "log_hr":
            hr = r.row(metric="hazard_ratio")
            lr = r.logrank_
            peto = (lr.observed - lr.expected) / lr.variance if lr.variance > 0 else np.nan
            pooled["retention"] = {
                "estimate": math.log(hr.estimate) if np.isfinite(hr.estimate) else np.nan,
                "se": float(hr.se),
                "ci_low": math.log(hr.ci_low) if np.isfinite(hr.ci_low) else np.nan,
                "ci_high": math.log(hr.ci_high) if np.isfinite(hr.ci_high) else np.nan,
                "p_value": float(hr.p_value),
                "n": float(hr.n),
            }
            res.note(
                "Retention per cohort: Peto's log hazard ratio from each cohort's log-rank test "
                "((observed - expected) / variance); the pooled analysis is the Cox model "
                f"stratified by cohort (Peto's stratified estimate {peto:.3f}).",
                "method",
            )
        elif kind == "rmst":
            d = r.row(metric="rmst_difference")
            pooled["retention"] = {
                k: float(d[k]) for k in ("estimate", "se", "ci_low", "ci_high", "p_value", "n")
            }
        else:
            a = r.attrition_at(horizon)
            pooled["retention"] = {
                "estimate": a["difference"],
                "se": a["se_difference"],
                "ci_low": a["ci_low"],
                "ci_high": a["ci_high"],
                "p_value": a["p_value"],
                "n": a["n_treated"] + a["n_control"],
            }
    if "engagement" in outcomes and pilot.surveys is not None:
        from .engagement import pilot_engagement

        frames.append(
            _finish_cohort_rows(
                _engagement_rows(pilot, cohorts, min_cell_size, alpha, seed), "engagement", alpha
            )
        )
        e = pilot_engagement(pilot, alpha=alpha, event_study_check=False, seed=seed).summary
        m = e[(e.metric == "engagement_index") & (e.role == "both")]
        if len(m) and np.isfinite(m.estimate.iloc[0]) and m.n_treated.iloc[0] >= min_cell_size:
            m = m.iloc[0]
            pooled["engagement"] = {
                k: float(m[k]) for k in ("estimate", "se", "ci_low", "ci_high", "p_value", "n")
            }
    elif "engagement" in outcomes:
        res.note("No surveys: no engagement synthesis.", "missing_data")
    if "skills" in outcomes and pilot.skills is not None:
        from .skills import pilot_skills

        s = pilot_skills(pilot, alpha=alpha).summary
        vs = s[s.metric == "change_vs_control"]
        role = str(vs.role.iloc[0]) if len(vs) else "mentor"
        frames.append(
            _finish_cohort_rows(
                _skills_rows(pilot, cohorts, role, min_cell_size, alpha), "skills", alpha
            )
        )
        big = len(vs) and min(vs.n.iloc[0], vs.n_control.iloc[0]) >= min_cell_size
        if big and np.isfinite(vs.estimate.iloc[0]):
            m = vs.iloc[0]
            pooled["skills"] = {
                k: float(m[k]) for k in ("estimate", "se", "ci_low", "ci_high", "p_value", "n")
            }
        res.note(f"Skills per cohort: the {role}s' change beyond the control group's.", "method")
    elif "skills" in outcomes:
        res.note("No skill assessments: no skills synthesis.", "missing_data")
    cohort_rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    res.cohorts_ = cohort_rows
    benefit = []
    for outcome in [o for o in outcomes if o in set(cohort_rows.get("outcome", []))]:
        rows = cohort_rows[(cohort_rows.outcome == outcome) & (cohort_rows.status == "ok")]
        scale_key = res.retention_outcome_ if outcome == "retention" else outcome
        scale = _SCALES[scale_key]
        missing = cohort_rows[(cohort_rows.outcome == outcome) & (cohort_rows.status != "ok")]
        if len(missing):
            res.note(
                f"{outcome.capitalize()}: {len(missing)} cohort(s) without an estimate: "
                + "; ".join(
                    f"{c} ({why})" for c, why in zip(missing.cohort_id, missing.reason, strict=True)
                )
                + ".",
                "not_estimable",
            )
        if outcome in pooled:
            summary_rows.append(
                {"outcome": outcome, "metric": "pooled_analysis", **pooled[outcome], "scale": scale}
            )
        if len(rows) < 2:
            res.note(
                f"{outcome.capitalize()}: fewer than two cohort estimates, no synthesis.",
                "not_estimable",
            )
            continue
        meta = meta_analysis(
            rows,
            estimate="estimate",
            se="se",
            label="cohort_id",
            method=method,
            test=test,
            alpha=alpha,
        )
        meta.arguments["exponentiate"] = scale_key == "log_hr"
        meta.arguments["xlabel"] = {
            "log_hr": "hazard ratio of leaving, participants vs control (95% interval)",
            "rmst": "months retained, difference (95% interval)",
            "attrition": "retention difference (95% interval)",
            "engagement": "engagement change vs control, points (95% interval)",
            "skills": "skill change vs control, points (95% interval)",
        }[scale_key]
        meta.title = f"{outcome.capitalize()} across cohorts"
        meta.arguments["what"] = "cohorts"
        res.meta_[outcome] = meta
        res.heterogeneity_[outcome] = heterogeneity_statement(meta)
        for _, row in meta.summary.iterrows():
            if row.metric in ("pooled", "tau2", "i2", "prediction"):
                summary_rows.append(
                    {"outcome": outcome, **row.drop("df").to_dict(), "scale": scale}
                )
        if outcome in ("retention", "engagement") and (
            outcome != "retention" or scale_key == "log_hr"
        ):
            # the normal likelihood that reproduces the synthesis interval
            from scipy import stats

            p = meta.row(metric="pooled")
            se_eff = (p.ci_high - p.ci_low) / (2 * stats.norm.ppf(1 - alpha / 2))
            effect = math.log(prior_hazard_ratio) if outcome == "retention" else prior_engagement
            b = probability_of_benefit(
                p.estimate,
                se_eff,
                better=_BETTER[scale_key],
                effect=effect,
                tail=prior_tail,
                alpha=alpha,
            )
            b.insert(0, "outcome", outcome)
            benefit.append(b)
    cols = ["metric", "outcome", "estimate", "ci_low", "ci_high", "p_value", "n", "se", "scale"]
    res.summary = pd.DataFrame(summary_rows).reindex(columns=cols)
    res.benefit_ = pd.concat(benefit, ignore_index=True) if benefit else pd.DataFrame()
    if looks is not None and "retention" in outcomes:
        rows = cohort_rows[(cohort_rows.outcome == "retention") & (cohort_rows.status == "ok")]
        if len(rows):
            res.sequential_ = sequential_monitor(
                rows,
                estimate="estimate",
                se="se",
                label="cohort_id",
                looks=looks,
                max_information=max_information,
                alpha=alpha,
                spending=spending,
                better=_BETTER[res.retention_outcome_],
                futility=futility,
            )
            skipped = cohort_rows[
                (cohort_rows.outcome == "retention") & (cohort_rows.status != "ok")
            ]
            if len(skipped):
                res.note(
                    "Cohorts without a retention estimate are not looks of the sequential plan: "
                    + ", ".join(skipped.cohort_id)
                    + ".",
                    "not_estimable",
                )
    res.note(
        "The synthesis treats each cohort as one study and lets the true effect differ between "
        "cohorts (random effects); the pooled analysis treats all participants as one sample. "
        "They agree when the cohorts agree; the synthesis is wider when they do not.",
        "method",
    )
    return res
