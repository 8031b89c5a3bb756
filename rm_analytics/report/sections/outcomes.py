"""The Kirkpatrick levels 1-4: reaction, learning, behaviour and goals, results."""

from __future__ import annotations

import pandas as pd

from ...errors import InsufficientDataError
from ..formatting import fmt_count, fmt_interval, fmt_pct, fmt_value, is_finite
from ..section import SectionContext, SectionResult, section
from ._common import ROLE_LABEL, add_row, carry_notes, count_or_none, result_figure, retention_fit


@section(
    "reaction",
    title="Participants' reaction",
    part="reaction",
    audiences=("sponsor", "program-lead"),
)
def reaction_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.reaction import pilot_reaction

    ctx.pilot.require("surveys", purpose="the reaction analysis")
    if not (ctx.pilot.surveys.survey.astype("string") == "feedback").any():
        raise InsufficientDataError("the surveys hold no feedback form")
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
        m = add_row(
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
            add_row(
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
    carry_notes(res, r)
    return res


@section(
    "skills", title="Skill gain (pre/post)", part="learning", audiences=("sponsor", "program-lead")
)
def skills_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.skills import pilot_skills

    ctx.pilot.require("skills", purpose="the skills analysis")
    r = pilot_skills(ctx.pilot, min_cell_size=ctx.params.min_cell_size)
    res = SectionResult()
    s = r.summary
    vs = s[s.measure == "change_vs_control"]
    if len(vs):
        row = vs.iloc[0]
        who = row.role
        m = add_row(
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
        m = add_row(
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
                lambda v: f"{v:.2f}" if is_finite(v) else ""
            ),
            "People": shown.n.map(fmt_count),
        }
    )
    res.add_table("Skills before and after the program", table)
    result_figure(
        res,
        r,
        "Figure: mean self-rated skill before and after the program, with 95% intervals.",
        title="Self-rated skills before and after",
        x="group",
        y="score (1-10)",
    )
    carry_notes(res, r)
    return res


@section(
    "goals", title="SMART-goal attainment", part="behaviour", audiences=("sponsor", "program-lead")
)
def goals_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.goals import pilot_goals

    ctx.pilot.require("checkpoints", purpose="the goals analysis")
    r = pilot_goals(ctx.pilot, min_cell_size=ctx.params.min_cell_size)
    res = SectionResult()
    s = r.summary
    met = s[s.measure == "share_goal_met"]
    if len(met):
        row = met.iloc[0]
        m = add_row(
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
        m = add_row(
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
    result_figure(
        res,
        r,
        "Figure: distribution of goal progress ratings at each checkpoint (small cells hidden).",
        title="Progress against the SMART goal",
        x="progress rating (1-5)",
        y="pairs (count)",
    )
    carry_notes(res, r)
    return res


@section(
    "delivery_summary",
    title="Sessions and relationship health",
    part="behaviour",
    audiences=("sponsor", "program-lead"),
    order=20,
)
def delivery_summary_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.delivery import delivery_summary

    ctx.pilot.require("sessions", purpose="the delivery analysis")
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
        m = add_row(ctx, key, row, label=label, unit=unit,
            section="behaviour", method=str(row.get("method", "")),
        )  # fmt: skip
        rows.append((label, m.display))
    if "sessions_planned" in s.index:
        rows.append(("Sessions planned per pair", f"{s.loc['sessions_planned'].estimate:.0f}"))
    res.add_table("Delivery", pd.DataFrame(rows, columns=["Measure", "Result (95% interval)"]))
    result_figure(
        res,
        r,
        "Figure: sessions held per pair against the plan.",
        title="Sessions held per pair",
        x="pairs",
        y="sessions (count)",
    )
    carry_notes(res, r)
    return res


@section(
    "safety_summary",
    title="Psychological safety",
    part="behaviour",
    audiences=("sponsor", "program-lead"),
    order=30,
)
def safety_summary_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.safety import safety_summary

    ctx.pilot.require("surveys", purpose="the psychological-safety analysis")
    r = safety_summary(ctx.pilot, min_cell_size=ctx.params.min_cell_size, as_of=ctx.as_of)
    res = SectionResult()
    s = r.summary
    flag = s[s.metric == "pairs_any_flag"]
    if len(flag):
        row = flag.iloc[0]
        m = add_row(ctx, "pairs_any_flag", row,
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
    result_figure(
        res,
        r,
        "Figure: mean psychological-safety score by pulse wave, with 95% intervals.",
        title="Psychological safety by pulse wave",
        x="pulse wave",
        y="mean score (1-7)",
    )
    carry_notes(res, r)
    return res


@section(
    "retention",
    title="Retention vs control",
    part="results",
    audiences=("sponsor", "program-lead"),
    order=10,
)
def retention_section(ctx: SectionContext) -> SectionResult:
    r = retention_fit(ctx)
    h = ctx.params.horizon_months
    who = ROLE_LABEL.get(ctx.params.primary_population, "participants")
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
        n=count_or_none(hr.n),
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
            add_row(ctx, key, row,
                label=f"Retained at {h} months: {'participants' if g == 'treated' else 'control'}",
                unit="share", section="results", method="Kaplan-Meier, Greenwood 95% interval "
                "(exact Clopper-Pearson lower limit on those followed when no one left)",
            )  # fmt: skip
    if is_finite(a["difference"]):
        res.text.append(
            f"At {h} months, {who} were retained {m.display} compared with the control group "
            f"({fmt_pct(1 - a['treated'])} vs {fmt_pct(1 - a['control'])}): {m.verdict}."
        )
    else:
        res.text.append(f"Retention at {h} months cannot be estimated yet: follow-up is too short.")
    if is_finite(hr.estimate):
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
                "Months": tests.horizon.map(lambda v: f"{v:g}" if is_finite(v) else ""),
                "Estimate": [
                    fmt_interval(e, lo, hi, "number", digits=2)
                    if mt == "rmst_difference"
                    else (fmt_value(e, "pp") if mt == "exact_test" else f"{e:.2f}")
                    for e, lo, hi, mt in zip(
                        tests.estimate, tests.ci_low, tests.ci_high, tests.metric, strict=True
                    )
                ],
                "p-value": tests.p_value.map(lambda p: f"{p:.3f}" if is_finite(p) else ""),
            }
        ),
    )
    result_figure(
        res,
        r,
        "Figure: share retained (no voluntary exit) since the cohort start, with 95% bands and the number still followed.",
        title="Retention since the cohort start",
        x="months since cohort start",
        y="share retained",
    )
    if not r.cif_.empty:
        result_figure(
            res,
            r,
            "Figure: cumulative incidence of voluntary exits; involuntary and other exits compete.",
            method="plot_cumulative_incidence",
            title="Voluntary exits (competing risks)",
            x="months since cohort start",
            y="cumulative incidence",
        )
    carry_notes(res, r)
    return res


@section(
    "engagement",
    title="Engagement vs control",
    part="results",
    audiences=("sponsor", "program-lead"),
    order=20,
)
def engagement_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.engagement import pilot_engagement

    ctx.pilot.require("surveys", purpose="the engagement analysis")
    r = pilot_engagement(ctx.pilot, min_cell_size=ctx.params.min_cell_size)
    res = SectionResult()
    s = r.summary
    main = s[(s.outcome == "engagement_index") & (s.role == "all")]
    if not len(main):
        raise InsufficientDataError("no engagement waves before and after the cohorts")
    row = main.iloc[0]
    m = add_row(ctx, "engagement_did", row,
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
        mi = add_row(ctx, "retention_intent_did", row,
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
            "Group": s.role.map(ROLE_LABEL).fillna(s.role),
            "Difference-in-differences (95% interval)": [
                fmt_interval(e, lo, hi, "points")
                for e, lo, hi in zip(s.estimate, s.ci_low, s.ci_high, strict=True)
            ],
            "Participants": s.n_treated.map(fmt_count),
            "Controls": s.n_control.map(fmt_count),
        }
    )
    res.add_table("Engagement: change of participants minus change of the control group", table)
    result_figure(
        res,
        r,
        "Figure: difference-in-differences estimates with 95% intervals, by group.",
        title="Engagement change vs control",
        x="difference-in-differences (points)",
        y="group",
    )
    carry_notes(res, r)
    return res


@section(
    "promotion", title="Promotions", part="results", audiences=("sponsor", "program-lead"), order=30
)
def promotion_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.promotion import pilot_promotion

    ctx.pilot.require("outcomes", purpose="the promotion analysis")
    role = "mentee" if ctx.params.primary_population == "mentee" else "mentor"
    r = pilot_promotion(
        ctx.pilot, role=role, as_of=ctx.as_of, min_cell_size=ctx.params.min_cell_size
    )
    res = SectionResult()
    s = r.summary
    rr = s[s.measure == "rate_ratio"]
    if len(rr):
        row = rr.iloc[0]
        m = add_row(ctx, "promotion_rate_ratio", row,
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
    result_figure(
        res,
        r,
        "Figure: share promoted since the cohort start, participants and control.",
        title="Promotions since the cohort start",
        x="months since cohort start",
        y="share promoted",
    )
    carry_notes(res, r)
    return res


@section(
    "cohort_trend",
    title="Cohort by cohort",
    part="results",
    audiences=("sponsor", "program-lead"),
    order=90,
)
def cohort_trend_section(ctx: SectionContext) -> SectionResult:
    """Delivery, goals and reaction per cohort, in start order (the pooled report's trend)."""
    from ...metrics.delivery import delivery_summary
    from ...metrics.goals import pilot_goals

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
