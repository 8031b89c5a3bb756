"""The report's one primary estimand for retention, declared before the data are seen, and
the supporting analyses, labelled as such and reconciled with it in words.

Primary estimand (the headline figure, its interval and its verdict)
--------------------------------------------------------------------
**The difference in the share of the retention population (by default the junior mentors)
still employed without a voluntary exit ``horizon_months`` after their cohort's start,
participants minus the control group.** Retention in each group is the Kaplan-Meier estimate
at the horizon (people who left involuntarily or for other reasons, and people not yet
followed that long, count as censored); the difference, its 95% interval and its p-value are
those of :meth:`rm_analytics.metrics.retention.RetentionResult.attrition_at`: Newcombe's
square-and-add (MOVER) interval from the two groups' Kaplan-Meier intervals (the exact lower
limit for a group without exits by the horizon), and the p-value that inverts that interval,
so the two always agree. The verdict is :func:`rm_analytics.report.verdicts.verdict` on that
interval (higher is better).

Nothing else decides the headline. The hazard ratio (Cox), the log-rank test, the restricted
mean time retained and the exact test among people followed for the whole horizon are
*supporting* analyses: they are shown, oriented the same way ("points to the program" or "to
the control group"), and whenever one points the other way, or settles what the headline
cannot, :func:`reconcile` says so in the text and why the headline still decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .formatting import fmt_interval, fmt_pct, fmt_pp, is_finite, join_words
from .verdicts import Verdict, verdict

#: How the appendix states the primary estimand (``{who}`` and ``{h}`` are filled in).
DECLARATION = (
    "Pre-declared headline: the difference in the share of {who} still employed (no voluntary "
    "exit) {h} months after their cohort started, participants minus the control group. Each "
    "group's share is a Kaplan-Meier estimate (people not yet followed {h} months, or who left "
    "for other reasons, count for as long as they were followed); the 95% interval combines the "
    "two groups' own intervals by Newcombe's square-and-add method (for a group without exits, "
    "the exact lower limit on those followed), and the p-value is the level at which that "
    "interval just reaches no difference, so interval, p-value and verdict always agree. The "
    "hazard ratio, the log-rank test, the average months retained and the exact test among "
    "people followed the whole {h} months are supporting analyses: they never set the headline."
)


@dataclass
class PrimaryResult:
    """The headline retention figure at the horizon (see the module doc)."""

    horizon: int
    who: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    retained_treated: float
    retained_control: float
    n_treated: int
    n_control: int
    ci_method: str = ""
    p_method: str = ""
    reason: str = ""
    """Why the figure could not be estimated (empty when it was)."""

    @property
    def estimable(self) -> bool:
        return is_finite(self.estimate)

    @property
    def verdict(self) -> Verdict:
        return verdict(
            self.estimate, self.ci_low, self.ci_high, better="higher", p_value=self.p_value
        )

    @property
    def favours(self) -> str:
        if not self.estimable or self.estimate == 0:
            return "neither"
        return "the program" if self.estimate > 0 else "the control group"

    def display(self) -> str:
        return fmt_interval(self.estimate, self.ci_low, self.ci_high, "pp")

    def declaration(self) -> str:
        return DECLARATION.format(who=self.who, h=self.horizon)

    def sentence(self) -> str:
        """One plain sentence: the two shares, the difference and its interval, the verdict."""
        if not self.estimable:
            return f"Retention of {self.who} at {self.horizon} months cannot be estimated yet: {self.reason}."
        lo, hi = (fmt_pp(x).replace(" pp", "") for x in (self.ci_low, self.ci_high))
        return (
            f"{fmt_pct(self.retained_treated)} of the {self.who} were still employed "
            f"{self.horizon} months after their cohort started, against "
            f"{fmt_pct(self.retained_control)} of the control group: a difference of "
            f"{fmt_pp(self.estimate)} (95% interval {lo} to {hi} percentage points), "
            f"{_verdict_words(self.verdict)}."
        )


def _verdict_words(v: Verdict) -> str:
    return {
        "clear improvement": "a clear improvement",
        "suggestive improvement": "a suggestive improvement that the data cannot confirm yet",
        "no meaningful difference": "no meaningful difference",
        "not enough evidence yet": "which the data cannot yet tell apart from no difference",
        "suggestive deterioration": "a suggestive deterioration that the data cannot confirm yet",
        "clear deterioration": "a clear deterioration",
    }[v.label]


def _followed_months(result, group: str) -> float:
    tab = getattr(result, "km_", {}).get(group)
    if tab is None or tab.time.size == 0:
        return float("nan")
    return float(tab.time.max())


def primary_result(result, horizon: int, who: str, *, first_start: Any = None) -> PrimaryResult:
    """The primary estimand from a retention result (see the module doc).

    ``first_start`` (the earliest cohort start) lets the reason for a missing estimate say
    from when it can be estimated.
    """
    a = result.attrition_at(horizon)
    out = PrimaryResult(
        horizon=int(horizon),
        who=who,
        estimate=float(a["difference"]),
        ci_low=float(a["ci_low"]),
        ci_high=float(a["ci_high"]),
        p_value=float(a["p_value"]),
        retained_treated=1 - float(a["treated"]),
        retained_control=1 - float(a["control"]),
        n_treated=int(a["n_treated"]),
        n_control=int(a["n_control"]),
        ci_method=str(a.get("ci_method", "")),
        p_method=str(a.get("p_method", "")),
    )
    if not out.estimable:
        longest = [_followed_months(result, g) for g in ("treated", "control")]
        known = [m for m in longest if is_finite(m)]
        reason = f"nobody in one of the groups has been followed for {horizon} months yet"
        if known:
            reason += f" (the longest follow-up so far is {min(known):.0f} months)"
        if first_start is not None and pd.notna(first_start):
            when = pd.Timestamp(first_start) + pd.DateOffset(months=int(horizon))
            reason += f"; it can be estimated from {when:%d %B %Y}"
        out.reason = reason
    return out


@dataclass
class SupportingResult:
    """A supporting analysis, oriented like the headline."""

    key: str
    name: str
    what: str
    """What it measures, as the subject of a sentence (used when it disagrees with the
    headline)."""
    display: str
    favours: str
    """``"the program"``, ``"the control group"`` or ``"neither"``."""
    conclusive: bool
    p_value: float
    subject: str = ""
    """What it looks at, in plain words for the body ("the rate of leaving over all
    follow-up")."""
    plain: str = ""
    """Its result in plain words, without method names or p-values (empty: none to say)."""


def _side(x: float, null: float, higher_favours_program: bool) -> str:
    if not is_finite(x) or x == null:
        return "neither"
    return "the program" if (x > null) == higher_favours_program else "the control group"


def supporting_results(result, horizon: int) -> list[SupportingResult]:
    """The supporting analyses of a retention result, each pointing to a side."""
    s = result.summary
    out: list[SupportingResult] = []

    def row(metric: str, h: float | None = None):
        m = s[s.metric == metric]
        if h is not None and "horizon" in m:
            m = m[m.horizon.astype(float) == float(h)]
        return m.iloc[0] if len(m) else None

    hr = row("hazard_ratio")
    hr_side = "neither"
    if hr is not None and is_finite(hr.estimate):
        hr_side = _side(hr.estimate, 1.0, higher_favours_program=False)
        out.append(
            SupportingResult(
                "hazard_ratio",
                "Rate of leaving, participants relative to controls, over all follow-up "
                "(hazard ratio; below 1 = participants leave less)",
                "the rate of leaving over the whole follow-up",
                fmt_interval(hr.estimate, hr.ci_low, hr.ci_high, "ratio"),
                hr_side,
                is_finite(hr.ci_high) and (hr.ci_high < 1 or hr.ci_low > 1),
                float(hr.p_value),
                "the rate of leaving over all follow-up",
                f"participants leaving at {hr.estimate:.2f} times the control group's rate, "
                f"95% interval {hr.ci_low:.2f} to {hr.ci_high:.2f}",
            )
        )
    lr = row("logrank")
    if lr is not None and is_finite(lr.p_value):
        out.append(
            SupportingResult(
                "logrank",
                "Do the two retention curves differ over all follow-up? (log-rank test)",
                "the retention curves over the whole follow-up",
                f"p = {lr.p_value:.3f}",
                hr_side if lr.p_value < 0.05 else "neither",
                bool(lr.p_value < 0.05),
                float(lr.p_value),
                "the retention curves over all follow-up",
                "",
            )
        )
    rm = row("rmst_difference", horizon)
    if rm is not None and is_finite(rm.estimate):
        out.append(
            SupportingResult(
                "rmst_difference",
                f"Average months employed out of the first {horizon}, participants minus "
                "controls (restricted mean survival time)",
                "the average time employed",
                fmt_interval(rm.estimate, rm.ci_low, rm.ci_high, "points") + " months",
                _side(rm.estimate, 0.0, higher_favours_program=True),
                is_finite(rm.ci_low) and (rm.ci_low > 0 or rm.ci_high < 0),
                float(rm.p_value),
                f"the average months employed out of the first {horizon}",
                f"{abs(rm.estimate):.2f} months {'more' if rm.estimate >= 0 else 'fewer'} "
                "employed on average",
            )
        )
    ex = row("exact_test", horizon)
    if ex is not None and is_finite(ex.estimate):
        fewer = -100 * float(ex.estimate)
        words = (
            "no difference in leavers"
            if round(fewer) == 0
            else f"{abs(fewer):.0f} {'fewer' if fewer > 0 else 'more'} leavers per 100 participants"
        )
        out.append(
            SupportingResult(
                "exact_test",
                f"Leavers by {horizon} months among people followed that long (exact test)",
                f"the leavers among only the people followed the whole {horizon} months",
                f"{words} (p = {ex.p_value:.3f})",
                _side(fewer, 0.0, higher_favours_program=True),
                bool(is_finite(ex.p_value) and ex.p_value < 0.05),
                float(ex.p_value),
                f"the leavers among people followed the whole {horizon} months",
                words + (" per 100 participants" if "per 100" not in words else ""),
            )
        )
    return out


def reconcile(primary: PrimaryResult, supporting: list[SupportingResult]) -> list[str]:
    """Plain sentences for every supporting result that could be read against the headline.

    * it points the other way: say so, what it measures, and that the headline decides;
    * it is conclusive where the headline is not (or the headline is not estimable): say
      that the pre-declared headline cannot confirm it yet.

    The sentences name what each analysis looks at in plain words, without method names or
    p-values (those are in the appendix's table of supporting analyses).
    """
    out: list[str] = []
    settled = primary.estimable and primary.verdict.label in (
        "clear improvement",
        "clear deterioration",
    )
    against, beyond = [], []
    for s in supporting:
        if (
            primary.estimable
            and s.favours != "neither"
            and primary.favours != "neither"
            and s.favours != primary.favours
        ):
            against.append(s)
        elif s.conclusive and not settled:
            beyond.append(s)

    def named(items: list[SupportingResult]) -> str:
        return join_words([s.subject + (f" ({s.plain})" if s.plain else "") for s in items])

    for side in ("the program", "the control group"):
        some = [s for s in against if s.favours == side]
        if some:
            out.append(
                f"Looking at {named(some)}, the data point to {side}, while the headline points "
                f"to {primary.favours}: {join_words([s.what for s in some])} can differ in "
                "direction from the share still employed at the horizon when there are this few "
                "leavers. The pre-declared headline decides."
            )
        some = [s for s in beyond if s.favours == side]
        if some:
            state = (
                "cannot be estimated yet"
                if not primary.estimable
                else "cannot yet tell a gain from a loss"
            )
            many = len(some) > 1
            out.append(
                f"{'Supporting analyses' if many else 'A supporting analysis'} of {named(some)} "
                f"find{'' if many else 's'} a clear difference in favour of {side}, but the "
                f"pre-declared headline, retention at {primary.horizon} months, {state}: "
                f"{'they are signals' if many else 'it is a signal'} to watch, not the answer."
            )
    return out


def agreement(primary: PrimaryResult, supporting: list[SupportingResult]) -> str:
    """One sentence on where the supporting analyses point, relative to the headline."""
    if not supporting:
        return ""
    sides = {s.favours for s in supporting}
    conclusive = [s for s in supporting if s.conclusive]
    if primary.estimable and sides <= {primary.favours, "neither"}:
        where = (
            f"point the same way as the headline (to {primary.favours})"
            if primary.favours in sides
            else "show no difference either"
        )
    elif not primary.estimable:
        where = "are all the data can say so far"
    else:
        where = "do not all point the same way (see below)"
    tail = "" if conclusive else ", and none of them is conclusive either"
    return f"The supporting analyses in the appendix {where}{tail}."


def as_dict(primary: PrimaryResult) -> dict[str, Any]:
    """The declaration and figures of the primary estimand, for the metrics JSON."""

    def num(x: float) -> float | None:
        return None if not is_finite(x) else float(round(x, 10))

    return {
        "metric": "retention_difference",
        "definition": primary.declaration(),
        "horizon_months": primary.horizon,
        "population": primary.who,
        "estimate": num(primary.estimate),
        "ci_low": num(primary.ci_low),
        "ci_high": num(primary.ci_high),
        "p_value": num(primary.p_value),
        "interval_method": primary.ci_method or None,
        "p_value_method": primary.p_method or None,
        "verdict": primary.verdict.label if primary.estimable else None,
        "not_estimable_because": primary.reason or None,
    }
