"""Planning the next cohorts: the power, minimum detectable effects and sample sizes of
:mod:`rm_analytics.stats.power` (methods and references there), and the report's planning
sentence generated from them."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from ..stats.power import (
    Method,
    RetentionSampleSize,
    mde_hazard_ratio,
    mde_paired,
    mde_two_sample,
    n_paired,
    n_two_sample,
    p_event_under_ph,
    power_paired,
    power_two_sample,
    retention_power,
    retention_sample_size,
)

__all__ = [
    "RetentionSampleSize",
    "mde_hazard_ratio",
    "mde_paired",
    "mde_two_sample",
    "n_paired",
    "n_two_sample",
    "p_event_under_ph",
    "planning_statement",
    "power_paired",
    "power_two_sample",
    "retention_power",
    "retention_sample_size",
]


# -- the report sentence ------------------------------------------------------------------------
def _fmt_int(n: int) -> str:
    return f"{n:,}"


def planning_statement(
    n_pairs: int,
    *,
    outcome: Literal["retention", "paired"] = "retention",
    target: float | None = None,
    p_event_control: float | None = None,
    controls_per_participant: float = 1.0,
    participants_per_pair: int = 1,
    pairs_per_cohort: int = 12,
    alpha: float = 0.05,
    power: float = 0.8,
    horizon_months: float = 12,
    method: Method = "freedman",
) -> str:
    """The report's planning sentence, generated from the numbers.

    "With N pairs this pilot could only detect X; to detect Y you need Z pairs (about K
    cohorts of 12)."

    Parameters
    ----------
    n_pairs
        Pairs in the current pilot.
    outcome
        ``"retention"`` (hazard ratio for leaving, log-rank test) or ``"paired"`` (pre/post
        change of the same people, ``d_z``).
    target
        Effect to plan for: a hazard ratio (default 0.7) or a ``d_z`` (default 0.5).
    p_event_control
        Retention only: controls' probability of leaving within ``horizon_months`` (required).
    controls_per_participant
        Retention only: controls per participant, now and in the plan (a matched control with
        2 controls per mentor is 2.0).
    participants_per_pair
        People per pair in the retention population: 1 (the mentors, the default) or 2 (both).
    pairs_per_cohort
        Cohort size used to express the need in cohorts.
    alpha, power, method
        Two-sided significance, target power, retention method (see module docstring).

    Returns
    -------
    str
        One or two sentences in plain language.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> print(rm.planning_statement(24, p_event_control=0.15, controls_per_participant=2))
    With 24 pairs this pilot could not reliably detect any reduction in leaving, not even to zero:
    too few leavers are expected (80% power, 5% two-sided significance, 15% of controls leaving
    within 12 months); to detect a hazard ratio of 0.70 (a 30% lower leaving rate) you need 781
    pairs with 2 control(s) per mentor (about 66 cohorts of 12).
    >>> print(rm.planning_statement(12, outcome="paired"))
    With 12 pairs this pilot could only detect a pre/post change of at least 0.89 standard
    deviations of the individual changes (d_z; 80% power, 5% two-sided significance); to detect d_z
    = 0.50 you need 34 pairs (about 3 cohorts of 12).
    """
    if n_pairs < 1:
        raise ValueError(f"n_pairs must be at least 1, got {n_pairs}")
    pct_power = f"{power:.0%} power, {alpha:.0%} two-sided significance"
    if outcome == "paired":
        y = 0.5 if target is None else float(target)
        x = mde_paired(n_pairs, alpha, power) if n_pairs >= 2 else float("nan")
        z = n_paired(y, alpha, power)
        now = (
            f"With {n_pairs} pair{'s' if n_pairs != 1 else ''} this pilot could only detect a "
            f"pre/post change of at least {x:.2f} standard deviations of the individual changes "
            f"(d_z; {pct_power})"
            if np.isfinite(x)
            else f"With {n_pairs} pair this pilot cannot test a pre/post change at all"
        )
        need = f"to detect d_z = {y:.2f} you need {_fmt_int(z)} pairs"
    elif outcome == "retention":
        if p_event_control is None:
            raise ValueError(
                "planning_statement(outcome='retention') needs p_event_control: the controls' "
                f"probability of leaving within {horizon_months:g} months"
            )
        y = 0.7 if target is None else float(target)
        if not 0 < y < 1:
            raise ValueError(f"target hazard ratio must lie in (0, 1), got {y}")
        n_t = n_pairs * participants_per_pair
        n_c = n_t * controls_per_participant
        x = mde_hazard_ratio(n_t, n_c, p_event_control, alpha, power, method)
        ss = retention_sample_size(
            hazard_ratio=y,
            p_event_control=p_event_control,
            power=power,
            alpha=alpha,
            ratio=1 / controls_per_participant,
            method=method,
        )
        z = int(math.ceil(ss.n_treated / participants_per_pair))
        who = "mentors" if participants_per_pair == 1 else "participants"
        base = (
            f"{pct_power}, {p_event_control:.0%} of controls leaving within "
            f"{horizon_months:g} months"
        )
        if np.isfinite(x):
            now = (
                f"With {n_pairs} pairs this pilot could only detect a hazard ratio of {x:.2f} "
                f"or lower, i.e. {who} leaving at most {x:.0%} as often as controls ({base})"
            )
        else:
            now = (
                f"With {n_pairs} pairs this pilot could not reliably detect any reduction in "
                f"leaving, not even to zero: too few leavers are expected ({base})"
            )
        need = (
            f"to detect a hazard ratio of {y:.2f} (a {1 - y:.0%} lower leaving rate) you need "
            f"{_fmt_int(z)} pairs with {controls_per_participant:g} control(s) per "
            f"{who[:-1]}"
        )
    else:
        raise ValueError(f"outcome must be 'retention' or 'paired', not {outcome!r}")
    k = int(math.ceil(z / pairs_per_cohort))
    return (
        f"{now}; {need} (about {_fmt_int(k)} cohort{'s' if k != 1 else ''} of {pairs_per_cohort})."
    )
