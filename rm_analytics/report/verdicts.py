"""Verdicts generated from numbers, and the recommendation that follows from them.

Everything a report says in words is computed here from numbers, so a null result reads as a
null result. The rules are documented on each function and tested.

Verdict rules (:func:`verdict`), for an estimate with a 95% confidence interval and a value of
"no effect" (``null``, 0 for differences, 1 for ratios):

=============================  ================================================================
label                          rule
=============================  ================================================================
``not enough evidence yet``    no estimate, or no interval (too few people or events), or the
                               interval includes "no effect" and the estimate is not
                               suggestive (below)
``clear improvement``          the whole 95% interval lies on the favourable side of no effect
``suggestive improvement``     the 95% interval includes no effect, but the method's 80%
                               interval would not: its own two-sided p-value is below 0.20
                               when the result carries one (MOVER, exact, Satterthwaite t:
                               intervals that need not be symmetric); otherwise
                               ``|estimate - null| / se >= 1.2816`` with
                               ``se = (ci_high - ci_low) / (2 * 1.96)`` (on the log scale for
                               ratios), right for symmetric Wald intervals
``no meaningful difference``   only when an equivalence ``margin`` is given: the whole 95%
                               interval lies within ``null +/- margin``
``suggestive deterioration``   as "suggestive improvement", on the unfavourable side
``clear deterioration``        the whole 95% interval lies on the unfavourable side
=============================  ================================================================

Recommendation rules (:func:`recommendation`, :data:`RECOMMENDATION_RULES`), the first that
applies decides. The *headline* is the pre-declared primary estimand (retention at the horizon,
:mod:`rm_analytics.report.estimand`); the other headline results are engagement and skills.

==  =========================================================  ==================================
#   when                                                       recommendation
==  =========================================================  ==================================
1   the headline could not be estimated                        no recommendation yet (why, and
                                                               from when it can be estimated)
2   the headline or another headline result clearly            reshape
    deteriorated
3   the headline clearly improved, nothing deteriorated even   scale
    suggestively, the cautious end of the ROI is above zero
4   the headline clearly improved otherwise                    continue (review what holds the
                                                               return back)
5   the headline or another headline result suggestively       reshape (review the design)
    deteriorated
6   the headline is inconclusive and a realistic program       continue: run the cohorts needed
    could settle it (pairs needed for a plausible effect fit   and keep measuring
    in the realistic number of cohorts)
7   the headline is inconclusive and no realistic program      decide on the other results:
    could settle it                                            engagement, skills and the cost
==  =========================================================  ==================================

Power enters through :class:`Feasibility`: the pairs needed to detect a plausible effect on
leaving (``plausible_hazard_ratio``, 80% power, two-sided 5%, Freedman's formula, the
controls' share leaving by the horizon from the data or ``assumed_control_attrition``) against
a realistic program (``realistic_cohorts`` cohorts of the pilot's size, and no more pairs than
people eligible to mentor).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .formatting import is_finite, join_words

_Z95 = 1.959963984540054


#: Confidence level whose interval decides "suggestive" (an 80% interval excludes no effect).
_SUGGESTIVE_LEVEL = 0.80
_Z80 = 1.2815515655446004


VERDICT_LABELS = (
    "clear improvement",
    "suggestive improvement",
    "no meaningful difference",
    "not enough evidence yet",
    "suggestive deterioration",
    "clear deterioration",
)


@dataclass(frozen=True)
class Verdict:
    """A plain-language verdict: ``label`` (one of :data:`VERDICT_LABELS`) and ``reason``."""

    label: str
    reason: str

    @property
    def favourable(self) -> bool:
        return self.label in ("clear improvement", "suggestive improvement")

    @property
    def unfavourable(self) -> bool:
        return self.label in ("clear deterioration", "suggestive deterioration")

    def __str__(self) -> str:
        return self.label


def verdict(
    estimate: Any,
    ci_low: Any,
    ci_high: Any,
    *,
    better: str = "higher",
    null: float = 0.0,
    scale: str = "linear",
    margin: float | None = None,
    p_value: Any = None,
    no_interval: str = "",
) -> Verdict:
    """The verdict on one result from its estimate and 95% interval (rules in the module doc).

    Parameters
    ----------
    estimate, ci_low, ci_high
        The estimate and its 95% confidence interval (NaN or None when not estimable).
    better
        ``"higher"`` when larger values favour the program, ``"lower"`` otherwise (hazard
        ratios of leaving, costs).
    null
        The value meaning "no effect" (0 for differences, 1 for ratios).
    scale
        ``"log"`` for ratios (hazard ratio, odds ratio): the interval is symmetric on the log
        scale, so the standard error is taken there.
    margin
        Optional equivalence margin (same scale as the estimate) for "no meaningful
        difference"; without it a null result is always "not enough evidence yet".
    p_value
        The two-sided p-value of the method that gave the interval, when it has one. Then
        "suggestive" reads it directly (``p < 0.20``: the method's own 80% interval excludes no
        effect) instead of a standard error taken from the 95% interval, which is right only
        for symmetric Wald intervals (MOVER, exact and Satterthwaite t intervals are not).
    no_interval
        Why there is no interval, when the caller knows better than "too few people or events"
        (e.g. too few clusters with treated observations).
    """
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', not {better!r}")
    if scale not in ("linear", "log"):
        raise ValueError(f"scale must be 'linear' or 'log', not {scale!r}")
    if not is_finite(estimate):
        return Verdict("not enough evidence yet", "the result could not be estimated from the data")
    if not (is_finite(ci_low) and is_finite(ci_high)):
        return Verdict(
            "not enough evidence yet",
            no_interval or "there are too few people or events for an interval",
        )
    est, lo, hi = float(estimate), float(ci_low), float(ci_high)
    if lo > hi:
        lo, hi = hi, lo
    sign = 1.0 if better == "higher" else -1.0
    if margin is not None and null - margin <= lo and hi <= null + margin:
        return Verdict(
            "no meaningful difference",
            f"the whole 95% interval lies within {margin:g} of no effect",
        )
    if lo > null or hi < null:
        favourable = (lo > null) == (sign > 0)
        return Verdict(
            "clear improvement" if favourable else "clear deterioration",
            "the whole 95% interval lies on one side of no effect",
        )
    if is_finite(p_value):
        if float(p_value) < 1 - _SUGGESTIVE_LEVEL and est != null:
            favourable = ((est - null) * sign) > 0
            return Verdict(
                "suggestive improvement" if favourable else "suggestive deterioration",
                "the 95% interval includes no effect, but an 80% interval would not",
            )
        return Verdict(
            "not enough evidence yet",
            "the 95% interval includes no effect; the data cannot tell a gain from a loss yet",
        )
    if scale == "log":
        if min(est, lo, hi, null) <= 0:
            return Verdict("not enough evidence yet", "the interval is not usable on a log scale")
        e, lo_, hi_, n0 = math.log(est), math.log(lo), math.log(hi), math.log(null)
    else:
        e, lo_, hi_, n0 = est, lo, hi, null
    se = (hi_ - lo_) / (2 * _Z95)
    if se > 0 and abs(e - n0) / se >= _Z80:
        favourable = ((e - n0) * sign) > 0
        return Verdict(
            "suggestive improvement" if favourable else "suggestive deterioration",
            "the 95% interval includes no effect, but an 80% interval would not",
        )
    return Verdict(
        "not enough evidence yet",
        "the 95% interval includes no effect; the data cannot tell a gain from a loss yet",
    )


@dataclass(frozen=True)
class Feasibility:
    """Could a realistic program settle the retention question? (read by the recommendation)

    ``pairs_needed`` pairs (``cohorts_needed`` cohorts) detect the ``plausible_hazard_ratio``
    with 80% power at two-sided 5%; ``realistic_pairs`` is what the organisation can
    realistically run (``realistic_cohorts`` cohorts of the pilot's size, and never more than
    the people eligible to mentor).
    """

    pairs_needed: int
    cohorts_needed: int
    realistic_pairs: int
    realistic_cohorts: int
    pairs_per_cohort: int
    plausible_hazard_ratio: float = 0.7

    @property
    def feasible(self) -> bool:
        return self.pairs_needed <= self.realistic_pairs

    def need_text(self) -> str:
        return (
            f"detecting a {1 - self.plausible_hazard_ratio:.0%} lower rate of leaving would "
            f"take about {self.pairs_needed:,} pairs ({self.cohorts_needed:,} cohorts of "
            f"{self.pairs_per_cohort})"
        )


#: The recommendation rules, in the order they are tried (first match decides). The appendix
#: of every report prints this table; :func:`recommendation` implements it.
RECOMMENDATION_RULES: tuple[tuple[str, str, str], ...] = (
    ("1", "The headline cannot be estimated", "no recommendation yet (why, and from when)"),
    ("2", "The headline or another headline result clearly deteriorated", "reshape"),
    (
        "3",
        "The headline clearly improved, nothing deteriorated, the cautious end of the return "
        "is above zero",
        "scale",
    ),
    ("4", "The headline clearly improved otherwise", "continue, and review the return"),
    ("5", "The headline or another result suggestively deteriorated", "reshape"),
    (
        "6",
        "The headline is inconclusive; a realistic program could settle it",
        "continue: run the cohorts needed",
    ),
    (
        "7",
        "The headline is inconclusive; no realistic program could settle it",
        "decide on the other results",
    ),
)


def recommendation(
    primary: Verdict | str | None,
    *,
    secondary: Mapping[str, Verdict | str | None] | None = None,
    feasibility: Feasibility | None = None,
    roi_low: Any = None,
    primary_name: str = "retention",
    primary_reason: str = "",
    cost: str = "",
) -> dict:
    """The recommendation from the headline verdicts, power and estimability.

    Parameters
    ----------
    primary
        Verdict of the pre-declared headline (retention at the horizon), or None when it
        could not be estimated.
    secondary
        Verdicts of the other headline results by name (``"engagement"``, ``"skills"``);
        None for one that was not estimated.
    feasibility
        Whether a realistic program could detect a plausible retention effect; None when
        unknown (then an inconclusive headline reads as rule 6).
    roi_low
        The cautious (lower) end of the return on investment in percent, when estimated.
    primary_name, primary_reason, cost
        Words for the reason: the headline's name, why it is not estimable, the program cost.

    Returns
    -------
    dict
        ``action``, ``reason`` (a sentence) and ``rule`` (the number in
        :data:`RECOMMENDATION_RULES`).
    """

    def label(v: Verdict | str | None) -> str | None:
        return v.label if isinstance(v, Verdict) else v

    head = label(primary)
    others = {k: label(v) for k, v in (secondary or {}).items() if label(v) is not None}
    if head is None:
        return {
            "action": "no recommendation yet",
            "reason": f"the pre-declared headline, {primary_name}, cannot be estimated yet"
            + (f": {primary_reason}" if primary_reason else "")
            + "; the other results are reported but do not decide",
            "rule": 1,
        }
    every = {primary_name: head, **others}
    worse = [k for k, v in every.items() if v == "clear deterioration"]
    if worse:
        return {
            "action": "reshape",
            "reason": f"{join_words(worse)} clearly deteriorated; change the design before "
            "another cohort",
            "rule": 2,
        }
    maybe_worse = [k for k, v in every.items() if v == "suggestive deterioration"]
    if head == "clear improvement":
        pays = is_finite(roi_low) and float(roi_low) > 0
        if pays and not maybe_worse:
            return {
                "action": "scale",
                "reason": f"{primary_name} clearly improved and even the cautious end of the "
                "return on investment is positive",
                "rule": 3,
            }
        why = (
            f"{join_words(maybe_worse)} may have deteriorated"
            if maybe_worse
            else "the return on investment is not yet shown to pay back"
        )
        return {
            "action": "continue",
            "reason": f"{primary_name} clearly improved, but {why}; keep running cohorts and "
            "review what holds the return back",
            "rule": 4,
        }
    if maybe_worse:
        return {
            "action": "reshape",
            "reason": f"{join_words(maybe_worse)} may have deteriorated; review the design",
            "rule": 5,
        }
    if feasibility is None or feasibility.feasible:
        plan = (
            f"; {feasibility.need_text()}, within reach of a realistic program"
            if feasibility is not None
            else ""
        )
        return {
            "action": "continue",
            "reason": f"the data cannot settle {primary_name} yet{plan}; run the next cohorts "
            "and keep measuring",
            "rule": 6,
        }
    order = ["engagement", "skills"]
    shown = [
        f"{k} ({v})"
        for k, v in sorted(
            others.items(),
            key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]),
        )
    ]
    return {
        "action": "decide on the other results",
        "reason": f"{primary_name} will not be settled by more cohorts: "
        f"{feasibility.need_text()}, far more than the {feasibility.realistic_pairs:,} pairs "
        f"of a realistic program ({feasibility.realistic_cohorts} cohorts). Decide on "
        + (join_words(shown) if shown else "the other results")
        + (f", and on the cost ({cost})" if cost else ""),
        "rule": 7,
    }
