"""The program lead's confidential view: this week's list first, every pair, timelines, the
intervention log, program health (funnel, sessions per week against the plan, feedback by
role, comments by pair) and the rules behind the health states.

Every section here is for the ``program-lead`` audience only: they show pair ids, names,
flags, free text and the lead's notes, none of which may reach sponsors. The page shows flags,
health states and actions in words, never as codes; ``metrics.json`` carries the codes in its
``pairs`` list (one entry per pair, see :meth:`rm_analytics.metrics.lead.PairView.to_records`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...data.contract import PULSE_WAVES
from ...errors import InsufficientDataError
from ..formatting import fmt_count, fmt_interval, fmt_number, fmt_pct, join_words
from ..section import SectionContext, SectionResult, section
from ._common import result_figure

LEAD = ("program-lead",)


def _view(ctx: SectionContext):
    """The pair view, computed once per report."""
    from ...metrics.lead import pair_view

    if "pair_view" not in ctx.cache:
        ctx.cache["pair_view"] = pair_view(ctx.pilot, as_of=ctx.as_of)
    return ctx.cache["pair_view"]


def _day(ts: Any) -> str:
    return f"{pd.Timestamp(ts):%Y-%m-%d}" if pd.notna(ts) else ""


def _flags_in_words(codes: list[str]) -> str:
    from ...metrics.lead import FLAG_WORDS

    return join_words([FLAG_WORDS.get(c, c.lower().replace("_", " ")) for c in codes])


def _cell(rows: pd.DataFrame, item: str, unit: str) -> str:
    """An item's estimate with its interval, or blank when the item was not asked."""
    if item not in rows.index:
        return ""
    x = rows.loc[item]
    return fmt_interval(x.estimate, x.ci_low, x.ci_high, unit)


def _sessions(row) -> str:
    if pd.isna(row.sessions_held):
        return ""
    return f"{int(row.sessions_held)} of {int(row.sessions_due)}"


# -- pair health ------------------------------------------------------------------------------
@section("this_week", title="This week: pairs that need you", part="pairs", audiences=LEAD, order=0)
def this_week_section(ctx: SectionContext) -> SectionResult:
    """Running pairs that need action, most urgent first, each once, with the action."""
    from ...metrics.lead import HEALTH_WORDS

    view = _view(ctx)
    s = view.pairs_
    res = SectionResult()
    ctx.metrics.attach("pairs", view.to_records())
    running = s[s.state.eq("running")]
    counts = running.health.value_counts()
    for key, label in (
        ("pairs_running", "Running pairs"),
        ("pairs_act_now", "Running pairs to act on now"),
        ("pairs_needs_check_in", "Running pairs that need a check-in"),
        ("pairs_on_track", "Running pairs on track"),
        ("pairs_too_early", "Running pairs too early to tell"),
        ("pairs_ended", "Ended pairs"),
    ):
        if key == "pairs_running":
            value = len(running)
        elif key == "pairs_ended":
            value = int(s.state.eq("ended").sum())
        else:
            value = int(counts.get(key.removeprefix("pairs_"), 0))
        ctx.metrics.add(key, value, label=label, unit="count", section="this_week")
    todo = view.this_week()
    as_of = ctx.as_of.date().isoformat()
    if running.empty:
        history = " The pairs below are history." if len(s) else ""
        res.text.append(
            f"No pair is running on {as_of}: there is nothing to do this week.{history}"
        )
        return res
    act = int(todo.health.eq("act_now").sum())
    check = int(todo.health.eq("needs_check_in").sum())
    if todo.empty:
        res.text.append(
            f"None of the {len(running)} running pairs needs you this week (data as of {as_of})."
        )
    else:
        res.text.append(
            f"{len(todo)} of the {len(running)} running pairs need you this week: {act} to act "
            f"on now and {check} to check in with, most urgent first (data as of {as_of})."
        )
    if len(todo):
        table = pd.DataFrame(
            {
                "#": todo.priority.astype(int).astype(str).to_numpy(),
                "Pair": todo.pair_id.astype(str).to_numpy(),
                "Mentor": todo.mentor.astype(str).to_numpy(),
                "Mentee": todo.mentee.astype(str).to_numpy(),
                "Health": todo.health.map(HEALTH_WORDS).to_numpy(),
                "What to do": todo.action.astype(str).to_numpy(),
                "Since": todo.since.map(_day).to_numpy(),
                "Why": [" ".join(e) for e in todo.evidence],
            }
        )
        res.add_table(
            "This week's list (running pairs that need action)",
            table,
            "Actions follow the playbook: a conflict of interest before anything else; pause "
            "and talk to both when safety is low; re-energise a stalled pair, or reshuffle it "
            "from the cohort's mid-point. Flags are heuristics, not validated cut-offs.",
        )
    return res


@section("pair_list", title="Every pair", part="pairs", audiences=LEAD, order=10)
def pair_list_section(ctx: SectionContext) -> SectionResult:
    """Every started pair once: running pairs with their health, ended pairs as history."""
    from ...metrics.lead import HEALTH_WORDS

    view = _view(ctx)
    s = view.pairs_
    res = SectionResult()
    running = s[s.state.eq("running")].sort_values(
        ["priority", "cohort_id", "pair_id"], na_position="last", kind="stable"
    )
    if s.empty:
        raise InsufficientDataError(f"no pair had started by {ctx.as_of:%d %B %Y}")
    if len(running):
        res.add_table(
            "Running pairs",
            pd.DataFrame(
                {
                    "Pair": running.pair_id.astype(str).to_numpy(),
                    "Mentor": running.mentor.astype(str).to_numpy(),
                    "Mentee": running.mentee.astype(str).to_numpy(),
                    "Health": [
                        HEALTH_WORDS[h] + (" (paused)" if p else "")
                        for h, p in zip(running.health, running.paused, strict=True)
                    ],
                    "Weeks running": running.weeks_running.map(lambda w: f"{int(w)}").to_numpy(),
                    "Sessions held of due": [_sessions(r) for r in running.itertuples()],
                    "Last session": running.last_session.map(_day).to_numpy(),
                    "Open flags": running.open_flags.map(_flags_in_words).to_numpy(),
                    "Addressed flags": running.addressed_flags.map(_flags_in_words).to_numpy(),
                    "Last intervention": running.last_intervention.fillna("").to_numpy(),
                }
            ),
        )
    ended = s[s.state.eq("ended")].sort_values(["cohort_id", "pair_id"], kind="stable")
    if len(ended):
        res.add_table(
            "History: ended pairs (no action)",
            pd.DataFrame(
                {
                    "Pair": ended.pair_id.astype(str).to_numpy(),
                    "Mentor": ended.mentor.astype(str).to_numpy(),
                    "Mentee": ended.mentee.astype(str).to_numpy(),
                    "Ended": [
                        " ".join(x for x in (_day(e), f"({st})" if st else "") if x)
                        for e, st in zip(ended.end_date, ended.status.fillna(""), strict=True)
                    ],
                    "Sessions held of due": [_sessions(r) for r in ended.itertuples()],
                    "Ended with": ended.health.map(HEALTH_WORDS).to_numpy(),
                    "Flags left open": ended.open_flags.map(_flags_in_words).to_numpy(),
                    "Addressed flags": ended.addressed_flags.map(_flags_in_words).to_numpy(),
                }
            ),
            "Ended pairs are history: no action is proposed for them.",
        )
    res.notes.extend(n for n in view.notes if n.code in ("excluded_rows", "missing_data"))
    return res


@section("timelines", title="Pair timelines", part="pairs", audiences=LEAD, order=20)
def timelines_section(ctx: SectionContext) -> SectionResult:
    """Each pair's sessions, pulses, flags and interventions as one lane, a figure per
    cohort (running cohorts first)."""
    view = _view(ctx)
    s = view.pairs_
    res = SectionResult()
    if s.empty:
        raise InsufficientDataError("no pair has started yet")
    order = (
        s.assign(_run=s.state.eq("running"))
        .groupby("cohort_id")
        ._run.any()
        .sort_index(ascending=False)
        .sort_values(ascending=False, kind="stable")
    )
    for cohort, running in order.items():
        ax = view.plot(cohort=cohort)
        fig = ax.figure
        word = "running" if running else "ended"
        res.add_figure(
            fig,
            f"Cohort {cohort} ({word}): one lane per pair. Dots are sessions (hollow: "
            "cancelled or no-show), diamonds safety pulses (red: below the scale midpoint), "
            "triangles flags (red: open, grey: addressed), crosses the lead's interventions; "
            "the dashed line is the as-of date.",
            alt=f"Timeline of the pairs of cohort {cohort}",
        )
    return res


@section("interventions", title="What was done", part="pairs", audiences=LEAD, order=30)
def interventions_section(ctx: SectionContext) -> SectionResult:
    """The intervention log with the flags each intervention addressed."""
    from ...metrics.lead import FLAG_WORDS, INTERVENTION_WORDS

    view = _view(ctx)
    res = SectionResult()
    iv = view.interventions_
    if ctx.pilot.interventions is None:
        res.text.append(
            "No interventions are logged. Add an interventions table (pair_id, date, action, "
            "note; see the data contract) to record check-ins, pauses and reshuffles: flags "
            "raised before an intervention then read as addressed."
        )
        return res
    if iv.empty:
        res.text.append("No intervention was logged up to the as-of date.")
        return res
    f = view.flags_
    done = f[f.status.eq("addressed")]
    addressed = {}
    for (pid, on), g in done.groupby(["pair_id", "addressed_on"]):
        addressed[(pid, pd.Timestamp(on))] = join_words(
            [FLAG_WORDS.get(k, k) for k in dict.fromkeys(g.flag)]
        )
    rows = iv.sort_values(["date", "pair_id"], ascending=[False, True], kind="stable")
    res.add_table(
        "Intervention log (latest first)",
        pd.DataFrame(
            {
                "Date": rows.date.map(_day).to_numpy(),
                "Pair": rows.pair_id.astype(str).to_numpy(),
                "What was done": rows.action.map(
                    lambda a: INTERVENTION_WORDS.get(str(a), str(a))
                ).to_numpy(),
                "Note": rows.note.fillna("").astype(str).to_numpy(),
                "Flags it addressed": [
                    addressed.get((p, pd.Timestamp(d)), "")
                    for p, d in zip(rows.pair_id, rows.date, strict=True)
                ],
            }
        ),
        "A flag raised on or before an intervention on its pair is addressed by it; a flag "
        "raised later is open again.",
    )
    return res


# -- program health ----------------------------------------------------------------------------
@section("funnel", title="From eligible to completed", part="program", audiences=LEAD, order=0)
def funnel_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.program import enrolment_funnel

    f = enrolment_funnel(ctx.pilot, as_of=ctx.as_of)
    s = f.summary
    res = SectionResult()
    cohorts = list(dict.fromkeys(s.cohort_id))
    table = pd.DataFrame({"Stage": list(dict.fromkeys(s.stage))})
    for cid in cohorts:
        g = s[s.cohort_id.eq(cid)]
        running = bool(g.running.iloc[0])
        cells = []
        for _, r in g.iterrows():
            text = fmt_count(r.estimate)
            if pd.notna(r.share_of_previous):
                text += f" ({fmt_pct(r.share_of_previous)})"
            if r.metric == "completed" and running:
                text += " so far"
            cells.append(text)
        label = "All cohorts" if cid == "all" else cid + (" (running)" if running else "")
        table[label] = cells
    res.add_table(
        "Junior mentors at each stage (share of the previous stage)",
        table,
        "Eligible: employed at the cohort's start in the mentors' grade range (the roster does "
        "not record eligibility). Enrolled: mentors plus the waitlist.",
    )
    result_figure(res, f, "Junior mentors at each stage, all cohorts.")
    return res


@section(
    "sessions_weekly",
    title="Sessions held per week against the plan",
    part="program",
    audiences=LEAD,
    order=10,
)
def sessions_weekly_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.program import sessions_by_week

    ctx.pilot.require("sessions", purpose="sessions per week")
    w = sessions_by_week(ctx.pilot, as_of=ctx.as_of)
    res = SectionResult()
    s = w.summary
    if s.empty:
        raise InsufficientDataError("no cohort has started by the as-of date")
    result_figure(
        res,
        w,
        "Sessions held per week of each cohort (solid) against the plan (dashed).",
    )
    running = [
        c
        for c in ctx.pilot.cohorts.cohort_id.astype(str)
        if (ctx.pilot.cohorts.set_index("cohort_id").end_date.get(c) > ctx.as_of)
    ]
    shown = s[s.cohort_id.isin(running)] if running else s[s.cohort_id.eq(s.cohort_id.iloc[-1])]
    for cid, g in shown.groupby("cohort_id", sort=True):
        res.add_table(
            f"Cohort {cid}: sessions per week",
            pd.DataFrame(
                {
                    "Week": g.week.astype(str).to_numpy(),
                    "From": g.week_start.map(_day).to_numpy(),
                    "Planned": g.planned.map(fmt_count).to_numpy(),
                    "Held": g.held.map(fmt_count).to_numpy(),
                    "Cancelled": g.cancelled.map(fmt_count).to_numpy(),
                    "No-show": g.no_show.map(fmt_count).to_numpy(),
                    "Week complete": g.complete.map({True: "yes", False: "not yet"}).to_numpy(),
                }
            ),
        )
    return res


@section(
    "feedback_by_role",
    title="Satisfaction and would-recommend by role",
    part="program",
    audiences=LEAD,
    order=20,
)
def feedback_by_role_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.program import feedback_by_role

    r = feedback_by_role(ctx.pilot, as_of=ctx.as_of)
    s = r.summary
    res = SectionResult()
    keys = ["cohort_id", "role", "wave"]
    rows = []
    named = {w: i for i, w in enumerate(PULSE_WAVES)}  # baseline, midpoint, endpoint
    s = s.assign(_w=s.wave.map(named).fillna(len(named))).sort_values(
        ["cohort_id", "role", "_w", "wave"], kind="stable"
    )
    for key, g in s.groupby(keys, sort=False, observed=True):
        by_item = g.set_index("item")

        n = int(g.n.max())
        rows.append(
            {
                "Cohort": key[0],
                "Role": {"mentor": "mentors", "mentee": "mentees"}.get(key[1], key[1]),
                "Wave": key[2],
                "Answers": fmt_count(n),
                "Goal progress (1-5)": _cell(by_item, "progress", "number"),
                "Safety in the relationship (1-5)": _cell(by_item, "safety", "number"),
                "Would recommend": _cell(by_item, "recommend", "share"),
            }
        )
    res.add_table(
        "Feedback form by cohort, role and wave (mean or share, 95% interval)",
        pd.DataFrame(rows),
        "Ratings: mean with a t interval; would recommend: share answering yes with a Wilson "
        "interval.",
    )
    return res


@section("comments", title="Comments by pair", part="program", audiences=LEAD, order=30)
def comments_section(ctx: SectionContext) -> SectionResult:
    """Free text by pair (feedback form, week-6 check): confidential."""
    from ...metrics.lead import pair_comments

    c = pair_comments(ctx.pilot, as_of=ctx.as_of)
    res = SectionResult()
    if c.empty:
        res.text.append("No free-text comments were given.")
        return res
    view = _view(ctx)
    order = {p: i for i, p in enumerate(view.pairs_.pair_id)}
    c = c.assign(_o=c.pair_id.map(order).fillna(len(order))).sort_values(
        ["_o", "date", "source"], kind="stable"
    )
    names = view.pairs_.set_index("pair_id")
    first = ~c.pair_id.duplicated()
    label = [
        f"{p} ({names.at[p, 'mentor']} / {names.at[p, 'mentee']})" if f and p in names.index else ""
        for p, f in zip(c.pair_id, first, strict=True)
    ]
    res.add_table(
        "Comments, grouped by pair (running pairs needing action first)",
        pd.DataFrame(
            {
                "Pair": label,
                "Date": c.date.map(_day).to_numpy(),
                "From": c.source.to_numpy(),
                "Question": c.question.to_numpy(),
                "Comment": c.text.astype(str).to_numpy(),
            }
        ),
    )
    return res


# -- appendix ----------------------------------------------------------------------------------
@section(
    "lead_rules", title="How pair health is decided", part="appendix", audiences=LEAD, order=10
)
def lead_rules_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.lead import DEFAULT_LEAD_RULES
    from ...metrics.safety import DEFAULT_THRESHOLDS

    res = SectionResult()
    res.add_table(
        "Health states and actions",
        pd.DataFrame(
            {
                "Health": ["Act now", "Needs check-in", "Too early to tell", "On track"],
                "When (first rule that applies)": [
                    "an open conflict of interest (one member in the other's reporting line), "
                    "low psychological safety (a score below the scale midpoint) or a stall (no "
                    "held session for more than two cadence periods, or under half the due "
                    "sessions held at mid-pilot)",
                    "an open safety drop, worrying answer, divergence between mentor and "
                    "mentee, goal off track at the week-6 check, sessions slipping (no held "
                    "session for more than 1.5 cadence periods) or missed pulse; or the pair is "
                    "paused",
                    f"no open flag, and running fewer than {fmt_number(DEFAULT_LEAD_RULES['too_early_weeks'], 0)} "
                    "weeks or nothing recorded yet",
                    "otherwise",
                ],
                "What to do": [
                    "conflict of interest: rematch both before anything else; low safety: "
                    "pause the pair and talk to both separately; stalled: re-energise before "
                    "the cohort's mid-point, reshuffle from it",
                    "check in with both about the reasons listed; for a paused pair, agree "
                    "whether to resume, reshuffle or close",
                    "nothing yet",
                    "nothing",
                ],
            }
        ),
        "Urgency: act now before check-in; conflict of interest, then low safety, then "
        "stalled; then the oldest open flag first. Ended pairs never get an action.",
    )
    th = {**DEFAULT_THRESHOLDS}
    res.add_table(
        "Thresholds (heuristics, not validated cut-offs: the safety scale has none)",
        pd.DataFrame(
            {
                "Rule": [
                    "low safety",
                    "safety drop",
                    "divergence",
                    "worrying answer",
                    "missed pulse",
                    "stalled",
                    "goal off track",
                    "sessions slipping",
                ],
                "Threshold": [
                    "a member's pulse score below the scale midpoint (4 of 7), or a feedback "
                    "safety rating below 3 of 5",
                    f"a fall of {fmt_number(th['safety_drop'], 0)} point or more between pulses",
                    f"mentor and mentee {fmt_number(th['divergence'], 0)} points or more apart",
                    "agreement (top two points) with a negatively worded item",
                    f"no answer {fmt_number(th['no_response_grace_days'], 0)} days after a pulse "
                    "opened",
                    f"no held session for more than {fmt_number(th['stalled_gap_cadences'], 0)} "
                    f"cadence periods, or under {fmt_pct(th['stalled_min_adherence'])} of due "
                    "sessions held at mid-pilot",
                    f"week-6 progress {fmt_number(th['goal_progress_max'], 0)} of 5 or less",
                    f"no held session for more than "
                    f"{fmt_number(DEFAULT_LEAD_RULES['slipping_cadences'], 1)} cadence periods",
                ],
            }
        ),
    )
    res.text.append(
        "Raised, addressed, open: every flag has the date it was raised (the pulse or feedback "
        "answer, the week-6 check, the day a missing answer became overdue, the day the stall "
        "threshold was crossed, the pair's start for a conflict of interest). A flag raised on "
        "or before an intervention logged for its pair reads as addressed; a flag raised after "
        "the pair's last intervention is open. After an intervention the stall clock starts "
        "again; while a pair is paused it is not expected to meet."
    )
    res.text.append(
        "Names come from the roster's name column when it has one, else the employee ids are "
        "shown. This view is confidential: never forward it or copy it into sponsor material."
    )
    return res
