"""Report sections for the metrics (Kirkpatrick levels 1-4, Phillips ROI, power, benchmarks).

Each function turns a result of the metric modules into text generated from the numbers,
people-readable tables, figures and entries of the metrics JSON. Sponsor sections show
aggregates only; pair-level sections are registered for the program lead only.
Importing this module registers the sections (it is imported by ``report_sections``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .errors import InsufficientDataError
from .report_sections import SectionContext, SectionResult, section
from .reporting import fmt_count, fmt_currency, fmt_interval, fmt_pct, fmt_value

_ROLE_LABEL = {"mentor": "junior mentors", "mentee": "senior mentees", "all": "all participants"}


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _n(value: Any) -> int | None:
    """A count for the metrics JSON (None when suppressed or unknown)."""
    return int(value) if _finite(value) else None


def _add_row(ctx: SectionContext, key: str, row: pd.Series, **kwargs: Any):
    """Record a summary row (estimate, ci_low, ci_high, n) in the metrics JSON."""
    n = kwargs.pop("n", _n(row.get("n")))
    return ctx.metrics.add(key, row.estimate, row.ci_low, row.ci_high, n=n, **kwargs)


def _population(ctx: SectionContext) -> str:
    return {"mentor": "mentors", "mentee": "mentees", "both": "both"}[ctx.params.primary_population]


def _fig(
    res: SectionResult,
    result,
    caption: str,
    *,
    method: str = "plot",
    title: str = "",
    x: str = "",
    y: str = "",
) -> None:
    """Draw ``result.<method>()`` in the report theme; fill a missing title or axis label."""
    ax = getattr(result, method)()
    fig = ax.figure if hasattr(ax, "figure") else ax[0].figure
    main = fig.axes[0]
    if title and not (main.get_title() or main.get_title(loc="left") or fig._suptitle):
        main.set_title(title)
    if x and not main.get_xlabel():
        main.set_xlabel(x)
    if y and not main.get_ylabel():
        main.set_ylabel(y)
    res.add_figure(fig, caption, alt=caption)


def _notes(res: SectionResult, result) -> None:
    """Carry the analysis' notes (never ids or text: the metric modules keep those out)."""
    res.notes.extend(result.notes)


def _require(ctx: SectionContext, *tables: str, purpose: str) -> None:
    ctx.pilot.require(*tables, purpose=purpose)


# -- Level 1: reaction --------------------------------------------------------------------
@section(
    "reaction",
    title="Participants' reaction",
    part="reaction",
    audiences=("sponsor", "program-lead"),
)
def reaction_section(ctx: SectionContext) -> SectionResult:
    from .reaction import pilot_reaction

    _require(ctx, "surveys", purpose="the reaction analysis")
    r = pilot_reaction(ctx.pilot, min_cell_size=ctx.params.min_cell_size)
    res = SectionResult()
    s = r.summary
    if s.empty:
        raise InsufficientDataError("the feedback form has no answers")
    last = s.wave.astype(str).iloc[-1] if "wave" in s else None
    waves = list(dict.fromkeys(s.wave.astype(str)))
    last = waves[-1]
    cur = s[s.wave.astype(str) == last]
    rec = cur[cur["item"] == "recommend"]
    if len(rec):
        row = rec.iloc[0]
        m = _add_row(
            ctx,
            "recommend_share",
            row,
            label=f"Would recommend the program ({last} feedback)",
            unit="share",
            section="reaction",
            method="share answering yes; Wilson 95% interval",
        )
        res.text.append(
            f"At the {last} feedback, {m.display} of respondents would recommend the program."
        )
    for item, label in (
        ("progress", "Progress rating (1-5)"),
        ("safety", "Felt safe to speak openly (1-5)"),
    ):
        row = cur[(cur["item"] == item) & (cur["measure"] == "mean")]
        if len(row):
            row = row.iloc[0]
            _add_row(
                ctx,
                f"rating_{item}",
                row,
                label=f"{label}, {last}",
                unit="number",
                section="reaction",
                digits=2,
                method="mean with t 95% interval",
            )
    shown = s[s.measure != "text_answers"].copy()
    table = pd.DataFrame(
        {
            "Wave": shown.wave.astype(str),
            "Question": shown["item"].map(
                {
                    "progress": "Progress (1-5)",
                    "safety": "Safety (1-5)",
                    "recommend": "Would recommend",
                }
            ),
            "Result (95% interval)": [
                fmt_interval(
                    e,
                    lo,
                    hi,
                    "share" if m == "share_yes" else "number",
                    digits=None if m == "share_yes" else 2,
                )
                for e, lo, hi, m in zip(
                    shown.estimate, shown.ci_low, shown.ci_high, shown.measure, strict=True
                )
            ],
            "Respondents": shown.n.map(fmt_count),
        }
    )
    res.add_table("Feedback form", table, "Free-text answers are counted, never shown here.")
    n_text = int(s.loc[s.measure == "text_answers", "estimate"].fillna(0).sum())
    res.text.append(
        f"{fmt_count(n_text)} free-text comments were collected; they go to the program lead only."
    )
    _notes(res, r)
    return res


# -- Level 2: learning --------------------------------------------------------------------
@section(
    "skills", title="Skill gain (pre/post)", part="learning", audiences=("sponsor", "program-lead")
)
def skills_section(ctx: SectionContext) -> SectionResult:
    from .skills import pilot_skills

    _require(ctx, "skills", purpose="the skills analysis")
    r = pilot_skills(ctx.pilot, min_cell_size=ctx.params.min_cell_size)
    res = SectionResult()
    s = r.summary
    vs = s[s.measure == "change_vs_control"]
    if len(vs):
        row = vs.iloc[0]
        who = row.role
        m = _add_row(
            ctx,
            "skill_gain_vs_control",
            row,
            label=f"Skill gain of {who} beyond the control group (points, 1-10 scale)",
            unit="points",
            section="learning",
            headline="skills",
            better="higher",
            method="difference of mean pre/post change, participants minus assessed controls; "
            "Welch 95% interval",
        )
        res.text.append(
            f"The {who}' self-rated skills rose by {m.display} points more than the control group's "
            f"over the same period: {m.verdict}."
        )
    for role in ("mentees", "mentors"):
        row = s[(s.role == role) & (s.measure == "change")]
        if not len(row):
            continue
        row = row.iloc[0]
        m = _add_row(
            ctx,
            f"skill_change_{role}",
            row,
            label=f"Pre/post change of {role}' skills (points, 1-10 scale)",
            unit="points",
            section="learning",
            better="higher" if not len(vs) and role == "mentees" else None,
            headline="skills" if not len(vs) and role == "mentees" else None,
            method="mean paired change with t 95% interval",
        )
    shown = s[s.measure.isin(["change", "change_vs_control"])]
    table = pd.DataFrame(
        {
            "Group": shown.role.astype(str),
            "Comparison": shown.measure.map(
                {"change": "post minus pre", "change_vs_control": "change beyond control"}
            ),
            "Skills": shown.skills.astype(str),
            "Change (95% interval)": [
                fmt_interval(e, lo, hi, "points")
                for e, lo, hi in zip(shown.estimate, shown.ci_low, shown.ci_high, strict=True)
            ],
            "Effect size d_z": shown.get("cohen_dz", pd.Series(index=shown.index, dtype=float)).map(
                lambda v: f"{v:.2f}" if _finite(v) else ""
            ),
            "People": shown.n.map(fmt_count),
        }
    )
    res.add_table("Skills before and after the program", table)
    _fig(
        res,
        r,
        "Figure: mean self-rated skill before and after the program, with 95% intervals.",
        title="Self-rated skills before and after",
        x="group",
        y="score (1-10)",
    )
    _notes(res, r)
    return res


# -- Level 3: behaviour and goals ------------------------------------------------------------
@section(
    "goals", title="SMART-goal attainment", part="behaviour", audiences=("sponsor", "program-lead")
)
def goals_section(ctx: SectionContext) -> SectionResult:
    from .goals import pilot_goals

    _require(ctx, "checkpoints", purpose="the goals analysis")
    r = pilot_goals(ctx.pilot, min_cell_size=ctx.params.min_cell_size)
    res = SectionResult()
    s = r.summary
    met = s[s.measure == "share_goal_met"]
    if len(met):
        row = met.iloc[0]
        m = _add_row(
            ctx,
            "goal_met_share",
            row,
            label="Pairs that met their SMART goal",
            unit="share",
            section="behaviour",
            method="share of pairs with goal_met at the endpoint; Wilson 95% interval",
        )
        res.text.append(f"{m.display} of pairs met their SMART goal by the endpoint.")
    off = s[s.measure == "share_off_track"]
    if len(off):
        row = off.iloc[0]
        m = _add_row(
            ctx,
            "off_track_week6_share",
            row,
            label="Pairs off track at week 6 (progress 2 or less)",
            unit="share",
            section="behaviour",
            method="Wilson 95% interval",
        )
        res.text.append(f"At the week-6 checkpoint {m.display} of pairs were off track.")
    table = pd.DataFrame(
        {
            "Measure": s.measure.map(
                {
                    "mean_progress": "Mean progress (1-5)",
                    "share_goal_met": "Goal met",
                    "share_off_track": "Off track (progress 2 or less)",
                }
            ).fillna(s.measure),
            "Checkpoint": s.checkpoint.astype(str),
            "Result (95% interval)": [
                fmt_interval(
                    e,
                    lo,
                    hi,
                    "share" if str(ms).startswith("share") else "number",
                    digits=None if str(ms).startswith("share") else 2,
                )
                for e, lo, hi, ms in zip(s.estimate, s.ci_low, s.ci_high, s.measure, strict=True)
            ],
            "Pairs": s.n.map(fmt_count),
        }
    )
    res.add_table("Progress against the SMART goals", table)
    _fig(
        res,
        r,
        "Figure: distribution of goal progress ratings at each checkpoint (small cells hidden).",
        title="Progress against the SMART goal",
        x="progress rating (1-5)",
        y="pairs (count)",
    )
    _notes(res, r)
    return res


@section(
    "delivery_summary",
    title="Sessions and relationship health",
    part="behaviour",
    audiences=("sponsor", "program-lead"),
    order=20,
)
def delivery_summary_section(ctx: SectionContext) -> SectionResult:
    from .delivery import delivery_summary

    _require(ctx, "sessions", purpose="the delivery analysis")
    r = delivery_summary(ctx.pilot, as_of=ctx.as_of, min_cell_size=ctx.params.min_cell_size)
    res = SectionResult()
    s = r.summary.set_index("metric")
    labels = {
        "pairs_3plus_held": ("Pairs with 3 or more sessions held", "share"),
        "sessions_held": ("Sessions held per pair", "number"),
        "adherence": ("Sessions held as a share of sessions due", "share"),
        "no_show_rate": ("No-show rate", "share"),
        "cancel_rate": ("Cancellation rate", "share"),
    }
    rows = []
    for key, (label, unit) in labels.items():
        if key not in s.index:
            continue
        row = s.loc[key]
        m = _add_row(ctx, key, row, label=label, unit=unit,
            section="behaviour", method=str(row.get("method", "")),
        )  # fmt: skip
        rows.append((label, m.display))
    if "sessions_planned" in s.index:
        rows.append(("Sessions planned per pair", f"{s.loc['sessions_planned'].estimate:.0f}"))
    res.add_table("Delivery", pd.DataFrame(rows, columns=["Measure", "Result (95% interval)"]))
    _fig(
        res,
        r,
        "Figure: sessions held per pair against the plan.",
        title="Sessions held per pair",
        x="pairs",
        y="sessions (count)",
    )
    _notes(res, r)
    return res


@section(
    "safety_summary",
    title="Psychological safety",
    part="behaviour",
    audiences=("sponsor", "program-lead"),
    order=30,
)
def safety_summary_section(ctx: SectionContext) -> SectionResult:
    from .safety import safety_summary

    _require(ctx, "surveys", purpose="the psychological-safety analysis")
    r = safety_summary(ctx.pilot, min_cell_size=ctx.params.min_cell_size, as_of=ctx.as_of)
    res = SectionResult()
    s = r.summary
    flag = s[s.metric == "pairs_any_flag"]
    if len(flag):
        row = flag.iloc[0]
        m = _add_row(ctx, "pairs_any_flag", row,
            label="Pairs with at least one pair-health flag", unit="share", section="behaviour", method="Wilson 95% interval",
        )  # fmt: skip
        res.text.append(
            f"{m.display} of pairs raised at least one pair-health flag (low or falling safety, "
            "missed pulses, stalled sessions, goals off track or a reporting-line conflict); the "
            "program lead receives the list with actions."
        )
    mean = s[(s.metric == "mean_safety") & (s.role == "all")]
    alpha = s[s.metric == "alpha"].set_index("wave")
    table = pd.DataFrame(
        {
            "Wave": mean.wave.astype(str),
            "Mean safety, 1-7 (95% interval)": [
                fmt_interval(e, lo, hi, "number", digits=2)
                for e, lo, hi in zip(mean.estimate, mean.ci_low, mean.ci_high, strict=True)
            ],
            "Cronbach's alpha": [
                fmt_interval(*alpha.loc[w, ["estimate", "ci_low", "ci_high"]], "number", digits=2)
                if w in alpha.index
                else ""
                for w in mean.wave
            ],
            "Respondents": mean.n.map(fmt_count),
        }
    )
    res.add_table("Psychological safety by pulse wave (Edmondson items, reverse-scored)", table)
    _fig(
        res,
        r,
        "Figure: mean psychological-safety score by pulse wave, with 95% intervals.",
        title="Psychological safety by pulse wave",
        x="pulse wave",
        y="mean score (1-7)",
    )
    _notes(res, r)
    return res


# -- Level 4: results --------------------------------------------------------------------------
def _retention(ctx: SectionContext):
    from .retention import pilot_retention

    if "retention" not in ctx.cache:  # shared by the retention, ROI, power and balance sections
        h = ctx.params.horizon_months
        horizons = tuple(sorted({6, h}))
        ctx.cache["retention"] = pilot_retention(
            ctx.pilot, population=_population(ctx), as_of=ctx.as_of, horizons=horizons
        )
    return ctx.cache["retention"]


@section(
    "retention",
    title="Retention vs control",
    part="results",
    audiences=("sponsor", "program-lead"),
    order=10,
)
def retention_section(ctx: SectionContext) -> SectionResult:
    r = _retention(ctx)
    h = ctx.params.horizon_months
    who = _ROLE_LABEL.get(ctx.params.primary_population, "participants")
    res = SectionResult()
    a = r.attrition_at(h)
    m = ctx.metrics.add(
        "retention_difference",
        a["difference"],
        a["ci_low"],
        a["ci_high"],
        label=f"Retention of {who} vs control at {h} months (percentage points)",
        unit="pp",
        n=a["n_treated"] + a["n_control"],
        section="results",
        headline="retention",
        better="higher",
        method="difference of Kaplan-Meier retention (no voluntary exit) at the horizon, "
        "participants minus control; "
        + (
            "95% interval by Newcombe's MOVER from the two groups' Kaplan-Meier intervals (the "
            "exact lower limit for a group without exits, whose Greenwood standard error is 0); "
            "the verdict and the p-value come from that one interval"
            if a["ci_method"] == "mover"
            else "Greenwood standard errors, Wald 95% interval"
        ),
    )
    hr = r.row(metric="hazard_ratio")
    mh = ctx.metrics.add(
        "hazard_ratio",
        hr.estimate,
        hr.ci_low,
        hr.ci_high,
        label=f"Hazard ratio of leaving voluntarily, {who} vs control",
        unit="ratio",
        n=_n(hr.n),
        section="results",
        better="lower",
        scale="log",
        method="Cox model, Efron ties, stratified by cohort",
    )
    for g, key in (("treated", "retention_participants"), ("control", "retention_control")):
        row = r.summary[
            (r.summary.metric == "retention") & (r.summary.group == g) & (r.summary.horizon == h)
        ]
        if len(row):
            row = row.iloc[0]
            _add_row(ctx, key, row,
                label=f"Retained at {h} months: {'participants' if g == 'treated' else 'control'}",
                unit="share", section="results", method="Kaplan-Meier, Greenwood 95% interval "
                "(exact Clopper-Pearson lower limit on those followed when no one left)",
            )  # fmt: skip
    if _finite(a["difference"]):
        res.text.append(
            f"At {h} months, {who} were retained {m.display} compared with the control group "
            f"({fmt_pct(1 - a['treated'])} vs {fmt_pct(1 - a['control'])}): {m.verdict}."
        )
    else:
        res.text.append(f"Retention at {h} months cannot be estimated yet: follow-up is too short.")
    if _finite(hr.estimate):
        res.text.append(f"The hazard ratio of leaving voluntarily is {mh.display} ({mh.verdict}).")
    else:
        res.text.append(
            "No hazard ratio is shown: there are too few leavers for a stable estimate."
        )
    s = r.summary
    per = s[s.metric.isin(["retention"])]
    table = pd.DataFrame(
        {
            "Group": per.group.map({"treated": "participants", "control": "control"}),
            "Months": per.horizon.map(lambda v: f"{v:g}"),
            "Retained (95% interval)": [
                fmt_interval(e, lo, hi, "share")
                for e, lo, hi in zip(per.estimate, per.ci_low, per.ci_high, strict=True)
            ],
            "People": per.n.map(fmt_count),
            "Still followed": per.n_at_risk.map(fmt_count),
        }
    )
    res.add_table("Retention (no voluntary exit) by group", table)
    tests = s[s.metric.isin(["logrank", "rmst_difference", "exact_test"])]
    res.add_table(
        "Tests",
        pd.DataFrame(
            {
                "Test": tests.metric.map(
                    {
                        "logrank": "Log-rank test",
                        "rmst_difference": "Restricted mean time retained, difference (months)",
                        "exact_test": "Exact test: share leaving by then, participants minus control",
                    }
                ),
                "Months": tests.horizon.map(lambda v: f"{v:g}" if _finite(v) else ""),
                "Estimate": [
                    fmt_interval(e, lo, hi, "number", digits=2)
                    if mt == "rmst_difference"
                    else (fmt_value(e, "pp") if mt == "exact_test" else f"{e:.2f}")
                    for e, lo, hi, mt in zip(
                        tests.estimate, tests.ci_low, tests.ci_high, tests.metric, strict=True
                    )
                ],
                "p-value": tests.p_value.map(lambda p: f"{p:.3f}" if _finite(p) else ""),
            }
        ),
    )
    _fig(
        res,
        r,
        "Figure: share retained (no voluntary exit) since the cohort start, with 95% bands and the number still followed.",
        title="Retention since the cohort start",
        x="months since cohort start",
        y="share retained",
    )
    if not r.cif_.empty:
        _fig(
            res,
            r,
            "Figure: cumulative incidence of voluntary exits; involuntary and other exits compete.",
            method="plot_cumulative_incidence",
            title="Voluntary exits (competing risks)",
            x="months since cohort start",
            y="cumulative incidence",
        )
    _notes(res, r)
    return res


@section(
    "engagement",
    title="Engagement vs control",
    part="results",
    audiences=("sponsor", "program-lead"),
    order=20,
)
def engagement_section(ctx: SectionContext) -> SectionResult:
    from .engagement import pilot_engagement

    _require(ctx, "surveys", purpose="the engagement analysis")
    r = pilot_engagement(ctx.pilot, min_cell_size=ctx.params.min_cell_size)
    res = SectionResult()
    s = r.summary
    main = s[(s.outcome == "engagement_index") & (s.role == "all")]
    if not len(main):
        raise InsufficientDataError("no engagement waves before and after the cohorts")
    row = main.iloc[0]
    m = _add_row(ctx, "engagement_did", row,
        label="Engagement change vs control (points, 1-5 index)", unit="points",
        section="results", headline="engagement", better="higher", method=str(row.method),
    )  # fmt: skip
    res.text.append(
        f"Participants' engagement index moved by {m.display} points more than the control "
        f"group's between the survey before and the survey after the program: {m.verdict}."
    )
    intent = s[(s.outcome == "retention_intent") & (s.role == "all")]
    if len(intent):
        row = intent.iloc[0]
        mi = _add_row(ctx, "retention_intent_did", row,
            label="Intention to stay, change vs control (points, 1-5)", unit="points", section="results", better="higher", method=str(row.method),
        )  # fmt: skip
        res.text.append(
            f"Stated intention to stay moved by {mi.display} points relative to control ({mi.verdict})."
        )
    table = pd.DataFrame(
        {
            "Outcome": s.outcome.map(
                {"engagement_index": "Engagement index", "retention_intent": "Intention to stay"}
            ),
            "Group": s.role.map(_ROLE_LABEL).fillna(s.role),
            "Difference-in-differences (95% interval)": [
                fmt_interval(e, lo, hi, "points")
                for e, lo, hi in zip(s.estimate, s.ci_low, s.ci_high, strict=True)
            ],
            "Participants": s.n_treated.map(fmt_count),
            "Controls": s.n_control.map(fmt_count),
        }
    )
    res.add_table("Engagement: change of participants minus change of the control group", table)
    _fig(
        res,
        r,
        "Figure: difference-in-differences estimates with 95% intervals, by group.",
        title="Engagement change vs control",
        x="difference-in-differences (points)",
        y="group",
    )
    _notes(res, r)
    return res


@section(
    "promotion", title="Promotions", part="results", audiences=("sponsor", "program-lead"), order=30
)
def promotion_section(ctx: SectionContext) -> SectionResult:
    from .promotion import pilot_promotion

    _require(ctx, "outcomes", purpose="the promotion analysis")
    role = "mentee" if ctx.params.primary_population == "mentee" else "mentor"
    r = pilot_promotion(
        ctx.pilot, role=role, as_of=ctx.as_of, min_cell_size=ctx.params.min_cell_size
    )
    res = SectionResult()
    s = r.summary
    rr = s[s.measure == "rate_ratio"]
    if len(rr):
        row = rr.iloc[0]
        m = _add_row(ctx, "promotion_rate_ratio", row,
            label=f"Promotion rate ratio, {role}s vs control", unit="ratio",
            section="results", better="higher", scale="log",
            method="promotions per person-year; exact conditional binomial interval",
        )  # fmt: skip
        res.text.append(
            f"Participants were promoted at {m.display} times the control group's rate ({m.verdict})."
        )
    table = pd.DataFrame(
        {
            "Measure": s.measure.map(
                {
                    "rate": "Promotions per person-year",
                    "rate_ratio": "Rate ratio",
                    "promoted_share": "Share promoted (Kaplan-Meier)",
                }
            ).fillna(s.measure),
            "Group": s.group.astype(str),
            "Result (95% interval)": [
                fmt_interval(e, lo, hi, "share" if ms == "promoted_share" else "ratio")
                for e, lo, hi, ms in zip(s.estimate, s.ci_low, s.ci_high, s.measure, strict=True)
            ],
            "People": s.n.map(fmt_count),
        }
    )
    res.add_table("Promotions since the cohort start", table)
    _fig(
        res,
        r,
        "Figure: share promoted since the cohort start, participants and control.",
        title="Promotions since the cohort start",
        x="months since cohort start",
        y="share promoted",
    )
    _notes(res, r)
    return res


# -- Level 5: ROI -------------------------------------------------------------------------------
@section(
    "roi",
    title="Return on investment and sensitivity",
    part="roi",
    audiences=("sponsor", "program-lead"),
)
def roi_section(ctx: SectionContext) -> SectionResult:
    from .roi import (
        participant_salary,
        program_costs,
        roi_from_retention,
        sensitivity,
    )

    r = _retention(ctx)
    p = ctx.params
    role = "mentee" if p.primary_population == "mentee" else "mentor"
    costs = program_costs(ctx.pilot, currency=p.currency, as_of=ctx.as_of)
    salary = participant_salary(ctx.pilot, role=role)
    roi = roi_from_retention(
        r, costs=costs, salary=salary, replacement_share=p.replacement_cost_share,
        horizon=min(p.horizon_months, 12), currency=p.currency,
    )  # fmt: skip
    res = SectionResult()
    row = roi.row(metric="roi_pct")
    m = _add_row(ctx, "roi_pct", row,
        label="Return on investment, first year (%)", unit="percent", n=None,
        section="roi", headline="roi", method="Phillips ROI on the measured retention difference; "
        "interval maps the difference's 95% interval (exact: ROI is linear in it)",
    )  # fmt: skip
    m.verdict = roi.verdict
    if not _finite(row.estimate) and _finite(row.ci_low) and _finite(row.ci_high):
        # Phillips: no improvement claimed on noise; the range is all there is to show
        m.display = (
            f"range {fmt_value(row.ci_low, 'percent')} to {fmt_value(row.ci_high, 'percent')}"
        )
    ctx.metrics.add(
        "program_cost",
        costs.total,
        label="Fully loaded program cost",
        unit="currency",
        section="roi",
    )
    be = roi.row(metric="break_even_exits")
    ctx.metrics.add(
        "break_even_exits", be.estimate, label="Prevented exits needed to pay for the program",
        unit="number", section="roi",
    )  # fmt: skip
    res.text.append(roi.statement())
    c = costs.summary
    res.add_table(
        "Program costs",
        pd.DataFrame(
            {
                "Item": c["item"].astype(str),
                "Basis": c["basis"].astype(str),
                "Amount": c["amount"].map(lambda v: fmt_currency(v, p.currency)),
            }
        ),
        "Assumptions (loaded hourly rates, kickoff and coordinator hours) are parameters of "
        "rm_analytics.roi.program_costs.",
    )
    sens = sensitivity(roi, salary=salary)
    res.add_table(
        "Sensitivity of the ROI (percent) to each assumption",
        sens.summary.rename(columns=lambda col: col.replace("_", " ").capitalize()),
    )
    _fig(
        res,
        sens,
        "Figure: how the ROI moves when one assumption changes (tornado chart).",
        title="ROI sensitivity",
        x="ROI (%)",
        y="assumption",
    )
    _notes(res, roi)
    return res


# -- power and planning ---------------------------------------------------------------------------
@section(
    "power",
    title="Power and what the next cohort needs",
    part="power",
    audiences=("sponsor", "program-lead"),
)
def power_section(ctx: SectionContext) -> SectionResult:
    from .power import mde_paired, planning_statement

    r = _retention(ctx)
    res = SectionResult()
    n_pairs = len(ctx.pilot.pairs)
    a = r.attrition_at(ctx.params.horizon_months)
    n_t, n_c = a["n_treated"], a["n_control"]
    pc = a["control"] if _finite(a["control"]) and a["control"] > 0 else None
    ratio = n_c / n_t if n_t else 1.0
    res.text.append(
        planning_statement(
            n_pairs,
            outcome="retention",
            p_event_control=pc if pc is not None else 0.15,
            controls_per_participant=ratio,
            horizon_months=ctx.params.horizon_months,
        )
        + ("" if pc is not None else " (control attrition assumed at 15%: none observed yet.)")
    )
    res.text.append(planning_statement(n_pairs, outcome="paired"))
    ctx.metrics.add(
        "mde_paired_dz", mde_paired(n_pairs), label=f"Smallest paired effect (d_z) detectable with {n_pairs} pairs",
        unit="number", section="power", digits=2, method="paired t-test, 80% power, two-sided alpha 0.05",
    )  # fmt: skip
    return res


@section(
    "benchmarks",
    title="External benchmarks",
    part="benchmarks",
    audiences=("sponsor", "program-lead"),
)
def benchmarks_section(ctx: SectionContext) -> SectionResult:
    from .external import external_benchmarks

    res = SectionResult()
    b = external_benchmarks()
    res.text.append(
        "For context only: these figures come from other organisations, mostly without a "
        "control group. They are not comparable with this pilot and never enter the ROI."
    )
    res.add_table(
        "Published figures (context only)",
        b.rename(columns=lambda col: col.replace("_", " ").capitalize()),
    )
    return res


@section(
    "balance",
    title="Control-group balance",
    part="appendix",
    audiences=("sponsor", "program-lead"),
    order=50,
)
def balance_section(ctx: SectionContext) -> SectionResult:
    from .matching import balance_table

    r = _retention(ctx)
    res = SectionResult()
    bal = r.balance_
    if bal is None:
        frame = r.frame_
        covs = [
            c
            for c in ("tenure_years", "level", "department", "age_band", "performance_rating")
            if c in frame
        ]
        if not covs:
            raise InsufficientDataError("no covariates to compare the groups on")
        bal = balance_table(frame, treatment="treated", covariates=covs)
        res.text.append(
            "The control group is the designated waitlist. Standardized mean differences (pooled SD "
            "of the two groups; |SMD| < 0.1 is the usual balance threshold) show how similar the groups are at the start."
        )
    else:
        res.text.append(
            "The control group was matched on the propensity score; balance before and after matching:"
        )
    shown = bal.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: f"{v:.2f}" if _finite(v) else "")
    res.add_table("Covariate balance (standardized mean differences)", shown)
    return res


# -- program lead: pair level ----------------------------------------------------------------------
@section(
    "pair_flags",
    title="Pair-health flags and actions",
    part="pairs",
    audiences=("program-lead",),
    order=0,
)
def pair_flags_section(ctx: SectionContext) -> SectionResult:
    from .safety import flag_pairs

    flags = flag_pairs(ctx.pilot, as_of=ctx.as_of)
    res = SectionResult()
    if flags.empty:
        res.text.append("No pair raised a flag.")
        return res
    n = flags.pair_id.nunique()
    res.text.append(
        f"{n} of {len(ctx.pilot.pairs)} pairs raised {len(flags)} flag(s). Thresholds are heuristics, not validated cut-offs."
    )
    cols = [c for c in ("pair_id", "flag", "severity", "wave", "evidence", "action") if c in flags]
    res.add_table(
        "Flags (most severe first)",
        flags[cols].rename(columns=lambda col: col.replace("_", " ").capitalize()),
    )
    return res


@section("delivery", title="Delivery by pair", part="pairs", audiences=("program-lead",), order=20)
def pair_delivery_section(ctx: SectionContext) -> SectionResult:
    from .delivery import pair_delivery

    _require(ctx, "sessions", purpose="the delivery analysis")
    d = pair_delivery(ctx.pilot, as_of=ctx.as_of)
    res = SectionResult()
    cols = [
        c
        for c in (
            "pair_id",
            "status",
            "sessions_held",
            "expected_by_now",
            "adherence",
            "days_since_last_held",
            "longest_gap_days",
            "health",
        )
        if c in d
    ]
    shown = d[cols].copy()
    if "adherence" in shown:
        shown["adherence"] = shown["adherence"].map(fmt_pct)
    res.add_table(
        "Sessions by pair", shown.rename(columns=lambda col: col.replace("_", " ").capitalize())
    )
    return res


# -- across cohorts ---------------------------------------------------------------------------------
@section(
    "cohort_trend",
    title="Cohort by cohort",
    part="results",
    audiences=("sponsor", "program-lead"),
    order=90,
)
def cohort_trend_section(ctx: SectionContext) -> SectionResult:
    """Delivery, goals and reaction per cohort, in start order (the pooled report's trend)."""
    from .delivery import delivery_summary
    from .goals import pilot_goals

    cohorts = ctx.pilot.cohort_ids
    if len(cohorts) < 2:
        raise InsufficientDataError("the trend across cohorts needs two or more cohorts")
    k = ctx.params.min_cell_size
    rows = []
    for c in cohorts:
        one = ctx.pilot.select(c)
        row = {"Cohort": c, "Pairs": fmt_count(len(one.pairs))}
        if one.sessions is not None:
            d = delivery_summary(one, as_of=ctx.as_of, min_cell_size=k).summary.set_index("metric")
            a = d.loc["adherence"]
            row["Sessions held / due"] = fmt_interval(a.estimate, a.ci_low, a.ci_high, "share")
        if one.checkpoints is not None and len(one.checkpoints):
            g = pilot_goals(one, min_cell_size=k).summary
            met = g[g.measure == "share_goal_met"]
            row["Goal met"] = (
                fmt_interval(*met.iloc[0][["estimate", "ci_low", "ci_high"]], "share")
                if len(met)
                else "not yet"
            )
        rows.append(row)
    res = SectionResult()
    res.add_table(
        "Delivery and goal attainment per cohort (95% intervals)",
        pd.DataFrame(rows),
        f"Cohorts with fewer than {k} pairs are not shown in detail.",
    )
    res.text.append(
        "Retention, engagement and skills are pooled across cohorts above (stratified by "
        "cohort); per-cohort reports come from `rm-analytics report --cohort each`."
    )
    return res
