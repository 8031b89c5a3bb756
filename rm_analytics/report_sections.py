"""The content of the report notebooks: parameters, a registry of sections, and display.

Notebooks stay thin: they hold a ``parameters`` cell and a few calls such as
``report = Report.build("sponsor", **params)``, ``report.show_executive_summary()``,
``report.show_part("results")``. Everything else lives here, tested like the rest of the
package.

Adding a section (e.g. when ``rm_analytics.retention`` lands) is one function::

    @section("retention", title="Retention of mentors", part="results", order=10)
    def retention_section(ctx: SectionContext) -> SectionResult:
        res = SectionResult()
        fit = retention.compare(ctx.pilot, as_of=ctx.params.as_of, ...)
        m = ctx.metrics.add("mentor_retention_diff", est, lo, hi, label="...", unit="pp",
                            headline="retention", better="higher", n=..., method="...")
        res.text.append(f"Mentors stayed ... {m.display}: {m.verdict}.")
        res.add_figure(fit.plot().figure, "Figure: ...")
        return res

Registering a key again replaces the earlier section (the placeholders below are replaced
that way). A section raising :class:`~rm_analytics.errors.InsufficientDataError` is shown
as "not available" with the error's message; any other exception fails the report (a bug
must not vanish into a silently shorter report).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from .errors import InsufficientDataError, RmAnalyticsError
from .reporting import (
    MetricsCollector,
    Verdict,
    fmt_count,
    recommendation,
    suppress_small,
)
from .stats import wilson_ci

AUDIENCES = ("sponsor", "program-lead", "exploration")

#: Parts of a report in reading order: key -> heading.
PARTS: dict[str, str] = {
    "glance": "Program at a glance",
    "reaction": "Level 1: Reaction",
    "learning": "Level 2: Learning",
    "behaviour": "Level 3: Behaviour and goals",
    "results": "Level 4: Results",
    "roi": "Level 5: Return on investment",
    "power": "Power and what the next cohort needs",
    "benchmarks": "External benchmarks",
    "pairs": "Pair health",
    "appendix": "Appendix: methods and data",
}

#: Headline slots of the executive summary: slot -> what the sponsor reads.
HEADLINES: dict[str, str] = {
    "retention": "Retention of mentors vs control",
    "engagement": "Engagement change vs control",
    "skills": "Skill gain",
    "roi": "Return on investment (range)",
}


# -- parameters ------------------------------------------------------------------------------
@dataclass
class ReportParameters:
    """Parameters shared by the report notebooks (the notebooks' ``parameters`` cells).

    ``as_of`` empty means the latest date found in the data (see :func:`snapshot_date`);
    ``today`` empty means the real date (for "not in the future" checks).
    """

    data: str = "data/sample"
    config: str = ""
    cohort: str = "all"
    as_of: str = ""
    today: str = ""
    organisation: str = "Your organisation"
    title: str = "Reverse-mentoring pilot: evaluation report"
    currency: str = "EUR"
    horizon_months: int = 12
    replacement_cost_share: float = 0.21
    primary_population: str = "mentor"
    min_cell_size: int = 5
    seed: int = 20250113

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> ReportParameters:
        """Pick the known names from a mapping (e.g. a notebook's ``globals()``)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def check(self) -> None:
        """Raise ValueError naming the parameter when a value is out of range."""
        problems = check_parameter_values({f.name: getattr(self, f.name) for f in fields(self)})
        if problems:
            raise ValueError("; ".join(problems))


def check_parameter_values(values: dict[str, Any]) -> list[str]:
    """Range checks of known parameters (names absent from ``values`` are not checked)."""
    problems: list[str] = []

    def bad(name: str, rule: str) -> None:
        problems.append(f"parameter {name}={values[name]!r}: {rule}")

    for name in ("as_of", "today"):
        if values.get(name):
            try:
                pd.Timestamp(str(values[name]))
            except (ValueError, TypeError):
                bad(name, "expected a date as YYYY-MM-DD")
    if "min_cell_size" in values and not (
        isinstance(values["min_cell_size"], int) and values["min_cell_size"] >= 1
    ):
        bad("min_cell_size", "expected a whole number >= 1")
    if "horizon_months" in values and not (
        isinstance(values["horizon_months"], int) and 1 <= values["horizon_months"] <= 120
    ):
        bad("horizon_months", "expected a whole number of months from 1 to 120")
    if "replacement_cost_share" in values and not (
        isinstance(values["replacement_cost_share"], (int, float))
        and 0 < values["replacement_cost_share"] <= 5
    ):
        bad("replacement_cost_share", "expected a share of annual salary above 0 and at most 5")
    if "currency" in values and not (
        isinstance(values["currency"], str)
        and len(values["currency"]) == 3
        and values["currency"].isalpha()
    ):
        bad("currency", "expected a three-letter currency code such as EUR")
    if "primary_population" in values and values["primary_population"] not in (
        "mentor",
        "mentee",
        "both",
    ):
        bad("primary_population", "expected 'mentor', 'mentee' or 'both'")
    return problems


def snapshot_date(pilot) -> pd.Timestamp:
    """The default ``as_of``: the latest date recorded in the pilot (planned end dates
    excluded; see :meth:`rm_analytics.Pilot.snapshot_date`)."""
    stamp = pilot.snapshot_date()
    if pd.isna(stamp):
        raise InsufficientDataError("the pilot data hold no dates; pass as_of explicitly")
    return stamp


def resolve_data_path(data: str) -> str:
    """``data`` as given when it exists; a relative path not found in the working folder is
    looked up in its parents (a notebook opened from ``notebooks/`` finds ``data/sample``)."""
    from pathlib import Path

    p = Path(data)
    if p.exists() or p.is_absolute():
        return str(p)
    for parent in Path.cwd().parents:
        if (parent / p).exists():
            return str(parent / p)
    return str(p)


def load_report_pilot(params: ReportParameters):
    """Load and validate the data, restrict them to the cohort, and resolve ``as_of``.

    Returns ``(pilot, as_of)``. ``params.as_of`` is set to the resolved ISO date.
    """
    from .pilot import load_pilot

    pilot = load_pilot(
        resolve_data_path(params.data),
        config=resolve_data_path(params.config) if params.config else None,
        today=params.today or None,
    )
    if params.cohort not in ("all", "", None):
        pilot = pilot.select(params.cohort)
    as_of = pd.Timestamp(params.as_of) if params.as_of else snapshot_date(pilot)
    params.as_of = as_of.date().isoformat()
    return pilot, as_of


# -- sections --------------------------------------------------------------------------------
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

    @property
    def sponsor(self) -> bool:
        """True for the sponsor audience (aggregates only, small cells suppressed)."""
        return self.audience == "sponsor"


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

    def add_table(self, caption: str, frame: pd.DataFrame, note: str = "") -> None:
        self.tables.append((caption, frame, note))

    def add_figure(self, fig, caption: str, *, alt: str | None = None) -> None:
        """Embed a matplotlib figure (checked for title and axis labels) with its caption."""
        from .theme import figure_html

        self.figures.append((caption, figure_html(fig, caption, alt=alt)))


@dataclass
class SectionSpec:
    key: str
    title: str
    part: str
    audiences: tuple[str, ...]
    order: int
    func: Callable[[SectionContext], SectionResult]
    pending: bool = False


#: The registry: key -> :class:`SectionSpec`.
SECTIONS: dict[str, SectionSpec] = {}


def section(
    key: str,
    *,
    title: str,
    part: str,
    audiences: tuple[str, ...] = ("sponsor",),
    order: int = 100,
):
    """Register a section function ``f(ctx) -> SectionResult`` (replaces a same-key one)."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; parts are {', '.join(PARTS)}")
    unknown = set(audiences) - set(AUDIENCES)
    if unknown:
        raise ValueError(f"unknown audience(s) {sorted(unknown)}")

    def register(func: Callable[[SectionContext], SectionResult]):
        SECTIONS[key] = SectionSpec(key, title, part, tuple(audiences), order, func)
        return func

    return register


def pending(
    key: str, *, title: str, part: str, analysis: str, audiences=("sponsor",), order: int = 100
) -> None:
    """Register a placeholder for an analysis that is not part of this version yet."""

    def placeholder(ctx: SectionContext) -> SectionResult:
        return SectionResult(
            status="pending",
            reason=f"the {analysis} is not part of this version of rm-analytics yet",
        )

    section(key, title=title, part=part, audiences=audiences, order=order)(placeholder)
    SECTIONS[key].pending = True


def sections_for(audience: str) -> list[SectionSpec]:
    """Registered sections of an audience in reading order (part, then order, then key)."""
    part_rank = {p: i for i, p in enumerate(PARTS)}
    specs = [s for s in SECTIONS.values() if audience in s.audiences]
    return sorted(specs, key=lambda s: (part_rank[s.part], s.order, s.key))


# -- the report ------------------------------------------------------------------------------
class Report:
    """All sections of one audience computed on one pilot, ready to display in a notebook."""

    def __init__(self, audience: str, pilot, params: ReportParameters, as_of: pd.Timestamp):
        if audience not in AUDIENCES:
            raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
        self.audience = audience
        self.pilot = pilot
        self.params = params
        self.as_of = as_of
        self.metrics = MetricsCollector(
            report={
                "audience": audience,
                "cohort": params.cohort or "all",
                "cohorts": list(pilot.cohort_ids),
                "as_of": as_of.date().isoformat(),
                "organisation": params.organisation,
                "currency": params.currency,
                "horizon_months": params.horizon_months,
                "replacement_cost_share": params.replacement_cost_share,
                "primary_population": params.primary_population,
                "min_cell_size": params.min_cell_size,
                "seed": params.seed,
            },
            currency=params.currency,
            min_cell_size=params.min_cell_size if audience == "sponsor" else None,
        )
        self.results: dict[str, SectionResult] = {}
        self.specs = sections_for(audience)
        ctx = SectionContext(pilot, params, self.metrics, audience, as_of)
        for spec in self.specs:
            try:
                res = spec.func(ctx)
            except InsufficientDataError as exc:
                res = SectionResult(status="unavailable", reason=str(exc))
            self.results[spec.key] = res
            self.metrics.section_status(spec.key, res.status, res.reason, spec.title)
            self.metrics.sections[spec.key]["figures"] = [c for c, _ in res.figures]
        heads = self.metrics.headlines()
        verdicts = {
            slot: Verdict(m.verdict, m.verdict_reason or "")
            for slot, m in heads.items()
            if slot != "roi" and m.verdict
        }
        roi = heads.get("roi")
        self.metrics.recommendation = recommendation(
            verdicts, roi_low=None if roi is None else roi.ci_low
        )

    @classmethod
    def build(cls, audience: str, **parameters: Any) -> Report:
        """Check parameters, load the pilot and compute every section of ``audience``."""
        params = ReportParameters.from_mapping(parameters)
        params.check()
        pilot, as_of = load_report_pilot(params)
        return cls(audience, pilot, params, as_of)

    # -- HTML pieces ---------------------------------------------------------------------
    def header_html(self) -> str:
        p = self.params
        cohort = "all cohorts pooled" if p.cohort in ("all", "") else f"cohort {p.cohort}"
        banner = ""
        if self.audience == "program-lead":
            banner = (
                '<p class="rm-confidential">CONFIDENTIAL: pair-level information for the '
                "program lead only. Do not forward; never include in sponsor material.</p>"
            )
        return (
            f'<header class="rm-header">{banner}<h1>{html.escape(p.title)}</h1>'
            f'<p class="rm-meta">{html.escape(p.organisation)} &middot; {html.escape(cohort)} '
            f"&middot; data as of {self.as_of.date().isoformat()}</p></header>"
        )

    def executive_summary_html(self) -> str:
        heads = self.metrics.headlines()
        cards = []
        for slot, what in HEADLINES.items():
            m = heads.get(slot)
            if m is None:
                cards.append(
                    f'<div class="rm-card rm-pending" data-slot="{slot}">'
                    f'<div class="rm-card-label">{html.escape(what)}</div>'
                    '<div class="rm-card-value">not yet estimated</div>'
                    '<div class="rm-verdict">this analysis is not part of this version</div></div>'
                )
                continue
            verdict_cls = (m.verdict or "none").replace(" ", "-")
            cards.append(
                f'<div class="rm-card" data-slot="{slot}" data-metric="{m.key}">'
                f'<div class="rm-card-label">{html.escape(m.label)}</div>'
                f'<div class="rm-card-value" data-metric-value="{m.key}">{html.escape(m.display)}</div>'
                f'<div class="rm-verdict rm-verdict-{verdict_cls}">{html.escape(m.verdict or "")}</div>'
                "</div>"
            )
        rec = self.metrics.recommendation or {}
        rec_html = (
            f'<p class="rm-recommendation"><strong>Recommendation: '
            f"{html.escape(str(rec.get('action', '')))}</strong>. "
            f"{html.escape(_sentence(str(rec.get('reason', ''))))}</p>"
        )
        glance = [m for m in self.metrics.metrics.values() if m.section == "glance"]
        rows = "".join(
            f"<tr><th scope='row'>{html.escape(m.label)}</th>"
            f"<td data-metric-value='{m.key}'>{html.escape(m.display)}</td></tr>"
            for m in glance
        )
        glance_html = (
            f'<table class="rm-glance"><caption>The program in numbers</caption>{rows}</table>'
            if rows
            else ""
        )
        return (
            '<section class="rm-exec" id="executive-summary"><h2>Executive summary</h2>'
            f'<div class="rm-cards">{"".join(cards)}</div>{rec_html}{glance_html}'
            '<p class="rm-small">Figures are estimates with 95% intervals: the range of values '
            "compatible with the data. Verdict rules are in the appendix.</p></section>"
        )

    def section_html(self, key: str) -> str:
        spec = next(s for s in self.specs if s.key == key)
        res = self.results[key]
        parts = [
            f'<section class="rm-section" id="section-{key}"><h3>{html.escape(spec.title)}</h3>'
        ]
        if res.status != "ok":
            word = "Not yet available" if res.status == "pending" else "Not available"
            parts.append(
                f'<p class="rm-unavailable">{word}: {html.escape(_sentence(res.reason))}</p>'
            )
        parts += [f"<p>{html.escape(t)}</p>" for t in res.text]
        for caption, frame, note in res.tables:
            parts.append(table_html(frame, caption, note))
        parts += [h for _, h in res.figures]
        if res.notes:
            parts.append(
                '<ul class="rm-notes">'
                + "".join(f"<li>{html.escape(n)}</li>" for n in res.notes)
                + "</ul>"
            )
        parts.append("</section>")
        return "".join(parts)

    def part_html(self, part: str) -> str:
        keys = [s.key for s in self.specs if s.part == part]
        if not keys:
            return ""
        body = "".join(self.section_html(k) for k in keys)
        return f'<section class="rm-part" id="part-{part}"><h2>{html.escape(PARTS[part])}</h2>{body}</section>'

    # -- notebook display ----------------------------------------------------------------
    def _show(self, text: str) -> None:
        if self.audience == "sponsor":
            check_privacy(text, self.pilot)
        _display_html(text)

    def show_header(self) -> None:
        self._show(self.header_html())

    def show_executive_summary(self) -> None:
        self._show(self.executive_summary_html())

    def show_part(self, part: str) -> None:
        if part not in PARTS:
            raise ValueError(f"unknown part {part!r}; parts are {', '.join(PARTS)}")
        self._show(self.part_html(part))

    def show_all_parts(self) -> None:
        for part in PARTS:
            if part != "glance":
                self.show_part(part)

    def publish_metrics(self) -> None:
        """Emit the metrics for the renderer (a hidden output; call once, at the end)."""
        self.metrics.publish()


class PrivacyError(RmAnalyticsError):
    """Sponsor-bound content contains an identifier or free text from the data."""


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[\w.@-]+", text))


def check_privacy(text: str, pilot, *, min_text_length: int = 12) -> None:
    """Raise :class:`PrivacyError` when ``text`` (sponsor HTML) contains an employee id, a
    pair id, or a free-text answer/goal/comment of the pilot's data.

    A safety net behind the sections' own aggregation: the report fails (exit 1) rather than
    leak. The message names the kind of leak, never the value. Free texts shorter than
    ``min_text_length`` characters are not checked (too likely to be ordinary words).
    """
    plain = html.unescape(re.sub(r"<[^>]+>", " ", text))
    tokens = _tokens(plain)
    ids = {
        "employee id": set(pilot.employees.employee_id.dropna().astype(str)),
        "pair id": set(pilot.pairs.pair_id.dropna().astype(str)),
    }
    for kind, values in ids.items():
        if tokens & values:
            raise PrivacyError(f"sponsor content contains {len(tokens & values)} {kind}(s)")
    texts: set[str] = set()
    if pilot.surveys is not None and "text" in pilot.surveys:
        texts |= set(pilot.surveys.text.dropna().astype(str))
    if pilot.checkpoints is not None:
        for col in ("roadblocks", "wins"):
            if col in pilot.checkpoints:
                texts |= set(pilot.checkpoints[col].dropna().astype(str))
    if "goal" in pilot.pairs:
        texts |= set(pilot.pairs.goal.dropna().astype(str))
    squashed = " ".join(plain.split())
    leaked = [
        t for t in texts if len(t.strip()) >= min_text_length and " ".join(t.split()) in squashed
    ]
    if leaked:
        raise PrivacyError(f"sponsor content contains {len(leaked)} free-text answer(s) or goal(s)")


def _display_html(text: str) -> None:
    from IPython.display import HTML, display

    if text:
        display(HTML(text))


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def table_html(frame: pd.DataFrame, caption: str, note: str = "") -> str:
    """A people-readable HTML table: caption, no index, right-aligned numbers, note below."""
    body = frame.to_html(index=False, border=0, na_rep="", escape=True, classes="rm-table")
    body = body.replace(
        '<table border="0" class="dataframe rm-table">',
        f'<table class="rm-table"><caption>{html.escape(caption)}</caption>',
        1,
    )
    note_html = f'<p class="rm-table-note">{html.escape(note)}</p>' if note else ""
    return f'<div class="rm-table-wrap">{body}{note_html}</div>'


# -- sections available now --------------------------------------------------------------------
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
            "Name": c["name"].astype(str).to_numpy() if "name" in c else "",
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
        per["Planned sessions per pair"] = c.planned_sessions.astype("Int64").to_numpy()
    plot_frame = per.copy()
    if ctx.sponsor:
        per = suppress_small(per, people_cols, ctx.params.min_cell_size)
    for col in ["Pairs", *people_cols]:
        per[col] = per[col].map(lambda v: fmt_count(v) if isinstance(v, (int, float)) else v)
    res.add_table("Cohorts", per)

    from .theme import GROUP_COLOURS, figure, label

    fig, ax = figure(figsize=(6.5, 3.2))
    x = range(len(plot_frame))
    width = 0.8 / len(people_cols)
    colours = [GROUP_COLOURS["mentors"], GROUP_COLOURS["mentees"], GROUP_COLOURS["control"]]
    k = ctx.params.min_cell_size
    for i, col in enumerate(people_cols):
        vals = plot_frame[col].astype(float)
        if ctx.sponsor:
            vals = vals.where(~((vals > 0) & (vals < k)))
        ax.bar(
            [xi + (i - (len(people_cols) - 1) / 2) * width for xi in x],
            vals.fillna(0),
            width,
            label=col.lower(),
            color=colours[i],
        )
    ax.set_xticks(list(x), plot_frame.Cohort.tolist())
    ax.legend(ncols=len(people_cols), loc="upper left", bbox_to_anchor=(0, -0.18))
    label(ax, title="People in each cohort", x="cohort", y="people (count)")
    res.add_figure(
        fig,
        "Figure 1. Junior mentors, senior mentees and designated control-group members per "
        "cohort." + (f" Groups of fewer than {k} people are not drawn." if ctx.sponsor else ""),
        alt="Bar chart of people per cohort",
    )
    return res


@section(
    "data_quality",
    title="Data quality",
    part="appendix",
    audiences=("sponsor", "program-lead"),
    order=90,
)
def data_quality_section(ctx: SectionContext) -> SectionResult:
    """Rows read, kept and excluded per table, with the reason (no individual data)."""
    res = SectionResult()
    q = ctx.pilot.quality
    loaded = ctx.pilot.summary().rename(
        columns={"table": "Table", "rows": "Rows", "source": "File"}
    )
    loaded["Rows"] = loaded["Rows"].map(fmt_count)
    res.add_table("Tables read", loaded)
    shown = q.rename(
        columns={
            "table": "Table",
            "stage": "Stage",
            "check": "Check",
            "rows": "Rows",
            "action": "Action",
            "detail": "Detail",
        }
    )
    shown["Rows"] = shown["Rows"].map(fmt_count)
    res.add_table(
        "Rows read, kept and excluded",
        shown,
        "Every row an analysis leaves out is counted here with the reason.",
    )
    excluded = int(q.loc[q.action.eq("excluded"), "rows"].sum())
    res.text.append(
        f"The data were checked against the data contract before any analysis: "
        f"{fmt_count(excluded)} row(s) were excluded by the checks listed below."
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
    res = SectionResult()
    res.text.append(
        "Every figure comes with a 95% confidence interval: the range of values compatible with "
        "the data. Verdicts are generated from the numbers with fixed rules, so a result the "
        "data cannot settle reads as such."
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
    rec = pd.DataFrame(
        {
            "Recommendation": ["scale", "continue", "reshape", "no recommendation yet"],
            "Rule": [
                "retention, or two headline results, clearly improved; none deteriorated; the "
                "conservative end of the ROI range is positive",
                "otherwise: run the next cohort and keep measuring",
                "a headline result clearly (or suggestively) deteriorated",
                "no headline result could be estimated",
            ],
        }
    )
    res.add_table("Recommendation rules", rec)
    k = ctx.params.min_cell_size
    if ctx.sponsor:
        res.text.append(
            f"Privacy: this report shows aggregates only. Groups of fewer than {k} people are "
            "hidden; no names, identifiers, comments or pair-level information appear."
        )
    res.text.append(
        f"Data as of {ctx.as_of.date().isoformat()}: people still employed then are followed up "
        "to that date and no further."
    )
    return res


# -- program lead: pair-level listings -----------------------------------------------------------
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


# -- the metric sections (Kirkpatrick levels, ROI, power, benchmarks, pair health) -------------
from . import report_metrics  # noqa: E402,F401  (registers its sections)
