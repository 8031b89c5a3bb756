"""What a report section is: the context it gets, the result it returns, and the
:func:`section` decorator that describes it (title, part, audiences, order).

A section is one function ``f(ctx) -> SectionResult``; the list of sections a report shows is
written out in :mod:`rm_analytics.report.sections`. A section raising
:class:`~rm_analytics.errors.InsufficientDataError` is shown as "not available" with the
error's message; any other exception fails the report (a bug must not vanish into a silently
shorter report).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .collector import MetricsCollector
from .parameters import ReportParameters
from .privacy import PrivacyPolicy

AUDIENCES = ("sponsor", "program-lead", "exploration")

#: False while a pooled sponsor report computes its cohorts' figures (no figure is drawn).
DRAWING: ContextVar[bool] = ContextVar("rm_analytics_report_drawing", default=True)


#: Parts of a report in reading order: key -> heading.
PARTS: dict[str, str] = {
    "glance": "Program at a glance",
    "reaction": "Level 1: Reaction",
    "learning": "Level 2: Learning",
    "behaviour": "Level 3: Behaviour and goals",
    "results": "Level 4: Results",
    "roi": "Level 5: Return on investment",
    "power": "What a decision on retention would need",
    "pairs": "Pair health",
    "program": "Program health",
    "appendix": "Appendix: methods and data",
}


#: Headline slots of the executive summary: slot -> what the sponsor reads.
HEADLINES: dict[str, str] = {
    "retention": "Retention vs control (the headline)",
    "engagement": "Engagement change vs control",
    "skills": "Skill gain",
    "roi": "Return on investment, first year",
}


@dataclass
class SectionContext:
    """What a section function gets: the pilot, the parameters, the metrics collector."""

    pilot: Any
    params: ReportParameters
    metrics: MetricsCollector
    audience: str
    as_of: pd.Timestamp
    cache: dict[str, Any] = field(default_factory=dict)
    """Results shared between sections of one report (e.g. the retention fit)."""
    sentences: dict[str, str] = field(default_factory=dict)
    """One plain sentence per headline slot for the first page (retention, engagement,
    skills, roi), set by the section that computes it."""
    results: dict[str, SectionResult] = field(default_factory=dict)
    """Sections computed so far, by key (the appendix collects their notes)."""

    @property
    def sponsor(self) -> bool:
        """True for the sponsor audience (aggregates only, small cells suppressed)."""
        return self.audience == "sponsor"

    @property
    def privacy(self) -> PrivacyPolicy:
        """The audience's privacy policy (the metrics collector's): what may be shown."""
        return self.metrics.policy


@dataclass
class SectionResult:
    """A computed section: paragraphs, tables and figures (rendered HTML) and notes.

    ``status`` is ``"ok"``, ``"pending"`` (the analysis is not part of this version) or
    ``"unavailable"`` (the data do not allow it; ``reason`` says why).
    """

    text: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame, str]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (caption, html)
    notes: list[str] = field(default_factory=list)
    status: str = "ok"
    reason: str = ""
    figure_axes: list[dict[str, str]] = field(default_factory=list)
    """Title and axis labels of each figure, as drawn (for checks that captions agree)."""

    def add_table(self, caption: str, frame: pd.DataFrame, note: str = "") -> None:
        self.tables.append((caption, frame, note))

    def add_figure(self, fig, caption: str, *, alt: str | None = None) -> None:
        """Embed a matplotlib figure (checked for title and axis labels) with its caption."""
        from ..plotting.theme import figure_html

        if not DRAWING.get():
            import matplotlib.pyplot as plt

            plt.close(fig)
            return

        ax = fig.axes[0]
        titles = (ax.get_title(loc=w) for w in ("left", "center", "right"))
        title = next((t for t in titles if t), "")
        self.figure_axes.append({"title": title, "x": ax.get_xlabel(), "y": ax.get_ylabel()})
        self.figures.append((caption, figure_html(fig, caption, alt=alt)))


@dataclass
class SectionSpec:
    key: str
    title: str
    part: str
    audiences: tuple[str, ...]
    order: int
    func: Callable[[SectionContext], SectionResult]
    participants: bool = True


def section(
    key: str,
    *,
    title: str,
    part: str,
    audiences: tuple[str, ...] = ("sponsor",),
    order: int = 100,
    participants: bool = True,
):
    """Describe a section function ``f(ctx) -> SectionResult``: the decorated function gets a
    ``spec`` attribute (a :class:`SectionSpec`); :mod:`rm_analytics.report.sections` lists the
    sections a report shows.

    ``participants`` is true for a section whose figures are about the participants: a sponsor
    report of fewer pairs than the minimum group size hides it as a whole."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; parts are {', '.join(PARTS)}")
    unknown = set(audiences) - set(AUDIENCES)
    if unknown:
        raise ValueError(f"unknown audience(s) {sorted(unknown)}")

    def describe(func: Callable[[SectionContext], SectionResult]):
        func.spec = SectionSpec(key, title, part, tuple(audiences), order, func, participants)
        return func

    return describe
