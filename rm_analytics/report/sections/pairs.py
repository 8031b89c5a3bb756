"""Pair-level sections: confidential, for the program lead only."""

from __future__ import annotations

import pandas as pd

from ...errors import InsufficientDataError
from ..formatting import fmt_pct
from ..section import SectionContext, SectionResult, section


@section("pair_roster", title="Pairs", part="pairs", audiences=("program-lead",), order=10)
def pair_roster_section(ctx: SectionContext) -> SectionResult:
    """Pair-level listing for the program lead: status, sessions, week-6 checkpoint."""
    p, res = ctx.pilot, SectionResult()
    pairs = p.pairs
    out = pd.DataFrame(
        {
            "Pair": pairs.pair_id.astype(str),
            "Cohort": pairs.cohort_id.astype(str),
            "Status": pairs.status.astype(str),
            "Start": pairs.start_date.dt.strftime("%Y-%m-%d"),
            "Goal": pairs.goal.astype(str) if "goal" in pairs else "",
        }
    )
    if p.sessions is not None:
        s = p.sessions
        held = s[s.status == "held"].groupby("pair_id", observed=True)
        out["Sessions held"] = out.Pair.map(held.size()).fillna(0).astype(int).to_numpy()
        last = held.date.max().dt.strftime("%Y-%m-%d")
        out["Last session"] = out.Pair.map(last).fillna("none").to_numpy()
    planned = p.cohorts.set_index("cohort_id").planned_sessions
    out["Planned"] = out.Cohort.map(planned).astype("Int64").to_numpy()
    if p.checkpoints is not None and len(p.checkpoints):
        cp = p.checkpoints.sort_values("date").groupby("pair_id", observed=True).last()
        out["Latest checkpoint progress (1-5)"] = (
            out.Pair.map(cp.progress).astype("Int64").to_numpy()
        )
    res.add_table("Pairs, sessions and latest checkpoint", out.fillna(""))
    return res


@section("comments", title="Feedback comments", part="pairs", audiences=("program-lead",), order=30)
def comments_section(ctx: SectionContext) -> SectionResult:
    """Free-text answers of the feedback form, by pair and wave (confidential)."""
    sv = ctx.pilot.surveys
    if sv is None or "text" not in sv:
        raise InsufficientDataError("feedback comments need the surveys table")
    t = sv[sv.text.notna() & (sv.survey.astype(str) == "feedback")]
    res = SectionResult()
    if t.empty:
        res.text.append("No free-text feedback was given.")
        return res
    out = pd.DataFrame(
        {
            "Pair": t.pair_id.astype(str),
            "Wave": t.wave.astype(str),
            "Question": t["item"]
            .astype(str)
            .map({"worked": "One thing that worked", "improve": "One improvement"})
            .fillna(t["item"].astype(str)),
            "Answer": t.text.astype(str),
        }
    ).sort_values(["Pair", "Wave", "Question"], kind="stable")
    res.add_table("Comments from the feedback form", out)
    return res


@section(
    "pair_flags",
    title="Pair-health flags and actions",
    part="pairs",
    audiences=("program-lead",),
    order=0,
)
def pair_flags_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.safety import flag_pairs

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
    from ...metrics.delivery import pair_delivery

    ctx.pilot.require("sessions", purpose="the delivery analysis")
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
