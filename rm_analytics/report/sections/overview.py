"""Who took part, how to read the report, and the data-quality appendix."""

from __future__ import annotations

import pandas as pd

from ...errors import InsufficientDataError
from ...stats.intervals import wilson_ci
from ..formatting import fmt_count, join_words
from ..section import SectionContext, SectionResult, section
from ._common import shown


@section(
    "glance",
    title="Who took part",
    part="glance",
    audiences=("sponsor", "program-lead"),
    order=0,
    participants=False,
)
def glance_section(ctx: SectionContext) -> SectionResult:
    """Cohorts, pairs, people and sessions: counts only. For sponsors the counts of one cohort
    (pairs, mentors, mentees, controls) are hidden together when one of them is below the
    minimum group size, with complementary cells so that no hidden count follows from the
    totals of the first page."""
    p, m, res, policy = ctx.pilot, ctx.metrics, SectionResult(), ctx.privacy
    if p.cohorts.empty:
        raise InsufficientDataError(f"no cohort had started by {ctx.as_of:%d %B %Y}")
    pairs = p.pairs
    c = p.cohorts.set_index("cohort_id")
    per = pd.DataFrame(
        {
            "Cohort": c.index.astype(str),
            "Name": c["name"].astype("string").fillna("").to_numpy() if "name" in c else "",
            "Start": c.start_date.dt.strftime("%d %b %Y").to_numpy(),
            "End": c.end_date.dt.strftime("%d %b %Y").to_numpy(),
        }
    )
    g = pairs.groupby("cohort_id", observed=True)
    people = pd.DataFrame(index=per.Cohort.to_numpy())
    people["Pairs"] = people.index.map(g.size()).fillna(0).astype(int)
    people["Mentors"] = people.index.map(g.mentor_id.nunique()).fillna(0).astype(int)
    people["Mentees"] = people.index.map(g.mentee_id.nunique()).fillna(0).astype(int)
    if p.control is not None:
        ctrl = p.control.groupby("cohort_id", observed=True).employee_id.nunique()
        people["Control group"] = people.index.map(ctrl).fillna(0).astype(int)
    mask = pd.DataFrame(False, index=people.index, columns=people.columns)
    total_hidden = pd.Series(False, index=people.columns)
    if policy.active:
        from ..privacy import protect_counts

        mask, total_hidden = protect_counts(
            people, policy.min_group, totals="columns", linked=[list(people.columns)]
        )
    totals = {
        "Pairs": len(pairs),
        "Mentors": pairs.mentor_id.nunique(),
        "Mentees": pairs.mentee_id.nunique(),
        "Control group": p.control.employee_id.nunique() if p.control is not None else None,
    }
    # one pair has one mentor and one mentee: the totals are hidden together
    any_total_hidden = bool(total_hidden.any()) or policy.hides(*list(totals.values())[:3])
    hide = "complement" if any_total_hidden else None
    m.add("cohorts", len(p.cohorts), label="Cohorts", unit="count", section="glance")
    m.add(
        "pairs",
        totals["Pairs"],
        label="Pairs",
        unit="count",
        n=totals["Pairs"],
        section="glance",
        hide=hide,
        who="pairs",
    )
    m.add(
        "mentors",
        totals["Mentors"],
        label="Junior mentors",
        unit="people",
        section="glance",
        hide=hide,
    )
    m.add(
        "mentees",
        totals["Mentees"],
        label="Senior mentees",
        unit="people",
        section="glance",
        hide=hide,
    )
    if p.control is not None:
        m.add(
            "control_group",
            totals["Control group"],
            label="Control group (designated)",
            unit="people",
            section="glance",
            hide=hide,
        )
    ended = pairs[pairs.status.isin(["completed", "withdrawn", "reshuffled"])]
    done = int((ended.status == "completed").sum())
    lo, hi = wilson_ci(done, len(ended))
    m.add(
        "pairs_completed_share",
        done / len(ended) if len(ended) else float("nan"),
        lo,
        hi,
        label="Ended pairs that completed the program",
        unit="share",
        n=len(ended),
        section="glance",
        who="pairs",
        method="share of pairs with status completed among pairs that ended (completed, "
        "withdrawn or reshuffled); Wilson 95% interval",
    )
    if p.sessions is not None:
        held = p.sessions[p.sessions.status == "held"]
        m.add(
            "sessions_held",
            len(held),
            label="Mentoring sessions held",
            unit="count",
            n=held.pair_id.nunique(),
            section="glance",
            who="pairs",
        )
    for col in people.columns:
        per[col] = [
            shown(bool(h), fmt_count(v)) for v, h in zip(people[col], mask[col], strict=True)
        ]
    if "planned_sessions" in c:
        per["Planned sessions per pair"] = c.planned_sessions.map(fmt_count).to_numpy()
    note = ""
    if policy.active:
        note = (
            f"Counts of fewer than {policy.min_group} are hidden, with the other counts of "
            "their cohort and, where needed, a second cohort's, so that none can be worked "
            "out from the totals."
        )
        if policy.left_out:
            note += (
                f" Left out of this report's figures: {join_words(list(policy.left_out))} "
                f"(fewer than {policy.min_group} pairs; their own reports show what they can)."
            )
    res.add_table("Cohorts", per, note)
    return res


@section(
    "methods",
    title="How to read this report",
    part="appendix",
    audiences=("sponsor", "program-lead"),
    order=0,
    participants=False,
)
def methods_section(ctx: SectionContext) -> SectionResult:
    from ..verdicts import RECOMMENDATION_RULES

    res = SectionResult()
    res.text.append(
        "Every figure comes with a 95% confidence interval: the range of values compatible with "
        "the data. Verdicts and the recommendation are generated from the numbers with the fixed "
        "rules below, so a result the data cannot settle reads as such."
    )
    rules = pd.DataFrame(
        {
            "Verdict": [
                "clear improvement",
                "suggestive improvement",
                "not enough evidence yet",
                "suggestive deterioration",
                "clear deterioration",
            ],
            "Rule": [
                "the whole 95% interval lies on the favourable side of no effect",
                "the 95% interval includes no effect, but an 80% interval would not",
                "the interval includes no effect and the estimate is not suggestive, or there "
                "are too few people or events to estimate",
                "as suggestive improvement, on the unfavourable side",
                "the whole 95% interval lies on the unfavourable side of no effect",
            ],
        }
    )
    res.add_table("Verdict rules", rules)
    res.add_table(
        "Recommendation rules (the first that applies decides)",
        pd.DataFrame(
            [(n, when, what) for n, when, what in RECOMMENDATION_RULES],
            columns=["Rule", "When", "Recommendation"],
        ),
        "The headline is the pre-declared retention figure; the other headline results are "
        "engagement and skills. A realistic program runs "
        f"{ctx.params.realistic_cohorts} cohorts of the pilot's size; a plausible effect is a "
        f"{1 - ctx.params.plausible_hazard_ratio:.0%} lower rate of leaving.",
    )
    if ctx.privacy.active:
        res.text.append(ctx.privacy.rule_sentence)
    res.text.append(
        f"The data are taken as they stood on {ctx.as_of:%d %B %Y}: people still employed then "
        "are followed up to that day and no further, and nothing recorded later is used."
    )
    return res


@section(
    "method_notes",
    title="Notes on the methods",
    part="appendix",
    audiences=("sponsor", "program-lead"),
    order=20,
    participants=False,
)
def method_notes_section(ctx: SectionContext) -> SectionResult:
    """The analyses' own notes (conventions, exclusions, checks), by section, in plain words."""
    from ..language import plain

    res = SectionResult()
    from . import SECTIONS

    for key, done in ctx.results.items():
        notes = list(dict.fromkeys(plain(n) for n in done.notes))
        if ctx.privacy.active:  # no count of fewer than k people in a note
            notes = [t for t in (ctx.privacy.sponsor_note(n) for n in notes) if t]
        if not notes:
            continue
        title = SECTIONS[key].title if key in SECTIONS else key
        res.text.append(f"{title}: " + " ".join(n if n.endswith(".") else n + "." for n in notes))
    if not res.text:
        raise InsufficientDataError("no analysis left a note")
    return res


@section(
    "data_quality",
    title="Data quality",
    part="appendix",
    audiences=("sponsor", "program-lead"),
    order=90,
    participants=False,
)
def data_quality_section(ctx: SectionContext) -> SectionResult:
    """Rows used per table and the rows each analysis left out, with the reason (no individual
    data). The table sizes are those of the data as they stood on the report date."""
    from ..language import plain

    res = SectionResult()
    p = ctx.pilot
    policy = ctx.privacy
    used = "; ".join(
        f"{name} {fmt_count(len(df)) if name == 'cohorts' else policy.count(len(df))}"
        for name, df in p.tables.items()
    )
    stages = {"roi costs": "return on investment (costs)"}
    q = p.quality
    left = q[
        ~q.stage.isin(["load", "as of"])
        & q.action.isin(["excluded", "ignored", "imputed", "not counted"])
        & q.rows.gt(0)
    ]
    res.text.append(
        "The data were checked against the data contract before any analysis; every row an "
        f"analysis leaves out is counted below with the reason. The report uses the data as "
        f"they stood on {ctx.as_of:%d %B %Y}: records dated later, exits after that day and "
        "cohorts starting after it are not used."
    )
    res.text.append(f"Rows used per table: {used}.")
    if policy.active and policy.held_back:
        res.text.append(
            "Not in this report yet, because their wave is still open (answers count "
            f"{ctx.params.survey_window_days} days after a wave's first answer): "
            f"{join_words([plain(w) for w in policy.held_back])}."
        )
    if len(left):
        res.add_table(
            "Rows left out or filled in by an analysis",
            pd.DataFrame(
                {
                    "Analysis": left.stage.map(lambda x: stages.get(x, plain(x))).str.capitalize(),
                    "Table": left.table.str.capitalize(),
                    "Reason": [
                        plain(c if not d else f"{c}: {d}")
                        for c, d in zip(left.check, left.detail, strict=True)
                    ],
                    "Rows": left.rows.map(policy.count),
                    "Action": left.action.map(plain),
                }
            ),
        )
    else:
        res.text.append("No analysis had to leave out or fill in a row.")
    return res
