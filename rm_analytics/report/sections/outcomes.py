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
    cells,
    counts,
    hidden_note,
    primary,
    result_figure,
    retention_fit,
    retention_groups,
    shown,
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
    r = pilot_reaction(ctx.pilot)
    res = SectionResult()
    s = r.summary
    if s.empty:
        raise InsufficientDataError("the feedback form has no answers")
    hidden = ctx.privacy.rows("reaction", s, id_cols=["wave", "item", "metric"])
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
            hide="complement" if hidden[rec.index[0]] else None,
        )
        res.text.append(
            f"At the {last} feedback, the share of respondents who would recommend the program "
            f"is {m.display}."
            if m.suppressed
            else f"At the {last} feedback, {m.display} of respondents would recommend the program."
        )
    for item, label in (
        ("progress", "Progress rating (1-5)"),
        ("safety", "Felt safe to speak openly (1-5)"),
    ):
        row = cur[(cur["item"] == item) & (cur["metric"] == "mean")]
        if len(row):
            hide = bool(hidden[row.index[0]])
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
                hide="complement" if hide else None,
            )
    rated = s[s.metric != "text_answers"].copy()
    off = hidden[rated.index]
    table = pd.DataFrame(
        {
            "Wave": rated.wave.astype(str),
            "Question": rated["item"].map(
                {
                    "progress": "Progress (1-5)",
                    "safety": "Safety (1-5)",
                    "recommend": "Would recommend",
                }
            ),
            "Result (95% interval)": [
                shown(
                    h,
                    fmt_interval(
                        e,
                        lo,
                        hi,
                        "share" if m == "share_yes" else "number",
                        digits=None if m == "share_yes" else 2,
                    ),
                )
                for e, lo, hi, m, h in zip(
                    rated.estimate, rated.ci_low, rated.ci_high, rated.metric, off, strict=True
                )
            ],
            "Respondents": counts(rated.n, off),
        }
    )
    res.add_table(
        "Feedback form",
        table,
        "Free-text answers are counted, never shown here."
        + (" " + hidden_note(ctx) if off.any() else ""),
    )
    n_text = int(s.loc[s.metric == "text_answers", "estimate"].fillna(0).sum())
    res.text.append(
        f"{fmt_count(n_text)} free-text comments were collected; they go to the program lead only."
        if not ctx.privacy.small(n_text)
        else "Free-text comments were collected; they go to the program lead only."
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
    r = pilot_skills(ctx.pilot)
    res = SectionResult()
    s = r.summary
    hidden = ctx.privacy.rows("skills", s, id_cols=["role", "metric"], n_cols=["n", "n_control"])
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
            groups=[row.n, row.n_control],
            hide="complement" if hidden[vs.index[0]] else None,
        )
        sentence = (
            f"The {who}' skill gain beyond the control group's is {m.display}."
            if m.suppressed
            else f"The {who}' self-rated skills rose by {m.display} points on a 1-10 scale more "
            f"than the control group's over the same period: {_verdict_phrase(m.verdict)}."
        )
        res.text.append(sentence)
        ctx.sentences["skills"] = sentence
    for key in ("mentee", "mentor"):
        row = s[(s.role == key) & (s.metric == "change")]
        if not len(row):
            continue
        hide = bool(hidden[row.index[0]])
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
            hide="complement" if hide else None,
        )
        if headline:
            sentence = (
                f"The {role}' change in self-rated skills is {m.display}."
                if m.suppressed
                else f"The {role}' self-rated skills rose by {m.display} points on a 1-10 scale "
                "between the assessments before and after the program (no control group was "
                f"assessed on these skills): {_verdict_phrase(m.verdict)}."
            )
            res.text.append(sentence)
            ctx.sentences["skills"] = sentence
    rows = s[s.metric.isin(["change", "change_vs_control"])]
    off = hidden[rows.index]
    table = pd.DataFrame(
        {
            "Group": rows.role.map(_SKILL_GROUP).fillna(rows.role.astype(str)),
            "Comparison": rows.metric.map(
                {"change": "after minus before", "change_vs_control": "beyond the control group"}
            ),
            "Skills assessed": rows.skills.astype(str).map(plain),
            "Change, points (95% interval)": cells(rows, off, "points"),
            "People": counts(rows.n, off),
        }
    )
    res.add_table(
        "Self-rated skills (1-10): change from before to after the program",
        table,
        hidden_note(ctx) if off.any() else "",
    )
    result_figure(
        res,
        r,
        "After minus before, in points on the 1-10 scale, by group, with 95% intervals; the "
        "last row is the mentors' gain beyond the control group's."
        + (" Hidden rows are marked." if off.any() else ""),
        title="Change in self-rated skills",
        x="change in points (after minus before)",
        y="group",
        plot_kwargs={"hidden": hidden.to_numpy()} if hidden.any() else None,
    )
    carry_notes(res, r)
    return res


@section("goals", title="SMART-goal attainment", part="behaviour", audiences=("sponsor",))
def goals_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.goals import pilot_goals

    ctx.pilot.require("checkpoints", purpose="the goals analysis")
    r = pilot_goals(ctx.pilot)
    res = SectionResult()
    s = r.summary
    hidden = ctx.privacy.rows("goals", s, id_cols=["metric", "checkpoint"])
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
            hide="complement" if hidden[met.index[0]] else None,
            who="pairs",
        )
        res.text.append(
            f"The share of pairs that met their SMART goal is {m.display}."
            if m.suppressed
            else f"{m.display} of pairs met their SMART goal by the endpoint."
        )
    off_track = s[s.metric == "share_off_track"]
    if len(off_track):
        row = off_track.iloc[0]
        m = add_row(
            ctx,
            "off_track_week6_share",
            row,
            label="Pairs off track at week 6 (progress 2 or less)",
            unit="share",
            section="behaviour",
            method="Wilson 95% interval",
            hide="complement" if hidden[off_track.index[0]] else None,
            who="pairs",
        )
        res.text.append(
            f"The share of pairs off track at the week-6 check is {m.display}."
            if m.suppressed
            else f"At the week-6 check {m.display} of pairs were off track."
        )
    checkpoint = {"week6": "week 6", "endpoint": "end of the program"}
    units = s.metric.map(lambda ms: "share" if str(ms).startswith("share") else "number")
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
                shown(h, fmt_interval(e, lo, hi, u, digits=None if u == "share" else 2))
                for e, lo, hi, u, h in zip(
                    s.estimate, s.ci_low, s.ci_high, units, hidden, strict=True
                )
            ],
            "Pairs": counts(s.n, hidden),
        }
    )
    res.add_table(
        "Progress against the SMART goals", table, hidden_note(ctx, "pairs") if hidden.any() else ""
    )
    k = ctx.privacy.min_group
    cells_hidden = _distribution_hidden(ctx, r.distribution_, s, hidden)
    labels = {"week6": "week 6", "endpoint": "end of the program"}
    if cells_hidden.all():
        res.text.append(
            f"How the ratings spread is not shown: some ratings were given by fewer than {k} "
            "pairs, and the mean and shares in the table would give them away."
        )
    else:
        gone = sorted(set(r.distribution_.checkpoint[cells_hidden].astype(str)))
        result_figure(
            res,
            r,
            "Share of pairs at each progress rating (1 = no progress, 5 = goal achieved), at "
            "week 6 and at the end."
            + (
                f" The ratings of {' and '.join(labels.get(c, c) for c in gone)} are hidden "
                f"(some were given by fewer than {k} pairs, and the mean and shares in the "
                "table would give them away): drawn as hatched frames marked hidden, not as "
                "bars."
                if gone
                else ""
            ),
            title="Progress against the SMART goal",
            x="progress rating (1-5)",
            y="share of pairs",
            labels=labels,
            plot_kwargs={"hidden": cells_hidden} if cells_hidden.any() else None,
        )
    carry_notes(res, r)
    return res


def _distribution_hidden(
    ctx: SectionContext, dist: pd.DataFrame, summary: pd.DataFrame, hidden: pd.Series
):
    """Cells of the progress distribution a sponsor must not see: every rating of a goal
    check where one rating was given by 1 to ``k - 1`` pairs (the check's number of pairs,
    mean progress and share off track, shown in the table, are equations enough to work out
    two or three hidden ratings), and of a check whose figures are hidden."""
    import numpy as np

    policy = ctx.privacy
    out = np.zeros(len(dist), dtype=bool)
    if not policy.active:
        return out
    n = pd.to_numeric(dist.n_pairs, errors="coerce").fillna(0).to_numpy(float)
    ids = policy.row_ids("goals_distribution", dist, ["checkpoint", "progress"])
    out = np.array([policy.small(v) or i in policy.hidden_ids for v, i in zip(n, ids, strict=True)])
    gone = set(summary.checkpoint[hidden & summary.metric.eq("mean_progress")].astype(str))
    for cp in dist.checkpoint.astype(str).unique():
        sel = (dist.checkpoint.astype(str) == cp).to_numpy()
        if cp in gone or out[sel].any():
            out[sel] = True
    for fid, v, h in zip(ids, n, out, strict=True):
        policy.note(fid, [v], bool(h))
    return out


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
    r = delivery_summary(ctx.pilot, as_of=ctx.as_of)
    res = SectionResult()
    hidden = ctx.privacy.rows("delivery", r.summary, id_cols=["metric"])
    hidden.index = r.summary.metric
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
        m = add_row(
            ctx,
            key,
            row,
            label=label,
            unit=unit,
            section="behaviour",
            method=str(row.get("method", "")),
            who="pairs",
            hide="complement" if hidden[key] else None,
        )
        rows.append((label, m.display))
    if "sessions_planned" in s.index and is_finite(s.loc["sessions_planned"].estimate):
        rows.append(
            ("Sessions planned per pair", fmt_value(s.loc["sessions_planned"].estimate, "count"))
        )
    adherence = ctx.metrics.get("adherence")
    if adherence is not None and not adherence.suppressed and is_finite(adherence.estimate):
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
    r = safety_summary(ctx.pilot, as_of=ctx.as_of)
    res = SectionResult()
    s = r.summary
    policy = ctx.privacy
    hidden = pd.Series(False, index=s.index)
    means = s.metric == "mean_safety"
    hidden[means] = policy.rows(
        "safety",
        s[means],
        id_cols=["metric", "wave", "role"],
        parts={"both": ["mentor", "mentee"]},
        part_col="role",
        line_cols=["wave"],
    ).to_numpy()
    others = ~means
    hidden[others] = policy.rows("safety", s[others], id_cols=["metric", "wave", "role"]).to_numpy()
    flag = s[s.metric == "pairs_any_flag"]
    if len(flag):
        row = flag.iloc[0]
        m = add_row(
            ctx,
            "pairs_any_flag",
            row,
            label="Pairs with at least one pair-health flag",
            unit="share",
            section="behaviour",
            method="Wilson 95% interval",
            hide="complement" if hidden[flag.index[0]] else None,
            who="pairs",
        )
        res.text.append(
            f"The share of pairs that raised a pair-health flag is {m.display}; the program "
            "lead receives the list with actions."
            if m.suppressed
            else f"{m.display} of pairs raised at least one pair-health flag (low or falling "
            "safety, missed pulses, stalled sessions, goals off track or a reporting-line "
            "conflict); the program lead receives the list with actions."
        )
    mean = s[(s.metric == "mean_safety") & (s.role == "both")]
    if mean.empty:
        raise InsufficientDataError("no psychological-safety pulse has answers yet")
    off = hidden[mean.index]
    alpha = s[s.metric == "alpha"]
    alpha_off = dict(zip(alpha.wave, hidden[alpha.index], strict=True))
    alpha = alpha.set_index("wave")
    k = int(r.arguments.get("scale_points", 7) or 7)
    table = pd.DataFrame(
        {
            "Pulse": mean.wave.astype(str),
            f"Mean safety, 1-{k} (95% interval)": cells(mean, off, digits=2),
            "Consistency of the answers (0-1)": [
                shown(
                    h or alpha_off.get(w, False),
                    fmt_interval(
                        *alpha.loc[w, ["estimate", "ci_low", "ci_high"]], "number", digits=2
                    ),
                )
                if w in alpha.index
                else ""
                for w, h in zip(mean.wave, off, strict=True)
            ],
            "Respondents": counts(mean.n, off),
        }
    )
    res.add_table(
        "Psychological safety at each pulse (Edmondson's seven questions)",
        table,
        hidden_note(ctx) if hidden[means].any() else "",
    )
    result_figure(
        res,
        r,
        f"Mean score (1-{k}) at each pulse, for everyone and by role, with 95% intervals; the "
        "dotted line is the middle of the scale."
        + (" Hidden points are marked." if hidden[means].any() else ""),
        title="Psychological safety at each pulse",
        x="pulse",
        y=f"mean score (1-{k})",
        plot_kwargs={"hidden": hidden.to_numpy()} if hidden.any() else None,
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
    retention_groups(ctx, "The comparison of retention")
    followed = r.summary[(r.summary.metric == "retention") & (r.summary.horizon == h)]
    hm = ctx.metrics.add(
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
        groups=[head.n_treated, head.n_control, *followed.n_at_risk],
    )
    ctx.cache["primary_hidden"] = hm.suppressed
    for g, key in (("treated", "retention_participants"), ("control", "retention_control")):
        row = r.summary[
            (r.summary.metric == "retention") & (r.summary.group == g) & (r.summary.horizon == h)
        ]
        if len(row):
            row = row.iloc[0]
            add_row(
                ctx,
                key,
                row,
                label=f"Retained at {h} months: {'participants' if g == 'treated' else 'control'}",
                unit="share",
                section="results",
                method="Kaplan-Meier, Greenwood 95% interval "
                "(exact Clopper-Pearson lower limit on those followed when no one left)",
                groups=[row.n, row.n_at_risk],
            )
    sentence = (
        f"Retention of the {head.who} against the control group at {h} months is "
        f"{hm.display}: fewer than {ctx.privacy.min_group} people of a group were followed "
        "that long."
        if hm.suppressed
        else head.sentence()
    )
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

    said = agreement(head, support) if not hm.suppressed else ""
    if said:
        res.text.append(said)
    if not hm.suppressed:
        res.text.extend(reconcile(head, support))
    s = r.summary
    per = s[s.metric.isin(["retention"])]
    policy = ctx.privacy
    off = policy.rows(
        "retention", per, id_cols=["group", "horizon"], n_cols=["n", "n_at_risk"], interval=None
    )
    table = pd.DataFrame(
        {
            "Group": per.group.map(
                {"treated": f"participants ({head.who})", "control": "control group"}
            ),
            "Months after the start": per.horizon.map(lambda v: f"{v:g}"),
            "Still employed (95% interval)": cells(per, off, "share"),
            "People": per.n.map(fmt_count),
            "Followed that long" + (" (rounded to 5)" if policy.active else ""): [
                shown(h_, policy.rounded(v)) for v, h_ in zip(per.n_at_risk, off, strict=True)
            ],
        }
    )
    res.add_table(
        "Share still employed (no voluntary exit) by group",
        table,
        hidden_note(ctx) if off.any() else "",
    )
    result_figure(
        res,
        r,
        (
            f"Share of each group with no voluntary exit every 6 months since their cohort "
            f"started, with 95% intervals, while at least {policy.min_group} of the group are "
            f"followed; the dotted line marks the headline's {h} months; the numbers below the "
            "axis are the people still followed, rounded to 5."
            if policy.active
            else "Share of each group with no voluntary exit, by months since their cohort "
            f"started, with 95% bands; the dotted line marks the headline's {h} months; the "
            "numbers below the axis are the people still followed."
        ),
        title="Share still employed since the cohort start",
        x="months since the cohort start",
        y="share still employed",
        plot_kwargs={"statistics": False}
        | ({"min_group": policy.min_group} if policy.active else {}),
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
    ax.text(
        horizon,
        0.5,
        f" {horizon} months (headline)",
        color="dimgrey",
        fontsize=8,
        rotation=90,
        ha="right",
        va="center",
        transform=ax.get_xaxis_transform(),
    )


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
    retention_groups(ctx, "The retention analyses")
    res = SectionResult()
    res.text.append(head.declaration())
    hidden = ctx.cache.get("primary_hidden", False)
    head_display = ctx.metrics.get("retention_difference")
    rows = [
        (
            f"Headline: share still employed at {head.horizon} months, participants minus "
            "control (percentage points)",
            head_display.display if hidden and head_display is not None else head.display(),
            "hidden" if hidden else head.favours,
            "hidden" if hidden else (head.verdict.label if head.estimable else "not estimable"),
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
    r = pilot_engagement(ctx.pilot, seed=ctx.params.seed)
    res = SectionResult()
    s = r.summary
    main = s[(s.metric == "engagement_index") & (s.role == "both")]
    if not len(main) or not is_finite(main.iloc[0].estimate):
        raise InsufficientDataError(
            "no engagement survey before and after a cohort with both participants and "
            "controls answering yet"
        )
    hidden = ctx.privacy.rows(
        "engagement",
        s,
        id_cols=["metric", "role"],
        n_cols=["n_treated", "n_control"],
        parts={"both": ["mentor", "mentee"]},
        part_col="role",
        line_cols=["metric"],
    )
    row = main.iloc[0]
    m = add_row(
        ctx,
        "engagement_did",
        row,
        label="Engagement change vs control (points, 1-5 index)",
        unit="points",
        section="results",
        headline="engagement",
        better="higher",
        method=str(row.method),
        no_interval="too few groups (teams or people) with participants, or with controls, for an interval",
        groups=[row.n_treated, row.n_control],
        hide="complement" if hidden[main.index[0]] else None,
    )
    sentence = (
        f"Participants' engagement change relative to the control group's is {m.display}."
        if m.suppressed
        else f"Participants' engagement score (1-5) moved by {m.display} points more than the "
        "control group's between the survey before and the survey after the program: "
        f"{_verdict_phrase(m.verdict)}."
    )
    res.text.append(sentence)
    ctx.sentences["engagement"] = sentence
    intent = s[(s.metric == "retention_intent") & (s.role == "both")]
    if len(intent):
        row = intent.iloc[0]
        mi = add_row(
            ctx,
            "retention_intent_did",
            row,
            label="Intention to stay, change vs control (points, 1-5)",
            unit="points",
            section="results",
            better="higher",
            method=str(row.method),
            groups=[row.n_treated, row.n_control],
            hide="complement" if hidden[intent.index[0]] else None,
        )
        res.text.append(
            f"Participants' stated intention to stay, relative to the control group's, is "
            f"{mi.display}."
            if mi.suppressed
            else f"Stated intention to stay moved by {mi.display} points relative to the "
            f"control group: {_verdict_phrase(mi.verdict)}."
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
            "Change beyond the control group's, points (95% interval)": cells(s, hidden, "points"),
            "Participants": counts(s.n_treated, hidden),
            "Controls": counts(s.n_control, hidden),
        }
    )
    res.add_table(
        "Engagement: change of participants beyond the change of the control group",
        table,
        hidden_note(ctx) if hidden.any() else "",
    )
    result_figure(
        res,
        r,
        "Change of each group of participants beyond the control group's change, in points on "
        "the 1-5 scale, with 95% intervals." + (" Hidden rows are marked." if hidden.any() else ""),
        title="Engagement change beyond the control group",
        x="change beyond the control group (points)",
        y="group",
        plot_kwargs={"hidden": hidden.to_numpy()} if hidden.any() else None,
    )
    carry_notes(res, r)
    return res


@section("promotion", title="Promotions", part="results", audiences=("sponsor",), order=30)
def promotion_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.promotion import pilot_promotion

    ctx.pilot.require("outcomes", purpose="the promotion analysis")
    role = "mentee" if ctx.params.primary_population == "mentee" else "mentor"
    r = pilot_promotion(ctx.pilot, role=role, as_of=ctx.as_of)
    res = SectionResult()
    s = r.summary
    policy = ctx.privacy
    sizes = s[s.metric == "rate"].set_index("group").n
    policy.require(
        "The comparison of promotions",
        **{f"the {role}s": sizes.get("treated"), "the control group": sizes.get("control")},
    )
    hidden = policy.rows("promotion", s, id_cols=["metric", "group"], interval=None)
    rr = s[s.metric == "rate_ratio"]
    if len(rr):
        row = rr.iloc[0]
        m = add_row(
            ctx,
            "promotion_rate_ratio",
            row,
            label=f"Promotion rate ratio, {role}s vs control",
            unit="ratio",
            section="results",
            better="higher",
            scale="log",
            method="promotions per person-year; exact conditional binomial interval",
            hide="complement" if hidden[rr.index[0]] else None,
        )
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
            "Result (95% interval)": cells(
                s, hidden, s.metric.map(lambda ms: "share" if ms == "promoted_share" else "ratio")
            ),
            "People": counts(s.n, hidden),
        }
    )
    res.add_table(
        "Promotions since the cohort start", table, hidden_note(ctx) if hidden.any() else ""
    )
    result_figure(
        res,
        r,
        (
            "Share of each group promoted at least once, every half year since their cohort "
            f"started, while at least {policy.min_group} of the group are followed."
            if policy.active
            else "Share of each group promoted at least once, by years since their cohort started."
        ),
        title="Promotions since the cohort start",
        x="years since the cohort start",
        y="share promoted at least once",
        plot_kwargs=(
            {"at": [0.5 * i for i in range(41)], "min_at_risk": policy.min_group}
            if policy.active
            else None
        ),
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
    policy = ctx.privacy
    k = policy.min_group
    rows = []
    pairs = ctx.pilot.pairs.groupby("cohort_id", observed=True).size()
    sizes = pd.DataFrame({"Pairs": [int(pairs.get(c, 0)) for c in cohorts]}, index=cohorts)
    pair_hidden = pd.Series(False, index=cohorts)
    if policy.active:
        from ..privacy import protect_counts

        pair_hidden = protect_counts(sizes, k)[0].Pairs
    for c in cohorts:
        one = ctx.pilot.select(c)
        small = bool(pair_hidden[c]) or policy.small(len(one.pairs))
        row = {"Cohort": c, "Pairs": shown(small, fmt_count(len(one.pairs)))}
        if one.sessions is not None and len(one.sessions):
            d = delivery_summary(one, as_of=ctx.as_of).summary.set_index("metric")
            a = d.loc["adherence"]
            off = small or policy.hides(a.n) or policy.all_equal(a.estimate, a.ci_low, a.ci_high)
            row["Sessions held out of those due"] = shown(
                off, fmt_interval(a.estimate, a.ci_low, a.ci_high, "share")
            )
        if one.checkpoints is not None and len(one.checkpoints):
            g = pilot_goals(one).summary
            met = g[g.metric == "share_goal_met"]
            row["Goal met"] = (
                shown(
                    small or policy.hides(met.n.iloc[0]),
                    fmt_interval(*met.iloc[0][["estimate", "ci_low", "ci_high"]], "share"),
                )
                if len(met)
                else "not yet"
            )
        rows.append(row)
    res = SectionResult()
    res.add_table(
        "Delivery and goal attainment per cohort (95% intervals)",
        pd.DataFrame(rows).fillna("not yet"),
        f"Results about fewer than {k} pairs are hidden, with a second cohort's where needed."
        if policy.active
        else "",
    )
    res.text.append(
        "Retention, engagement and skills are pooled across cohorts above; a report per cohort "
        "can be rendered for each of them."
    )
    return res
