"""Across cohorts: what the cohorts say together, the next cohort's expected range, the
sequential decision and the probability of benefit (a multi-cohort program only).

Shown in the appendix of the reports, beside the other supporting analyses of retention: the
headline figures and the recommendation follow the pre-declared retention estimand
(:mod:`rm_analytics.report.estimand`), and the report says so where this part could be read
against them.

Plain words for sponsors; the estimators (random-effects synthesis, Knapp-Hartung intervals,
Lan-DeMets boundaries, the sceptical prior) are named in the appendix and in
``docs/synthesis.md``, not in the body.
"""

from __future__ import annotations

import math

import pandas as pd

from ...errors import InsufficientDataError
from ..formatting import fmt_pct, fmt_value, is_finite, join_words
from ..section import SectionContext, SectionResult, section
from ._common import ROLE_LABEL, population, result_figure, retention_fit

#: A prediction interval wider than this ratio (upper / lower hazard ratio) is not shown as
#: numbers: "too wide to be useful yet".
USEFUL_RANGE = 25.0

_STATUS_WORDS = {
    "decide now: effective": "the program has shown that it reduces voluntary exits; the "
    "decision can be taken now",
    "keep going": "not enough evidence yet either way; run the next cohort as planned",
    "futility: stop": "half-way through the plan participants are doing no better than the "
    "control group; the plan allows stopping here (carrying on does not break its error "
    "guarantee)",
    "stop: harmful": "participants left more often than the control group; stop and review",
    "final look: benefit not demonstrated": "the plan's last look did not show a benefit",
}

_UNITS = {"log_hr": "ratio", "rmst": "number", "attrition": "pp"}


def _shown(outcome: str, kind: str, v: float) -> float:
    return math.exp(v) if outcome == "retention" and kind == "log_hr" else v


def _too_wide(kind: str, lo: float, hi: float, se: float) -> bool:
    """An interval too wide to be read as numbers: hazard ratios spanning more than a factor
    of :data:`USEFUL_RANGE`, or (other scales) more than 8 standard errors of the estimate."""
    if kind == "log_hr":
        return not (lo > 0 and hi / lo <= USEFUL_RANGE)
    return not (hi - lo <= 8 * se)


@section(
    "synthesis",
    title="Evidence across cohorts",
    part="appendix",  # supporting evidence: the headline is the pre-declared retention figure
    audiences=("sponsor",),
    order=12,
)
def synthesis_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.synthesis import (
        PLANNED,
        heterogeneity_statement,
        pilot_synthesis,
        prior_statement,
    )

    if len(ctx.pilot.cohort_ids) < 2:
        raise InsufficientDataError("one cohort")
    p = ctx.params
    s = pilot_synthesis(
        ctx.pilot,
        population=population(ctx),
        horizon=p.horizon_months,
        as_of=ctx.as_of,
        min_cell_size=p.min_cell_size,
        looks=p.sequential_looks or None,
        max_information=p.sequential_information or None,
        spending=p.sequential_spending,
        retention_fit=retention_fit(ctx),
        seed=p.seed,
    )
    ctx.cache["synthesis"] = s
    if not s.meta_:
        raise InsufficientDataError(
            "no outcome has an estimate from two or more cohorts yet ("
            + "; ".join(
                f"{c} {o}: {why}"
                for c, o, why in s.not_estimable_[["cohort_id", "outcome", "reason"]].itertuples(
                    index=False
                )
            )
            + ")"
        )
    res = SectionResult()
    who = ROLE_LABEL.get(p.primary_population, "participants")
    kind = s.retention_outcome_
    if "retention" in s.meta_:
        _retention_text(ctx, res, s, kind, who, heterogeneity_statement)
    else:
        res.text.append(
            "Retention cannot be combined across cohorts yet: fewer than two cohorts have an "
            "estimate."
        )
    wide: list[str] = []
    for outcome, label in (("engagement", "engagement index"), ("skills", "skills")):
        if outcome in s.meta_:
            row = s.meta_[outcome].row(metric="pooled")
            if _too_wide(outcome, row.ci_low, row.ci_high, row.se):
                wide.append(f"the {label}")
                continue
            m = ctx.metrics.add(
                f"synthesis_{outcome}",
                row.estimate,
                row.ci_low,
                row.ci_high,
                label=f"{label.capitalize()}: change vs control across cohorts (points)",
                unit="points",
                section="synthesis",
                better="higher",
                method="random-effects synthesis of the cohorts' estimates",
            )
            res.text.append(
                f"Across {int(row.n)} cohorts, the {label} of participants rose by {m.display} "
                f"points more than the control group's ({m.verdict})."
            )
    if wide:
        res.text.append(
            f"{join_words(wide).capitalize()} cannot be combined usefully across so few cohorts "
            "yet: the combined interval is too wide."
        )
    missing = s.not_estimable_
    if len(missing):
        by = missing.groupby("outcome", sort=False)
        res.text.append(
            "Not included: "
            + "; ".join(
                f"{o} in {join_words(list(g.cohort_id))} ({g.reason.iloc[0]})" for o, g in by
            )
            + "."
        )
    _sequential_text(ctx, res, s, PLANNED)
    _benefit_text(ctx, res, s, prior_statement)
    # with fewer than three cohorts the figures would only draw intervals too wide to read
    enough = "retention" in s.meta_ and int(s.meta_["retention"].row(metric="pooled").n) >= 3
    if enough:
        xl = "hazard ratio (below 1: participants leave less)" if kind == "log_hr" else "effect"
        result_figure(
            res,
            s,
            "Figure: the combined estimate as each cohort is added, with its 95% interval, and "
            "the range expected for a next cohort.",
            title="Retention: the estimate as cohorts accumulate",
            x=xl,
            y="cohorts included",
        )
    if enough and s.sequential_ is not None:
        result_figure(
            res,
            s.sequential_,
            "Figure: the evidence after each cohort against the decision plan's boundaries "
            "(above the upper one: decide that the program works).",
        )
    res.notes.append(
        "How this is computed: each cohort is analysed on its own, then the cohorts are "
        "combined allowing each its own true effect; the decision boundaries follow a plan "
        "fixed before the first cohort, so that looking after every cohort does not raise the "
        "chance of a false 'it works' above 5%. The methods are named in the appendix."
    )
    return res


@section(
    "synthesis_methods",
    title="Methods: evidence across cohorts",
    part="appendix",
    audiences=("sponsor",),
    order=20,
)
def synthesis_methods_section(ctx: SectionContext) -> SectionResult:
    """The estimators behind "Evidence across cohorts" (names a statistician looks for)."""
    from ...metrics.synthesis import PRIOR_ENGAGEMENT_POINTS, PRIOR_HAZARD_RATIO, PRIOR_TAIL
    from ...stats.bayes import sceptical_prior_sd

    s = ctx.cache.get("synthesis")
    if s is None:
        raise InsufficientDataError("no synthesis across cohorts in this report")
    p = ctx.params
    per_cohort = {
        "log_hr": "Peto's log hazard ratio, (observed - expected exits) / log-rank variance, "
        "standard error 1 / sqrt(variance); defined whenever the cohort has a voluntary exit",
        "rmst": f"difference in restricted mean months retained up to {p.horizon_months} "
        "months (survRM2 standard error)",
        "attrition": f"difference in Kaplan-Meier retention at {p.horizon_months} months "
        "(Greenwood standard error)",
    }.get(s.retention_outcome_, "")
    spending = "O'Brien-Fleming" if p.sequential_spending == "obrien_fleming" else "Pocock"
    sd = sceptical_prior_sd(math.log(PRIOR_HAZARD_RATIO), PRIOR_TAIL)
    rows = [
        ("Retention per cohort", per_cohort),
        ("Engagement per cohort", "difference-in-differences, as in the engagement section"),
        ("Skills per cohort", "mean change beyond the control group's (Welch)"),
        (
            "Combining cohorts",
            "random-effects meta-analysis: REML between-cohort variance (tau^2), "
            "Knapp-Hartung interval with t(k-1) quantiles and a variance factor of at least 1; "
            "prediction interval for a next cohort with t(k-1), as R's metafor",
        ),
        (
            "Decision plan",
            f"two-sided group-sequential design, Lan-DeMets {spending}-type alpha spending, "
            "overall 5%; the statistic is the inverse-variance z of the cohorts so far (the "
            "log-rank test stratified by cohort); non-binding futility when z <= 0 from half "
            "of the plan",
        ),
        (
            "Probability of benefit",
            f"normal prior on the log hazard ratio, mean 0, SD {sd:.3f} (a "
            f"{PRIOR_TAIL:.0%} chance of a hazard ratio of {PRIOR_HAZARD_RATIO} or lower); for "
            f"engagement mean 0, {PRIOR_TAIL:.0%} chance of +{PRIOR_ENGAGEMENT_POINTS} points "
            "or more; normal likelihood reproducing the combined interval; neutral: flat prior",
        ),
    ]
    res = SectionResult()
    res.add_table(
        "Methods of the synthesis across cohorts", pd.DataFrame(rows, columns=["Step", "Method"])
    )
    return res


def _retention_text(ctx, res, s, kind, who, heterogeneity_statement) -> None:
    meta = s.meta_["retention"]
    row = meta.row(metric="pooled")
    pi = meta.row(metric="prediction")
    k = int(row.n)
    unit = _UNITS[kind]
    est, lo, hi = (_shown("retention", kind, v) for v in (row.estimate, row.ci_low, row.ci_high))
    what = {
        "log_hr": f"Hazard ratio of leaving voluntarily, {who} vs control, across cohorts",
        "rmst": f"Months retained, {who} minus control, across cohorts",
        "attrition": f"Retention of {who} minus control at the horizon, across cohorts",
    }[kind]
    m = ctx.metrics.add(
        "synthesis_retention",
        est,
        lo,
        hi,
        label=what,
        unit=unit,
        section="synthesis",
        better="lower" if kind == "log_hr" else "higher",
        scale="log" if kind == "log_hr" else "linear",
        method="random-effects synthesis of the cohorts' estimates"
        + (" (Peto's log hazard ratio per cohort)" if kind == "log_hr" else ""),
    )
    too_wide = _too_wide(kind, lo, hi, row.se)
    if too_wide:
        res.text.append(
            f"Combining the {k} cohorts one by one, allowing each its own effect, cannot say "
            "much yet: with so few cohorts the combined 95% interval is too wide to be useful."
        )
    elif kind == "log_hr":
        res.text.append(
            f"Across {k} cohorts, {who} left voluntarily at {m.display} times the control "
            f"group's rate ({m.verdict}). Each cohort counts as one piece of evidence, and the "
            "cohorts may differ in how well the program works for them."
        )
    else:
        res.text.append(
            f"Across {k} cohorts, the difference in {'months retained' if kind == 'rmst' else 'retention'} "
            f"between {who} and the control group is {m.display} ({m.verdict})."
        )
    p_lo, p_hi = (_shown("retention", kind, v) for v in (pi.ci_low, pi.ci_high))
    if k <= 2:
        res.text.append(
            f"With only {k} cohorts, neither how much the cohorts differ nor what to expect of "
            "a next cohort can be judged yet."
        )
    elif too_wide or _too_wide(kind, p_lo, p_hi, row.se):
        res.text.append(heterogeneity_statement(meta, show_i2=False))
        res.text.append(
            f"With only {k} cohorts, the range to expect for a next cohort is too wide to be "
            "useful yet."
        )
    else:
        res.text.append(heterogeneity_statement(meta, show_i2=False))
        ctx.metrics.add(
            "next_cohort_retention",
            est,
            p_lo,
            p_hi,
            label="Expected for a next cohort (95% prediction interval): " + what.lower(),
            unit=unit,
            section="synthesis",
            method="prediction interval of the random-effects synthesis",
        )
        good = p_hi < 1 if kind == "log_hr" else p_lo > 0
        lo_s, hi_s = fmt_value(p_lo, unit), fmt_value(p_hi, unit)
        res.text.append(
            f"A next cohort is expected between {lo_s} and {hi_s} (95% prediction interval): "
            + (
                "it is expected to do better than the control group."
                if good
                else "a next cohort could still do no better than the control group."
            )
        )
    pooled = s.summary[(s.summary.outcome == "retention") & (s.summary.metric == "pooled_analysis")]
    if len(pooled) and is_finite(pooled.estimate.iloc[0]):
        a = pooled.iloc[0]
        txt = " to ".join(
            fmt_value(_shown("retention", kind, v), unit) for v in (a.ci_low, a.ci_high)
        )
        res.text.append(
            "For comparison, the analysis of all participants together (above) gives "
            f"{fmt_value(_shown('retention', kind, a.estimate), unit)} ({txt}); combining "
            "cohort by cohort is more cautious when there are few cohorts or they differ."
        )


def _sequential_text(ctx, res, s, planned: str) -> None:
    p = ctx.params
    seq = s.sequential_
    if seq is None:
        if not p.sequential_looks:
            res.text.append(
                "No decision plan across cohorts was set (sequential_looks = 0), so no "
                "stop-or-continue verdict is given."
            )
        return
    t = seq.summary
    seen = t[t.status != planned]
    looks = p.sequential_looks
    kind = (
        "strict at first, close to the usual level at the end"
        if (p.sequential_spending == "obrien_fleming")
        else "about equally strict at every look"
    )
    plan = (
        "one look after each cohort"
        if not p.sequential_information
        else f"looks at shares of a planned total information of {p.sequential_information:g}"
    )
    res.text.append(
        f"Decision plan, set before the first cohort: up to {looks} looks ({plan}), with "
        f"boundaries {kind}, which keep the overall chance of a false 'it works' at 5%."
    )
    row = t.iloc[seq.status_look_ - 1]
    words = _STATUS_WORDS.get(seq.status_, seq.status_)
    res.text.append(
        f"After {row.label} (look {int(row.look)} of {looks}) the evidence score is "
        f"{row.z:.2f} against a boundary of {row.z_bound:.2f}. Status: {seq.status_} "
        f"({words}). The evidence score weighs all participants so far together, as the "
        "analysis of all participants does; the combined estimate above also allows the "
        "cohorts to differ, so it can be more cautious."
    )
    later = seen.label[seen.look > seq.status_look_].astype(str).tolist()
    if later and seq.decision_look_ is None:
        res.text.append(
            f"{join_words(later)} came after the plan's last look: "
            f"{'its' if len(later) == 1 else 'their'} data enter the estimates above but "
            "not the plan's verdict (a further decision needs a new plan, set before the next "
            "cohort)."
        )
    ctx.metrics.add(
        "sequential_evidence",
        row.z,
        label="Evidence score at the latest look (boundary crossed when at or above it)",
        unit="number",
        section="synthesis",
        digits=2,
        method="fixed-effect z of the cohorts so far; two-sided group-sequential design",
        note=seq.status_,
    )
    ctx.metrics.add(
        "sequential_boundary",
        row.z_bound,
        label="Decision boundary at the latest look",
        unit="number",
        section="synthesis",
        digits=2,
        method=f"Lan-DeMets alpha spending ({p.sequential_spending}), two-sided 5%",
    )
    table = pd.DataFrame(
        {
            "Look": t.look.astype(int).astype(str),
            "Cohorts analysed": [
                f"up to {lab}" if st != planned else "(planned)"
                for lab, st in zip(t.label, t.status, strict=True)
            ],
            "Evidence score": t.z.map(lambda v: f"{v:.2f}" if is_finite(v) else ""),
            "Boundary": t.z_bound.map(lambda v: f"{v:.2f}" if is_finite(v) else "none"),
            "Status": t.status,
        }
    )
    res.add_table(
        "The decision plan look by look",
        table,
        "Boundaries at planned looks assume the coming cohorts add as much evidence as the "
        "past ones did on average.",
    )


def _benefit_text(ctx, res, s, prior_statement) -> None:
    b = s.benefit_
    if b.empty:
        return
    said = False
    for outcome, what in (
        ("retention", "reduced voluntary exits"),
        ("engagement", "raised engagement"),
    ):
        rows = b[b.outcome == outcome].set_index("prior")
        if rows.empty:
            continue
        sc, ne = rows.loc["sceptical", "probability"], rows.loc["neutral", "probability"]
        ctx.metrics.add(
            f"probability_benefit_{outcome}",
            sc,
            label=f"Probability that the program {what} (sceptical starting assumption)",
            unit="share",
            section="synthesis",
            method="normal-normal posterior of the synthesis estimate; sceptical prior",
        )
        ctx.metrics.add(
            f"probability_benefit_{outcome}_neutral",
            ne,
            label=f"Probability that the program {what} (neutral starting assumption)",
            unit="share",
            section="synthesis",
            method="normal-normal posterior of the synthesis estimate; flat prior",
        )
        res.text.append(
            f"Probability that the program {what}: {fmt_pct(sc)} with a deliberately "
            f"sceptical starting assumption ({fmt_pct(ne)} with a neutral one)."
        )
        said = True
    if said:
        from ...metrics.synthesis import PRIOR_ENGAGEMENT_POINTS, PRIOR_TAIL

        extra = (
            f" For engagement the same doubt: a {PRIOR_TAIL:.0%} chance of a rise of "
            f"{PRIOR_ENGAGEMENT_POINTS:g} points or more."
            if "engagement" in set(b.outcome)
            else ""
        )
        res.text.append(
            prior_statement()
            + extra
            + " These probabilities support the estimates above; they do not replace them."
        )
