"""Promotion (Kirkpatrick level 4): participants vs control over the follow-up.

Two views of the same follow-up (from each person's index date, the start of their cohort, to
the earlier of leaving and the analysis date):

* **incidence rates**: promotions per person-year with exact Poisson (Garwood) intervals, and
  the participants-to-control **rate ratio** with the exact conditional (binomial) interval and
  test, as R's ``poisson.test(c(x1, x2), c(T1, T2))``;
* **time to first promotion**: Kaplan-Meier curves per group (cumulative share promoted) and a
  log-rank test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InsufficientDataError
from ..results import CONTRAST, CONTROL, TREATED, Note, Result, normalise_role, renamed, tidy
from ._inputs import as_frame, deprecated_min_cell_size, need_columns

DAYS_PER_YEAR = 365.25


def poisson_rate_ci(events: float, exposure: float, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Garwood) interval of a Poisson rate ``events / exposure``.

    Examples
    --------
    >>> from rm_analytics.metrics.promotion import poisson_rate_ci
    >>> low, high = poisson_rate_ci(3, 24.5)
    >>> round(low, 4), round(high, 4)
    (0.0253, 0.3578)

    Three promotions in 24.5 person-years: a rate of 0.12 a year, somewhere between 0.03 and
    0.36.
    """
    if exposure <= 0:
        return (float("nan"), float("nan"))
    lo = stats.chi2.ppf(alpha / 2, 2 * events) / 2 if events > 0 else 0.0
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * events + 2) / 2
    return (float(lo / exposure), float(hi / exposure))


def rate_ratio_exact(
    x1: int, t1: float, x2: int, t2: float, alpha: float = 0.05
) -> dict[str, float]:
    """Rate ratio (x1/t1)/(x2/t2) with the exact conditional interval and two-sided p-value.

    Conditional on ``x1 + x2``, ``x1`` is binomial with ``p = RR t1 / (RR t1 + t2)``; the
    Clopper-Pearson interval of ``p`` maps to the rate ratio, and the p-value is the exact
    binomial test of ``p = t1 / (t1 + t2)`` (R's ``poisson.test`` for two samples).

    Examples
    --------
    >>> from rm_analytics.metrics.promotion import rate_ratio_exact
    >>> res = rate_ratio_exact(6, 30.0, 4, 60.0)
    >>> {k: round(v, 3) for k, v in res.items()}
    {'estimate': 3.0, 'ci_low': 0.711, 'ci_high': 14.454, 'p_value': 0.094}

    Three times the rate, yet the exact interval includes 1: ten events are few.
    """
    nan = float("nan")
    n = x1 + x2
    out = {"estimate": nan, "ci_low": nan, "ci_high": nan, "p_value": nan}
    if t1 <= 0 or t2 <= 0 or n == 0:
        return out
    out["estimate"] = (x1 / t1) / (x2 / t2) if x2 > 0 else float("inf")
    lo_p = stats.beta.ppf(alpha / 2, x1, n - x1 + 1) if x1 > 0 else 0.0
    hi_p = stats.beta.ppf(1 - alpha / 2, x1 + 1, n - x1) if x1 < n else 1.0
    out["ci_low"] = float(lo_p / (1 - lo_p) * t2 / t1)
    out["ci_high"] = float(hi_p / (1 - hi_p) * t2 / t1) if hi_p < 1 else float("inf")
    out["p_value"] = float(stats.binomtest(int(x1), int(n), t1 / (t1 + t2)).pvalue)
    return out


class PromotionResult(Result):
    """Promotion rates, rate ratio and time-to-first-promotion curves.

    Attributes
    ----------
    summary : DataFrame
        Rows ``metric`` = ``rate`` (per group: promotions per person-year, exact Poisson CI),
        ``rate_ratio`` (group ``treated vs control``: the participants' rate over the
        control group's, exact conditional CI and p-value), ``promoted_share`` (per group:
        Kaplan-Meier share promoted by the end of the shortest group's follow-up horizon,
        log-log CI); columns ``metric, group`` (``treated``, ``control``, ``treated vs
        control``), ``estimate, ci_low, ci_high, p_value, n`` (people), ``events``,
        ``person_years``.
    km_ : DataFrame
        ``group, timeline`` (years since index), ``promoted`` (1 - KM survival), ``at_risk``.
    logrank_p_ : float
        Log-rank test of time to first promotion (``logrank_p`` is its old name).
    """

    title = "Promotion: participants vs control"
    logrank_p = renamed("logrank_p_", "logrank_p")

    def plot(self, ax=None, *, at=None, min_at_risk: int = 1):
        """Share promoted at least once by years since the index date (Kaplan-Meier steps).

        With ``at`` (times in years) the curves are drawn only as their values at those times
        (points joined by lines: no step of one promotion), and only where at least
        ``min_at_risk`` people of the group are still followed (the sponsor's figure)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        words = {TREATED: "participants", CONTROL: "control"}
        for grp, sub in self.km_.groupby("group", sort=False):
            if at is None:
                ax.step(sub.timeline, sub.promoted, where="post", label=words.get(grp, grp))
                continue
            t = sub.timeline.to_numpy(float)
            pts = []
            for x in sorted(float(v) for v in at):
                i = int(np.searchsorted(t, x, side="right")) - 1
                if i < 0:
                    continue
                later = sub.at_risk.to_numpy(float)[t >= x]
                if (later[0] if len(later) else 0) < min_at_risk:
                    break
                pts.append((x, float(sub.promoted.iloc[i])))
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, ys, "o-", label=words.get(grp, grp))
        ax.set_xlabel("years since the cohort start")
        ax.set_ylabel("share promoted at least once")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
        else:
            ax.text(0.5, 0.5, "no group followed long enough", ha="center", transform=ax.transAxes)
        ax.set_title(self.title)
        return ax


def promotion_rates(
    data: pd.DataFrame,
    *,
    group: str,
    followup: str,
    events: str,
    first_event: str | None = None,
    treated=1,
    alpha: float = 0.05,
    min_cell_size: int | None = None,
) -> PromotionResult:
    """Promotion rates per person-year and time to first promotion, treated vs control.

    Parameters
    ----------
    data
        One row per person: ``group``, ``followup`` (years at risk, > 0), ``events`` (number
        of promotions during follow-up), ``first_event`` (years to the first promotion, NaN
        when none; default: no Kaplan-Meier curves).
    treated
        Value of ``group`` for the participants (the ``treated`` group of the summary); the
        other value is the control group.
    min_cell_size
        Deprecated and ignored: every row carries its ``n`` (the sponsor report's privacy
        policy hides small groups).

    Returns
    -------
    PromotionResult

    Examples
    --------
    >>> import rm_analytics as rm
    >>> followup = rm.pilot_promotion(rm.load_sample()).followup_
    >>> print(followup.head(3).round(3).to_string(index=False))
    employee_id index_date   group       stop  followup_years  promotions  years_to_first
        E000966 2024-12-23 treated 2026-09-30           1.769           0             NaN
        E001345 2024-12-23 treated 2026-09-30           1.769           0             NaN
        E000844 2024-12-23 treated 2026-09-30           1.769           0             NaN
    >>> res = rm.promotion_rates(followup, group="group", followup="followup_years",
    ...                          events="promotions", first_event="years_to_first",
    ...                          treated="treated")
    >>> cols = ["metric", "group", "estimate", "ci_low", "ci_high", "p_value"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
            metric              group  estimate  ci_low  ci_high  p_value
              rate            treated     0.166   0.054    0.387      NaN
              rate            control     0.118   0.047    0.242      NaN
        rate_ratio treated vs control     1.411   0.353    5.163    0.552
    promoted_share            treated     0.270   0.114    0.559      NaN
    promoted_share            control     0.252   0.116    0.494      NaN
    """
    deprecated_min_cell_size(min_cell_size, "promotion_rates")
    cols = [group, followup, events] + ([first_event] if first_event else [])
    need_columns(as_frame(data), cols)
    df = data[cols].copy()
    if (df[followup] <= 0).any() or df[followup].isna().any():
        raise ValueError(f"column {followup!r} must be positive years of follow-up")
    if (df[events] < 0).any():
        raise ValueError(f"column {events!r} must be non-negative counts")
    grp = np.where(df[group].eq(treated), TREATED, CONTROL)
    if len(set(grp)) != 2:
        raise InsufficientDataError(
            f"column {group!r} needs both the treated value {treated!r} and a control"
        )
    notes: list[str] = []
    rows = []
    agg = {}
    for g in (TREATED, CONTROL):
        sub = df[grp == g]
        x, t, n = int(sub[events].sum()), float(sub[followup].sum()), len(sub)
        agg[g] = (x, t, n)
        lo, hi = poisson_rate_ci(x, t, alpha)
        rows.append(
            {
                "metric": "rate",
                "group": g,
                "estimate": x / t,
                "ci_low": lo,
                "ci_high": hi,
                "p_value": np.nan,
                "n": n,
                "events": x,
                "person_years": t,
            }
        )
    (x1, t1, n1), (x2, t2, n2) = agg[TREATED], agg[CONTROL]
    rr = rate_ratio_exact(x1, t1, x2, t2, alpha)
    rows.append(
        {
            "metric": "rate_ratio",
            "group": CONTRAST,
            **rr,
            "n": n1 + n2,
            "events": x1 + x2,
            "person_years": t1 + t2,
        }
    )
    km_frames = []
    logrank_p = float("nan")
    if first_event:
        from lifelines import KaplanMeierFitter
        from lifelines.statistics import logrank_test

        dur = df[first_event].fillna(df[followup]).clip(upper=df[followup]).to_numpy(float)
        ev = df[first_event].notna().to_numpy() & (df[first_event] <= df[followup]).to_numpy()
        horizon = min(df.loc[grp == g, followup].max() for g in (TREATED, CONTROL))
        for g in (TREATED, CONTROL):
            m = grp == g
            kmf = KaplanMeierFitter(alpha=alpha).fit(dur[m], ev[m], label=g)
            sf = kmf.survival_function_.iloc[:, 0]
            ev_tab = kmf.event_table
            km_frames.append(
                pd.DataFrame(
                    {
                        "group": g,
                        "timeline": sf.index.to_numpy(),
                        "promoted": 1 - sf.to_numpy(),
                        "at_risk": ev_tab["at_risk"].to_numpy(),
                    }
                )
            )
            ci = kmf.confidence_interval_survival_function_
            s_h = float(kmf.survival_function_at_times(horizon).iloc[0])
            idx = ci.index[ci.index <= horizon]
            lo_s, hi_s = ci.loc[idx[-1]].to_numpy() if len(idx) else (np.nan, np.nan)
            rows.append(
                {
                    "metric": "promoted_share",
                    "group": g,
                    "estimate": 1 - s_h,
                    "ci_low": 1 - hi_s,
                    "ci_high": 1 - lo_s,
                    "p_value": np.nan,
                    "n": int(m.sum()),
                    "events": int(ev[m].sum()),
                    "person_years": float(df.loc[m, followup].sum()),
                }
            )
        lr = logrank_test(
            dur[grp == TREATED], dur[grp == CONTROL], ev[grp == TREATED], ev[grp == CONTROL]
        )
        logrank_p = float(lr.p_value)
        notes.append(
            Note(
                f"Share promoted at least once by {horizon:.2f} years (the shorter group's "
                "longest follow-up), Kaplan-Meier with log(-log) intervals; log-rank p = "
                f"{logrank_p:.3f}.",
                "method",
            )
        )
    summary = tidy(pd.DataFrame(rows), ["group"])
    notes.insert(
        0,
        Note(
            "Promotions per person-year with exact Poisson (Garwood) intervals; rate ratio with "
            "the exact conditional binomial interval and test (as R's poisson.test).",
            "method",
        ),
    )
    res = PromotionResult(summary, notes, alpha=alpha)
    res.km_ = (
        pd.concat(km_frames, ignore_index=True)
        if km_frames
        else pd.DataFrame(columns=["group", "timeline", "promoted", "at_risk"])
    )
    res.logrank_p_ = logrank_p
    return res


def pilot_promotion(
    pilot,
    *,
    role: str = "mentor",
    control: str = "auto",
    as_of: str | pd.Timestamp | None = None,
    alpha: float = 0.05,
    min_cell_size: int | None = None,
) -> PromotionResult:
    """Promotion of a pilot's participants vs control, from the ``outcomes`` table.

    * Participants (the ``treated`` group): the pilot's mentors (``role="mentor"``, the
      default), mentees or both (``"both"``); index date = their cohort's start (first cohort
      if in several).
    * Control (``control="auto"``): the designated control list when the pilot has one
      (index = their cohort's start); otherwise (or ``control="eligible"``) every
      non-participant employed at a cohort's start at a grade the participants held then,
      indexed at the first such cohort. Grades at the index date are reconstructed as today's
      grade minus the promotions recorded after the index date (one grade per promotion).
      Opt-in participants may differ from such a control: read the comparison with care. A
      matched control (``rm_analytics.matching``) is not wired in yet.
    * Follow-up from the index date to the earlier of leaving and ``as_of`` (default: the
      latest date recorded in the data, :meth:`Pilot.analysis_date
      <rm_analytics.Pilot.analysis_date>`). People who left on or before their index date are excluded
      and logged. Events are the ``outcome == "promotion"`` rows after the index date.

    Returns
    -------
    PromotionResult
        See :func:`promotion_rates`; ``followup_`` holds the per-person frame (ids; analyst
        use only, not for sponsors).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.pilot_promotion(rm.load_sample())
    >>> cols = ["metric", "group", "estimate", "ci_low", "ci_high", "p_value", "n"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
            metric              group  estimate  ci_low  ci_high  p_value   n
              rate            treated     0.166   0.054    0.387      NaN  36
              rate            control     0.118   0.047    0.242      NaN  72
        rate_ratio treated vs control     1.411   0.353    5.163    0.552 108
    promoted_share            treated     0.270   0.114    0.559      NaN  36
    promoted_share            control     0.252   0.116    0.494      NaN  72

    Mentors were promoted at 0.17 a person-year against 0.12 in the control (rate ratio 1.4),
    an interval from 0.35 to 5.2: far too few promotions to tell.
    """
    deprecated_min_cell_size(min_cell_size, "pilot_promotion")
    role = normalise_role(role)
    if control not in ("auto", "designated", "eligible"):
        raise ValueError(f"control must be 'auto', 'designated' or 'eligible', not {control!r}")
    pilot.require("outcomes", purpose="the promotion analysis")
    out = pilot.outcomes
    promo = out[out["outcome"].astype(str).eq("promotion") & out["employee_id"].notna()]
    if promo.empty:
        raise InsufficientDataError("the outcomes table has no promotion rows with an employee_id")
    end_date = pilot.analysis_date(as_of)
    emp = pilot.employees.set_index(pilot.employees.employee_id.astype(str))
    part_all = pilot.participants("both")
    part = pilot.participants(role)
    part = part.sort_values("cohort_start_date").drop_duplicates("employee_id")
    people = [
        pd.DataFrame(
            {
                "employee_id": part.employee_id.astype(str).to_numpy(),
                "index_date": part.cohort_start_date.to_numpy(),
                "group": TREATED,
            }
        )
    ]
    notes: list[str] = []
    use_designated = (
        control in ("auto", "designated") and pilot.control is not None and len(pilot.control)
    )
    if control == "designated" and not use_designated:
        raise InsufficientDataError("control='designated' but the pilot has no control table")
    ever = set(part_all.employee_id.astype(str))
    promo_ids = promo.employee_id.astype(str).to_numpy()
    promo_dates = promo.date.to_numpy()
    if use_designated:
        c = pilot.control.merge(pilot.cohorts[["cohort_id", "start_date"]], on="cohort_id")
        c = c.sort_values("start_date").drop_duplicates("employee_id")
        c = c[~c.employee_id.astype(str).isin(ever)]
        people.append(
            pd.DataFrame(
                {
                    "employee_id": c.employee_id.astype(str).to_numpy(),
                    "index_date": c.start_date.to_numpy(),
                    "group": "control",
                }
            )
        )
        label = "the designated control list"
        if role != "mentor":
            notes.append(
                Note(
                    "The designated control list is usually drawn for mentors; compared with "
                    "mentees it may differ in grade and promotion prospects.",
                    "assumption",
                )
            )
    else:
        level_codes = emp.level.cat.codes.astype(int)
        chosen = pd.Series(pd.NaT, index=emp.index, dtype="datetime64[ns]")
        for co in pilot.cohorts.sort_values("start_date").itertuples():
            s = co.start_date
            after = pd.Series(promo_ids[promo_dates > np.datetime64(s)]).value_counts()
            lvl = level_codes - after.reindex(emp.index, fill_value=0)
            employed = (emp.hire_date <= s) & (
                emp.termination_date.isna() | (emp.termination_date > s)
            )
            pids = part.employee_id[part.cohort_id.eq(co.cohort_id)].astype(str)
            levels = set(lvl.reindex(pids).dropna().astype(int))
            ok = employed & lvl.isin(levels) & ~emp.index.isin(list(ever)) & chosen.isna()
            chosen[ok] = s
        chosen = chosen.dropna()
        people.append(
            pd.DataFrame(
                {
                    "employee_id": chosen.index.to_numpy(),
                    "index_date": chosen.to_numpy(),
                    "group": "control",
                }
            )
        )
        label = "all eligible non-participants at the participants' grades"
        notes.append(
            Note(
                ("No designated control: c" if control == "auto" else "C")
                + "ompared with all non-participants employed at the cohort start at the "
                "participants' grades (opt-in participants may differ; a matched control is "
                "preferable).",
                "assumption",
            )
        )
    ppl = pd.concat(people, ignore_index=True)
    term = emp.termination_date.reindex(ppl.employee_id).to_numpy()
    stop = np.where(pd.isna(term) | (term > np.datetime64(end_date)), np.datetime64(end_date), term)
    ppl["stop"] = pd.to_datetime(stop)
    gone = ppl.stop <= ppl.index_date
    if gone.any():
        pilot.log_quality(
            "employees",
            "promotion",
            "left before the index date",
            int(gone.sum()),
            "excluded",
            "no follow-up after the cohort start",
        )
        notes.append(
            Note(
                f"{int(gone.sum())} person(s) left on or before their index date; excluded.",
                "excluded_rows",
            )
        )
    ppl = ppl[~gone].reset_index(drop=True)
    ppl["followup_years"] = (ppl.stop - ppl.index_date).dt.days / DAYS_PER_YEAR
    pr = pd.DataFrame({"employee_id": promo_ids, "date": promo_dates}).merge(
        ppl[["employee_id", "index_date", "stop"]], on="employee_id"
    )
    pr = pr[(pr.date > pr.index_date) & (pr.date <= pr.stop)]
    cnt = pr.groupby("employee_id").size()
    first = pr.groupby("employee_id").date.min()
    ppl["promotions"] = cnt.reindex(ppl.employee_id).fillna(0).astype(int).to_numpy()
    fd = first.reindex(ppl.employee_id).to_numpy()
    ppl["years_to_first"] = (pd.to_datetime(fd) - ppl.index_date).dt.days.to_numpy() / DAYS_PER_YEAR
    ppl = ppl[ppl.followup_years > 0]
    absent = [
        w
        for g, w in ((TREATED, "participants"), (CONTROL, "control"))
        if not ppl["group"].eq(g).any()
    ]
    if absent:
        raise InsufficientDataError(
            f"no {' and no '.join(absent)} followed up after a cohort start by {end_date:%Y-%m-%d}"
        )
    res = promotion_rates(
        ppl,
        group="group",
        followup="followup_years",
        events="promotions",
        first_event="years_to_first",
        treated=TREATED,
        alpha=alpha,
    )
    res.notes[1:1] = [
        Note(
            f"Participants: {'mentors and mentees' if role == 'both' else role + 's'}; "
            f"control: {label}. Follow-up from the cohort start to leaving or "
            f"{end_date:%Y-%m-%d}.",
            "method",
        )
    ] + notes
    res.arguments.update(role=role, control=control, as_of=f"{end_date:%Y-%m-%d}")
    res.followup_ = ppl
    return res
