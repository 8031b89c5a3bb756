"""Helpers shared by the section modules."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..formatting import is_finite
from ..section import SectionContext, SectionResult

ROLE_LABEL = {"mentor": "junior mentors", "mentee": "senior mentees", "all": "all participants"}


def count_or_none(value: Any) -> int | None:
    """A count for the metrics JSON (None when suppressed or unknown)."""
    return int(value) if is_finite(value) else None


def add_row(ctx: SectionContext, key: str, row: pd.Series, **kwargs: Any):
    """Record a summary row (estimate, ci_low, ci_high, n) in the metrics JSON."""
    n = kwargs.pop("n", count_or_none(row.get("n")))
    return ctx.metrics.add(key, row.estimate, row.ci_low, row.ci_high, n=n, **kwargs)


def population(ctx: SectionContext) -> str:
    return {"mentor": "mentors", "mentee": "mentees", "both": "both"}[ctx.params.primary_population]


def result_figure(
    res: SectionResult,
    result,
    caption: str,
    *,
    method: str = "plot",
    title: str = "",
    x: str = "",
    y: str = "",
) -> None:
    """Draw ``result.<method>()`` in the report theme; fill a missing title or axis label."""
    ax = getattr(result, method)()
    fig = ax.figure if hasattr(ax, "figure") else ax[0].figure
    main = fig.axes[0]
    if title and not (main.get_title() or main.get_title(loc="left") or fig._suptitle):
        main.set_title(title)
    if x and not main.get_xlabel():
        main.set_xlabel(x)
    if y and not main.get_ylabel():
        main.set_ylabel(y)
    res.add_figure(fig, caption, alt=caption)


def carry_notes(res: SectionResult, result) -> None:
    """Carry the analysis' notes (never ids or text: the metric modules keep those out)."""
    res.notes.extend(result.notes)


def retention_fit(ctx: SectionContext):
    from ...metrics.retention import pilot_retention

    if "retention" not in ctx.cache:  # shared by the retention, ROI, power and balance sections
        h = ctx.params.horizon_months
        horizons = tuple(sorted({6, h}))
        ctx.cache["retention"] = pilot_retention(
            ctx.pilot, population=population(ctx), as_of=ctx.as_of, horizons=horizons
        )
    return ctx.cache["retention"]
