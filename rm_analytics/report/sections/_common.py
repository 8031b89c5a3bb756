"""Helpers shared by the section modules."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..formatting import is_finite
from ..section import SectionContext, SectionResult

ROLE_LABEL = {"mentor": "junior mentors", "mentee": "senior mentees", "all": "all participants"}
#: The summaries' group names (``treated``, ``control``, ``treated vs control``) in the words
#: the report's tables use.
GROUP_WORDS = {"treated": "participants", "treated vs control": "participants / control"}


def count_or_none(value: Any) -> int | None:
    """A count for the metrics JSON (None when suppressed or unknown)."""
    return int(value) if is_finite(value) else None


def add_row(ctx: SectionContext, key: str, row: pd.Series, **kwargs: Any):
    """Record a summary row (estimate, ci_low, ci_high, n; with a verdict, its p_value) in the
    metrics JSON."""
    n = kwargs.pop("n", count_or_none(row.get("n")))
    if kwargs.get("better") is not None:  # the verdict reads the method's own p-value
        kwargs.setdefault("p_value", row.get("p_value"))
    return ctx.metrics.add(key, row.estimate, row.ci_low, row.ci_high, n=n, **kwargs)


def population(ctx: SectionContext) -> str:
    """The retention population of the report (``mentor``, ``mentee`` or ``both``)."""
    return ctx.params.primary_population


def result_figure(
    res: SectionResult,
    result,
    details: str,
    *,
    method: str = "plot",
    title: str = "",
    x: str = "",
    y: str = "",
    plot_kwargs: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
    decorate=None,
) -> None:
    """Draw ``result.<method>(**plot_kwargs)`` with ``title`` and the axis labels, replacing
    the analysis' own (a label not given stays as the analysis drew it), and caption it
    ``"Figure: <title>. <details>"``: caption and figure say the same. ``labels`` renames tick
    and legend labels; ``decorate(ax)`` adds marks. Nothing is drawn while a pooled report
    computes its cohorts' figures (:data:`~rm_analytics.report.section.DRAWING`)."""
    from ..section import DRAWING

    if not DRAWING.get():
        return
    ax = getattr(result, method)(**(plot_kwargs or {}))
    fig = ax.figure if hasattr(ax, "figure") else ax[0].figure
    main = fig.axes[0]
    if not title:
        drawn = (main.get_title(loc=w) for w in ("left", "center", "right"))
        title = next((t for t in drawn if t), "") or getattr(result, "title", "")
    for loc in ("left", "center", "right"):
        main.set_title("", loc=loc)
    main.set_title(title)
    if x:
        main.set_xlabel(x)
    if y:
        main.set_ylabel(y)
    _plain_ticks(main, labels or {})
    if decorate is not None:
        decorate(main)
    details = details.removeprefix("Figure:").strip()
    caption = f"Figure: {title}. {details[:1].upper()}{details[1:]}"
    res.add_figure(fig, caption, alt=caption)


def _plain_ticks(ax, names: dict[str, str]) -> None:
    """Category labels of an axis in plain words (``engagement_index`` -> "engagement index"),
    renamed by ``names`` where given."""
    from ..language import plain

    def word(t: str) -> str:
        return names.get(t, plain(t))

    for axis in (ax.xaxis, ax.yaxis):
        labels = [t.get_text() for t in axis.get_ticklabels()]
        if any("_" in t or t in names for t in labels):
            axis.set_ticks(axis.get_ticklocs(), [word(t) for t in labels])
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_text(word(text.get_text()))


def carry_notes(res: SectionResult, result) -> None:
    """Carry the analysis' notes (never ids or text: the metric modules keep those out)."""
    res.notes.extend(result.notes)


def retention_fit(ctx: SectionContext):
    from ...metrics.retention import pilot_retention

    if "retention" not in ctx.cache:  # shared by the retention, ROI, power and balance sections
        h = ctx.params.horizon_months
        horizons = tuple(sorted({6, h}))
        ctx.cache["retention"] = pilot_retention(
            ctx.pilot,
            population=population(ctx),
            as_of=ctx.as_of,
            horizons=horizons,
            seed=ctx.params.seed,
        )
    return ctx.cache["retention"]


def primary(ctx: SectionContext):
    """The pre-declared primary estimand (:mod:`rm_analytics.report.estimand`)."""
    from ..estimand import primary_result

    if "primary" not in ctx.cache:
        who = ROLE_LABEL.get(ctx.params.primary_population, "participants")
        ctx.cache["primary"] = primary_result(
            retention_fit(ctx),
            ctx.params.horizon_months,
            who,
            first_start=ctx.pilot.cohorts.start_date.min(),
        )
    return ctx.cache["primary"]


def retention_groups(ctx: SectionContext, what: str) -> None:
    """Hide a section resting on the retention comparison (as a whole: it reads "not
    available") when the participants or the control group have fewer people than the
    minimum group size."""
    head = primary(ctx)
    ctx.privacy.require(
        what, **{f"the {head.who}": head.n_treated, "the control group": head.n_control}
    )


def supporting(ctx: SectionContext):
    from ..estimand import supporting_results

    if "supporting" not in ctx.cache:
        ctx.cache["supporting"] = supporting_results(retention_fit(ctx), ctx.params.horizon_months)
    return ctx.cache["supporting"]


def control_attrition(ctx: SectionContext) -> tuple[float, str]:
    """The controls' share leaving by the horizon for planning, and where it comes from.

    The estimate when the data give one above 0; otherwise the assumed share of the
    parameters, with the reason in words (never "none observed" when there were exits).
    """
    h = ctx.params.horizon_months
    assumed = float(ctx.params.assumed_control_attrition)
    try:
        a = retention_fit(ctx).attrition_at(h)
    except Exception:  # the retention fit itself is unavailable
        return assumed, f"assumed at {assumed:.0%}: the retention analysis is not available"
    pc = a["control"]
    if is_finite(pc) and pc > 0:
        return float(pc), f"{pc:.0%} of the control group left within {h} months"
    if is_finite(pc):
        return assumed, (
            f"assumed at {assumed:.0%}: no one in the control group left within {h} months, "
            "which is too few to plan on"
        )
    return assumed, (
        f"assumed at {assumed:.0%}: the control group has not been followed for {h} months yet"
    )


def feasibility(ctx: SectionContext):
    """Pairs needed to detect a plausible effect on leaving, against a realistic program."""
    from ...metrics.power import retention_sample_size
    from ..verdicts import Feasibility

    if "feasibility" in ctx.cache:
        return ctx.cache["feasibility"]
    p = ctx.params
    n_pairs = len(ctx.pilot.pairs)
    n_cohorts = max(len(ctx.pilot.cohorts), 1)
    per_cohort = max(int(round(n_pairs / n_cohorts)), 1)
    pc, _ = control_attrition(ctx)
    try:
        a = retention_fit(ctx).attrition_at(p.horizon_months)
        ratio = a["n_control"] / a["n_treated"] if a["n_treated"] else 1.0
    except Exception:
        ratio = 1.0
    ratio = ratio if is_finite(ratio) and ratio > 0 else 1.0
    per_pair = 2 if p.primary_population == "both" else 1
    ss = retention_sample_size(
        hazard_ratio=p.plausible_hazard_ratio, p_event_control=pc, ratio=1 / ratio
    )
    pairs_needed = int(math.ceil(ss.n_treated / per_pair))
    eligible = _eligible_mentors(ctx)
    realistic = p.realistic_cohorts * per_cohort
    if eligible is not None:
        realistic = min(realistic, eligible)
    ctx.cache["feasibility"] = Feasibility(
        pairs_needed=pairs_needed,
        cohorts_needed=int(math.ceil(pairs_needed / per_cohort)),
        realistic_pairs=int(realistic),
        realistic_cohorts=int(p.realistic_cohorts),
        pairs_per_cohort=per_cohort,
        plausible_hazard_ratio=float(p.plausible_hazard_ratio),
    )
    return ctx.cache["feasibility"]


def _eligible_mentors(ctx: SectionContext) -> int | None:
    """People employed on the report date at the grades the mentors came from (None when
    the grades are unknown)."""
    e = ctx.pilot.employees
    grades = set(
        e.set_index("employee_id").level.reindex(ctx.pilot.pairs.mentor_id.astype(str)).dropna()
    )
    if not grades:
        return None
    employed = e.termination_date.isna() | (e.termination_date > ctx.as_of)
    return int((employed & e.level.isin(grades)).sum())


# -- what a sponsor may see (the report's privacy policy) ----------------------------------------
def shown(hidden: bool, text: str) -> str:
    """A table cell for the report: ``text``, or "hidden" when the privacy policy hides it."""
    return "hidden" if hidden else text


def cells(
    frame: pd.DataFrame,
    hidden: pd.Series,
    unit: str | pd.Series = "number",
    *,
    digits: int | None = None,
) -> list[str]:
    """The "estimate (interval)" cells of a summary ``frame`` ("hidden" where ``hidden``)."""
    from ..formatting import fmt_interval

    units = unit if isinstance(unit, pd.Series) else pd.Series(unit, index=frame.index)
    return [
        shown(h, fmt_interval(e, lo, hi, u, digits=digits))
        for e, lo, hi, u, h in zip(
            frame.estimate, frame.ci_low, frame.ci_high, units, hidden, strict=True
        )
    ]


def counts(values: pd.Series, hidden: pd.Series) -> list[str]:
    """People counts of a table ("hidden" where the row is hidden)."""
    from ..formatting import fmt_count

    return [shown(h, fmt_count(v)) for v, h in zip(values, hidden, strict=True)]


def hidden_note(ctx: SectionContext, what: str = "people") -> str:
    """The note under a table with hidden cells."""
    k = ctx.privacy.min_group
    return (
        f"Hidden: figures about fewer than {k} {what}, figures from which one could be worked "
        "out, and means where every answer was the same."
    )
