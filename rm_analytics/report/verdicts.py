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
``suggestive improvement``     the 95% interval includes no effect, but an 80% interval would
                               not: ``|estimate - null| / se >= 1.2816`` with
                               ``se = (ci_high - ci_low) / (2 * 1.96)`` (on the log scale for
                               ratios), i.e. a one-sided p-value below 0.10
``no meaningful difference``   only when an equivalence ``margin`` is given: the whole 95%
                               interval lies within ``null +/- margin``
``suggestive deterioration``   as "suggestive improvement", on the unfavourable side
``clear deterioration``        the whole 95% interval lies on the unfavourable side
=============================  ================================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .formatting import is_finite, join_words

_Z95 = 1.959963984540054


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
    """
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', not {better!r}")
    if scale not in ("linear", "log"):
        raise ValueError(f"scale must be 'linear' or 'log', not {scale!r}")
    if not is_finite(estimate):
        return Verdict("not enough evidence yet", "the result could not be estimated from the data")
    if not (is_finite(ci_low) and is_finite(ci_high)):
        return Verdict(
            "not enough evidence yet", "there are too few people or events for an interval"
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


def recommendation(verdicts: Mapping[str, Verdict | str | None], *, roi_low: Any = None) -> dict:
    """The recommendation (continue, scale or reshape) from the headline verdicts.

    Rules, in order:

    1. no headline result estimated -> ``"no recommendation yet"``;
    2. any clear deterioration -> ``"reshape"``;
    3. the retention result (key ``"retention"``) or at least two results are a clear
       improvement, none deteriorates, and the lower end of the ROI range (when given) is
       above zero -> ``"scale"``;
    4. any suggestive deterioration -> ``"reshape"``;
    5. otherwise -> ``"continue"`` (keep running cohorts and collect the evidence).

    Returns a dict with ``action`` and ``reason``.
    """
    labels = {
        k: (v.label if isinstance(v, Verdict) else v) for k, v in verdicts.items() if v is not None
    }
    if not labels:
        return {
            "action": "no recommendation yet",
            "reason": "none of the headline results has been estimated yet",
        }
    clear = [k for k, v in labels.items() if v == "clear improvement"]
    worse = [k for k, v in labels.items() if v == "clear deterioration"]
    maybe_worse = [k for k, v in labels.items() if v == "suggestive deterioration"]
    if worse:
        return {
            "action": "reshape",
            "reason": f"{join_words(worse)} clearly deteriorated; change the design before another cohort",
        }
    roi_ok = roi_low is None or (is_finite(roi_low) and float(roi_low) > 0)
    if ("retention" in clear or len(clear) >= 2) and not maybe_worse and roi_ok:
        return {
            "action": "scale",
            "reason": f"{join_words(clear)} clearly improved"
            + ("" if roi_low is None else " and even the conservative ROI is positive"),
        }
    if maybe_worse:
        return {
            "action": "reshape",
            "reason": f"{join_words(maybe_worse)} may have deteriorated; review the design",
        }
    return {
        "action": "continue",
        "reason": "the evidence so far does not justify scaling up or stopping; run the next "
        "cohort and keep measuring",
    }
