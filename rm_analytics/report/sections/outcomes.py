"""The Kirkpatrick levels 1-4: reaction, learning, behaviour and goals, results.

Sections write plain language for the body of the report; the analyses' notes (methods,
conventions, exclusions) go to the appendix, and the supporting retention analyses to a table
of their own there.
"""

from __future__ import annotations

import pandas as pd

from ...errors import InsufficientDataError
from ..formatting import fmt_count, fmt_interval, fmt_pct, fmt_value, is_finite
from ..language import plain
from ..section import SectionContext, SectionResult, section
from ._common import (
    GROUP_WORDS,
    ROLE_LABEL,
    add_row,
    carry_notes,
    primary,
    result_figure,
    retention_fit,
    supporting,
)


def _verdict_phrase(verdict: str | None) -> str:
    return {
        "clear improvement": "a clear improvement",
        "suggestive improvement": "a suggestive improvement the data cannot confirm yet",
        "no meaningful difference": "no meaningful difference",
        "not enough evidence yet": "the data cannot yet tell this from no change",
        "suggestive deterioration": "a suggestive deterioration the data cannot confirm yet",
        "clear deterioration": "a clear deterioration",
    }.get(verdict or "", "not estimable")


@section(
    "reaction",
    title="Participants' reaction",
    part="reaction",
    audiences=("sponsor",),
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
        row = cur[(cur["item"] == item) & (cur["metric"] == "mean")]
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
    shown = s[s.metric != "text_answers"].copy()
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
                    shown.estimate, shown.ci_low, shown.ci_high, shown.metric, strict=True
                )
            ],
            "Respondents": shown.n.map(fmt_count),
        }
    )
    res.add_table("Feedback form", table, "Free-text answers are counted, never shown here.")
    n_text = int(s.loc[s.metric == "text_answers", "estimate"].fillna(0).sum())
    res.text.append(
        f"{fmt_count(n_text)} free-text comments were collected; they go to the program lead only."
    )
    carry_notes(res, r)
    return res


_SKILL_GROUP = {
    "mentee": "Senior mentees",
    "mentor": "Junior mentors",
    "control": "Control group",
}
_PLURAL = {"mentee": "mentees", "mentor": "mentors"}


@section("skills", title="Skill gain (pre/post)", part="learning", audiences=("sponsor",))
def skills_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.skills import pilot_skills

    ctx.pilot.require("skills", purpose="the skills analysis")
    r = pilot_skills(ctx.pilot, min_cell_size=ctx.params.min_cell_size)
    res = SectionResult()
    s = r.summary
    vs = s[s.metric == "change_vs_control"]
    if len(vs):
        row = vs.iloc[0]
        who = _PLURAL.get(str(row.role), str(row.role))
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
        sentence = (
            f"The {who}' self-rated skills rose by {m.display} points on a 1-10 scale more than "
            f"the control group's over the same period: {_verdict_phrase(m.verdict)}."
        )
        res.text.append(sentence)
        ctx.sentences["skills"] = sentence
    for key in ("mentee", "mentor"):
        row = s[(s.role == key) & (s.metric == "change")]
        if not len(row):
            continue
        row = row.iloc[0]
        role = _PLURAL[key]
        headline = not len(vs) and key == "mentee"
        m = add_row(
            ctx,
            f"skill_change_{role}",
            row,
            label=f"Pre/post change of {role}' skills (points, 1-10 scale)",
            unit="points",
            section="learning",
            better="higher" if headline else None,
            headline="skills" if headline else None,
            method="mean paired change with t 95% interval",
        )
        if headline:
            sentence = (
                f"The {role}' self-rated skills rose by {m.display} points on a 1-10 scale "
                "between the assessments before and after the program (no control group was "
                f"assessed on these skills): {_verdict_phrase(m.verdict)}."
            )
            res.text.append(sentence)
            ctx.sentences["skills"] = sentence
    shown = s[s.metric.isin(["change", "change_vs_control"])]
    table = pd.DataFrame(
        {
            "Group": shown.role.map(_SKILL_GROUP).fillna(shown.role.astype(str)),
            "Comparison": shown.metric.map(
                {"change": "after minus before", "change_vs_control": "beyond the control group"}
            ),
            "Skills assessed": shown.skills.astype(str).map(plain),
            "Change, points (95% interval)": [
                fmt_interval(e, lo, hi, "points")
                for e, lo, hi in zip(shown.estimate, shown.ci_low, shown.ci_high, strict=True)
            ],
            "People": shown.n.map(fmt_count),
        }
    )
    res.add_table("Self-rated skills (1-10): change from before to after the program", table)
    result_figure(
        res,
        r,
        "After minus before, in points on the 1-10 scale, by group, with 95% intervals; the "
        "last row is the mentors' gain beyond the control group's.",
        title="Change in self-rated skills",
        x="change in points (after minus before)",
        y="group",
    )
    carry_notes(res, r)
    return res


@section("goals", title="SMART-goal attainment", part="behaviour", audiences=("sponsor",))
def goals_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.goals import pilot_goals

    ctx.pilot.require("checkpoints", purpose="the goals analysis")
    r = pilot_goals(ctx.pilot, min_cell_size=ctx.params.min_cell_size)
    res = SectionResult()
    s = r.summary
    met = s[s.metric == "share_goal_met"]
    if len(met):
        row = met.iloc[0]
        m = add_row(
            ctx,
            "goal_met_share",
            row,
            label="Pairs that met their SMART goal",
            unit="share",
            section="behaviour",
            method="share of pairs whose goal was met at the endpoint; Wilson 95% interval",
        )
        res.text.append(f"{m.display} of pairs met their SMART goal by the endpoint.")
    off = s[s.metric == "share_off_track"]
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
        res.text.append(f"At the week-6 check {m.display} of pairs were off track.")
    checkpoint = {"week6": "week 6", "endpoint": "end of the program"}
    table = pd.DataFrame(
        {
            "Measure": s.metric.map(
                {
                    "mean_progress": "Mean progress (1-5)",
                    "share_goal_met": "Goal met",
                    "share_off_track": "Off track (progress 2 or less)",
                }
            ).fillna(s.metric.map(plain)),
            "Check": s.checkpoint.astype(str).map(checkpoint).fillna(s.checkpoint.astype(str)),
            "Result (95% interval)": [
                fmt_interval(
                    e,
                    lo,
                    hi,
                    "share" if str(ms).startswith("share") else "number",
                    digits=None if str(ms).startswith("share") else 2,
                )
                for e, lo, hi, ms in zip(s.estimate, s.ci_low, s.ci_high, s.metric, strict=True)
            ],
            "Pairs": s.n.map(fmt_count),
        }
    )
    res.add_table("Progress against the SMART goals", table)
    k = ctx.params.min_cell_size
    result_figure(
        res,
        r,
        "Share of pairs at each progress rating (1 = no progress, 5 = goal achieved), at week 6 "
        f"and at the end. Ratings given by fewer than {k} pairs are hidden: drawn as a hatched "
        "frame marked hidden, not as a bar.",
        title="Progress against the SMART goal",
        x="progress rating (1-5)",
        y="share of pairs",
        labels={"week6": "week 6", "endpoint": "end of the program"},
    )
    carry_notes(res, r)
    return res


@section(
    "delivery_summary",
    title="Sessions and relationship health",
    part="behaviour",
    audiences=("sponsor",),
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
    if "sessions_planned" in s.index and is_finite(s.loc["sessions_planned"].estimate):
        rows.append(
            ("Sessions planned per pair", fmt_value(s.loc["sessions_planned"].estimate, "count"))
        )
    if "adherence" in s.index and is_finite(s.loc["adherence"].estimate):
        res.text.append(
            f"Pairs held {fmt_pct(s.loc['adherence'].estimate)} of the sessions due by "
            f"{ctx.as_of:%d %B %Y}."
        )
    # the table says it all: no figure repeating its numbers (one number, one place)
    res.add_table("Delivery", pd.DataFrame(rows, columns=["Measure", "Result (95% interval)"]))
    carry_notes(res, r)
    return res


@section(
    "safety_summary",
    title="Psychological safety",
    part="behaviour",
    audiences=("sponsor",),
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
    mean = s[(s.metric == "mean_safety") & (s.role == "both")]
    if mean.empty:
        raise InsufficientDataError("no psychological-safety pulse has answers yet")
    alpha = s[s.metric == "alpha"].set_index("wave")
    k = int(r.arguments.get("scale_points", 7) or 7)
    table = pd.DataFrame(
        {
            "Pulse": mean.wave.astype(str),
            f"Mean safety, 1-{k} (95% interval)": [
                fmt_interval(e, lo, hi, "number", digits=2)
                for e, lo, hi in zip(mean.estimate, mean.ci_low, mean.ci_high, strict=True)
            ],
            "Consistency of the answers (0-1)": [
                fmt_interval(*alpha.loc[w, ["estimate", "ci_low", "ci_high"]], "number", digits=2)
                if w in alpha.index
                else ""
                for w in mean.wave
            ],
            "Respondents": mean.n.map(fmt_count),
        }
    )
    res.add_table("Psychological safety at each pulse (Edmondson's seven questions)", table)
    result_figure(
        res,
        r,
        f"Mean score (1-{k}) at each pulse, for everyone and by role, with 95% intervals; the "
        "dotted line is the middle of the scale.",
        title="Psychological safety at each pulse",
        x="pulse",
        y=f"mean score (1-{k})",
    )
    carry_notes(res, r)
    return res


@section(
    "retention",
    title="Retention vs control",
    part="results",
    audiences=("sponsor",),
    order=10,
)
def retention_section(ctx: SectionContext) -> SectionResult:
    r = retention_fit(ctx)
    h = ctx.params.horizon_months
    res = SectionResult()
    head = primary(ctx)
    ctx.metrics.add(
        "retention_difference",
        head.estimate,
        head.ci_low,
        head.ci_high,
        label=f"Retention of {head.who} vs control at {h} months (percentage points)",
        unit="pp",
        n=head.n_treated + head.n_control,
        section="results",
        headline="retention",
        better="higher",
        role="primary",
        p_value=head.p_value,
        method="pre-declared primary estimand: difference of Kaplan-Meier retention (no "
        "voluntary exit) at the horizon, participants minus control; 95% interval by "
        "Newcombe's square-and-add method (MOVER) from the two groups' Kaplan-Meier intervals "
        "(the exact lower limit for a group without exits), p-value by inverting that interval: "
        "the verdict and the p-value come from that one interval",
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
    sentence = head.sentence()
    res.text.append(sentence)
    ctx.sentences["retention"] = sentence
    support = supporting(ctx)
    for s in support:
        if s.key == "hazard_ratio":
            hr = r.row(metric="hazard_ratio")
            ctx.metrics.add(
                "hazard_ratio",
                hr.estimate,
                hr.ci_low,
                hr.ci_high,
                label=f"Hazard ratio of leaving voluntarily, {head.who} vs control (supporting)",
                unit="ratio",
                n=int(hr.n) if is_finite(hr.n) else None,
                section="results",
                role="supporting",
                method="Cox model, Efron ties, stratified by cohort; a supporting analysis, "
                "not the headline",
            )
    from ..estimand import agreement, reconcile

    said = agreement(head, support)
    if said:
        res.text.append(said)
    res.text.extend(reconcile(head, support))
    s = r.summary
    per = s[s.metric.isin(["retention"])]
    table = pd.DataFrame(
        {
            "Group": per.group.map(
                {"treated": f"participants ({head.who})", "control": "control group"}
            ),
            "Months after the start": per.horizon.map(lambda v: f"{v:g}"),
            "Still employed (95% interval)": [
                fmt_interval(e, lo, hi, "share")
                for e, lo, hi in zip(per.estimate, per.ci_low, per.ci_high, strict=True)
            ],
            "People": per.n.map(fmt_count),
            "Followed that long": per.n_at_risk.map(fmt_count),
        }
    )
    res.add_table("Share still employed (no voluntary exit) by group", table)
    result_figure(
        res,
        r,
        "Share of each group with no voluntary exit, by months since their cohort started, "
        f"with 95% bands; the dotted line marks the headline's {h} months; the numbers below "
        "the axis are the people still followed.",
        title="Share still employed since the cohort start",
        x="months since the cohort start",
        y="share still employed",
        plot_kwargs={"statistics": False},
        decorate=lambda ax: _mark_horizon(ax, h),
    )
    if not ctx.sponsor and not r.cif_.empty:
        result_figure(
            res,
            r,
            "Cumulative share leaving voluntarily, with involuntary and other exits counted as "
            "competing.",
            method="plot_cumulative_incidence",
            title="Voluntary exits over time",
            x="months since the cohort start",
            y="share who left voluntarily",
        )
    carry_notes(res, r)
    return res


def _mark_horizon(ax, horizon: int) -> None:
    ax.axvline(horizon, color="dimgrey", lw=1, ls=":")
    ax.text(horizon, 0.5, f" {horizon} months (headline)", color="dimgrey", fontsize=8,
            rotation=90, ha="right", va="center", transform=ax.get_xaxis_transform())  # fmt: skip


@section(
    "retention_supporting",
    title="Retention: supporting analyses",
    part="appendix",
    audiences=("sponsor", "program-lead"),
    order=10,
)
def retention_supporting_section(ctx: SectionContext) -> SectionResult:
    """The declared primary estimand and the supporting analyses, side by side."""
    head = primary(ctx)
    res = SectionResult()
    res.text.append(head.declaration())
    rows = [
        (
            f"Headline: share still employed at {head.horizon} months, participants minus "
            "control (percentage points)",
            head.display(),
            head.favours,
            head.verdict.label if head.estimable else "not estimable",
        )
    ]
    for s in supporting(ctx):
        rows.append(
            (s.name, s.display, s.favours, "conclusive" if s.conclusive else "not conclusive")
        )
    res.add_table(
        "Headline and supporting analyses of retention",
        pd.DataFrame(rows, columns=["Analysis", "Result (95% interval)", "Points to", "Reading"]),
        "Supporting analyses are oriented like the headline; they never set it.",
    )
    return res


@section(
    "engagement",
    title="Engagement vs control",
    part="results",
    audiences=("sponsor",),
    order=20,
)
def engagement_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.engagement import pilot_engagement

    ctx.pilot.require("surveys", purpose="the engagement analysis")
    r = pilot_engagement(ctx.pilot, min_cell_size=ctx.params.min_cell_size, seed=ctx.params.seed)
    res = SectionResult()
    s = r.summary
    main = s[(s.metric == "engagement_index") & (s.role == "both")]
    if not len(main) or not is_finite(main.iloc[0].estimate):
        raise InsufficientDataError(
            "no engagement survey before and after a cohort with both participants and "
            "controls answering yet"
        )
    row = main.iloc[0]
    m = add_row(ctx, "engagement_did", row,
        label="Engagement change vs control (points, 1-5 index)", unit="points",
        section="results", headline="engagement", better="higher", method=str(row.method),
        no_interval="too few groups (teams or people) with participants, or with controls, for an interval",
    )  # fmt: skip
    sentence = (
        f"Participants' engagement score (1-5) moved by {m.display} points more than the "
        "control group's between the survey before and the survey after the program: "
        f"{_verdict_phrase(m.verdict)}."
    )
    res.text.append(sentence)
    ctx.sentences["engagement"] = sentence
    intent = s[(s.metric == "retention_intent") & (s.role == "both")]
    if len(intent):
        row = intent.iloc[0]
        mi = add_row(ctx, "retention_intent_did", row,
            label="Intention to stay, change vs control (points, 1-5)", unit="points", section="results", better="higher", method=str(row.method),
        )  # fmt: skip
        res.text.append(
            f"Stated intention to stay moved by {mi.display} points relative to the control "
            f"group: {_verdict_phrase(mi.verdict)}."
        )
    table = pd.DataFrame(
        {
            "Outcome": s.metric.map(
                {
                    "engagement_index": "Engagement (1-5)",
                    "retention_intent": "Intention to stay (1-5)",
                }
            ).fillna(s.metric.map(plain)),
            "Group": s.role.map({**ROLE_LABEL, "both": ROLE_LABEL["all"]}).fillna(
                s.role.map(plain)
            ),
            "Change beyond the control group's, points (95% interval)": [
                fmt_interval(e, lo, hi, "points")
                for e, lo, hi in zip(s.estimate, s.ci_low, s.ci_high, strict=True)
            ],
            "Participants": s.n_treated.map(fmt_count),
            "Controls": s.n_control.map(fmt_count),
        }
    )
    res.add_table(
        "Engagement: change of participants beyond the change of the control group", table
    )
    result_figure(
        res,
        r,
        "Change of each group of participants beyond the control group's change, in points on "
        "the 1-5 scale, with 95% intervals.",
        title="Engagement change beyond the control group",
        x="change beyond the control group (points)",
        y="group",
    )
    carry_notes(res, r)
    return res


@section("promotion", title="Promotions", part="results", audiences=("sponsor",), order=30)
def promotion_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.promotion import pilot_promotion

    ctx.pilot.require("outcomes", purpose="the promotion analysis")
    role = "mentee" if ctx.params.primary_population == "mentee" else "mentor"
    r = pilot_promotion(
        ctx.pilot, role=role, as_of=ctx.as_of, min_cell_size=ctx.params.min_cell_size
    )
    res = SectionResult()
    s = r.summary
    rr = s[s.metric == "rate_ratio"]
    if len(rr):
        row = rr.iloc[0]
        m = add_row(ctx, "promotion_rate_ratio", row,
            label=f"Promotion rate ratio, {role}s vs control", unit="ratio",
            section="results", better="higher", scale="log",
            method="promotions per person-year; exact conditional binomial interval",
        )  # fmt: skip
        res.text.append(
            f"Participants were promoted at {m.display} times the control group's rate: "
            f"{_verdict_phrase(m.verdict)}."
        )
    table = pd.DataFrame(
        {
            "Measure": s.metric.map(
                {
                    "rate": "Promotions per person and year",
                    "rate_ratio": "Participants' rate relative to the control group's",
                    "promoted_share": "Share promoted at least once",
                }
            ).fillna(s.metric.map(plain)),
            "Group": s.group.astype(str).replace(GROUP_WORDS),
            "Result (95% interval)": [
                fmt_interval(e, lo, hi, "share" if ms == "promoted_share" else "ratio")
                for e, lo, hi, ms in zip(s.estimate, s.ci_low, s.ci_high, s.metric, strict=True)
            ],
            "People": s.n.map(fmt_count),
        }
    )
    res.add_table("Promotions since the cohort start", table)
    result_figure(
        res,
        r,
        "Share of each group promoted at least once, by years since their cohort started.",
        title="Promotions since the cohort start",
        x="years since the cohort start",
        y="share promoted at least once",
    )
    carry_notes(res, r)
    return res


@section(
    "cohort_trend",
    title="Cohort by cohort",
    part="results",
    audiences=("sponsor",),
    order=90,
)
def cohort_trend_section(ctx: SectionContext) -> SectionResult:
    """Delivery and goals per cohort, in start order (the pooled report's trend)."""
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
        small = len(one.pairs) < k
        if one.sessions is not None and len(one.sessions):
            d = delivery_summary(one, as_of=ctx.as_of, min_cell_size=k).summary.set_index("metric")
            a = d.loc["adherence"]
            row["Sessions held out of those due"] = (
                "hidden" if small else fmt_interval(a.estimate, a.ci_low, a.ci_high, "share")
            )
        if one.checkpoints is not None and len(one.checkpoints):
            g = pilot_goals(one, min_cell_size=k).summary
            met = g[g.metric == "share_goal_met"]
            row["Goal met"] = (
                "hidden"
                if small
                else fmt_interval(*met.iloc[0][["estimate", "ci_low", "ci_high"]], "share")
                if len(met)
                else "not yet"
            )
        rows.append(row)
    res = SectionResult()
    res.add_table(
        "Delivery and goal attainment per cohort (95% intervals)",
        pd.DataFrame(rows),
        f"Results of cohorts with fewer than {k} pairs are hidden.",
    )
    res.text.append(
        "Retention, engagement and skills are pooled across cohorts above; a report per cohort "
        "can be rendered for each of them."
    )
    return res
