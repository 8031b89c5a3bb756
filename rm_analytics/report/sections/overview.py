"""Who took part, how to read the report, and the data-quality appendix."""

from __future__ import annotations

import pandas as pd

from ...errors import InsufficientDataError
from ...stats.intervals import wilson_ci
from ..formatting import fmt_count
from ..privacy import suppress_small
from ..section import SectionContext, SectionResult, section


@section(
    "glance",
    title="Who took part",
    part="glance",
    audiences=("sponsor", "program-lead"),
    order=0,
)
def glance_section(ctx: SectionContext) -> SectionResult:
    """Cohorts, pairs, people and sessions: counts only (people counts are suppressed below
    ``min_cell_size`` for sponsors)."""
    p, m, res = ctx.pilot, ctx.metrics, SectionResult()
    pairs = p.pairs
    mentors = pairs.mentor_id.nunique()
    mentees = pairs.mentee_id.nunique()
    m.add("cohorts", len(p.cohorts), label="Cohorts", unit="count", section="glance")
    m.add("pairs", len(pairs), label="Pairs", unit="count", section="glance")
    m.add("mentors", mentors, label="Junior mentors", unit="people", section="glance")
    m.add("mentees", mentees, label="Senior mentees", unit="people", section="glance")
    if p.control is not None:
        m.add(
            "control_group",
            p.control.employee_id.nunique(),
            label="Control group (designated)",
            unit="people",
            section="glance",
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
        method="share of pairs with status completed among pairs that ended (completed, "
        "withdrawn or reshuffled); Wilson 95% interval",
    )
    if p.sessions is not None:
        held = int((p.sessions.status == "held").sum())
        m.add(
            "sessions_held", held, label="Mentoring sessions held", unit="count", section="glance"
        )

    # per-cohort table
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
    per["Pairs"] = per.Cohort.map(g.size()).fillna(0).astype(int).to_numpy()
    per["Mentors"] = per.Cohort.map(g.mentor_id.nunique()).fillna(0).astype(int).to_numpy()
    per["Mentees"] = per.Cohort.map(g.mentee_id.nunique()).fillna(0).astype(int).to_numpy()
    people_cols = ["Mentors", "Mentees"]
    if p.control is not None:
        ctrl = p.control.groupby("cohort_id", observed=True).employee_id.nunique()
        per["Control group"] = per.Cohort.map(ctrl).fillna(0).astype(int).to_numpy()
        people_cols.append("Control group")
    if "planned_sessions" in c:
        per["Planned sessions per pair"] = c.planned_sessions.map(fmt_count).to_numpy()
    if ctx.sponsor:
        per = suppress_small(per, people_cols, ctx.params.min_cell_size, marker="hidden")
    for col in ["Pairs", *people_cols]:
        per[col] = per[col].map(lambda v: fmt_count(v) if isinstance(v, (int, float)) else v)
    res.add_table(
        "Cohorts",
        per,
        f"Groups of fewer than {ctx.params.min_cell_size} people are hidden."
        if ctx.sponsor
        else "",
    )
    return res


@section(
    "methods",
    title="How to read this report",
    part="appendix",
    audiences=("sponsor", "program-lead"),
    order=0,
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
    k = ctx.params.min_cell_size
    if ctx.sponsor:
        res.text.append(
            f"Privacy: this report shows aggregates only. Groups of fewer than {k} people are "
            "hidden; no names, identifiers, comments or pair-level information appear."
        )
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
)
def method_notes_section(ctx: SectionContext) -> SectionResult:
    """The analyses' own notes (conventions, exclusions, checks), by section, in plain words."""
    from ..language import plain

    res = SectionResult()
    from . import SECTIONS

    for key, done in ctx.results.items():
        notes = list(dict.fromkeys(plain(n) for n in done.notes))
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
)
def data_quality_section(ctx: SectionContext) -> SectionResult:
    """Rows used per table and the rows each analysis left out, with the reason (no individual
    data). The table sizes are those of the data as they stood on the report date."""
    from ..language import plain

    res = SectionResult()
    p = ctx.pilot
    used = "; ".join(f"{name} {fmt_count(len(df))}" for name, df in p.tables.items())
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
                    "Rows": left.rows.map(fmt_count),
                    "Action": left.action.map(plain),
                }
            ),
        )
    else:
        res.text.append("No analysis had to leave out or fill in a row.")
    return res
