"""The report document: all sections of one audience computed on one pilot, and their HTML.

Notebooks stay thin: they hold a ``parameters`` cell and a few calls such as
``report = Report.build("sponsor", **params)``, ``report.show_executive_summary()``,
``report.show_part("results")``. Everything else lives in this package, tested like the rest.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..errors import InsufficientDataError
from .collector import MetricsCollector
from .estimand import as_dict as estimand_dict
from .formatting import sentence, table_html
from .parameters import ReportParameters
from .privacy import (
    PrivacyPolicy,
    check_privacy,
    differencing_ids,
    release_waves,
    small_cohorts,
    strings_of,
)
from .section import (
    AUDIENCES,
    DRAWING,
    HEADLINES,
    PARTS,
    SectionContext,
    SectionResult,
    SectionSpec,
)
from .sections import SECTIONS
from .verdicts import Verdict, recommendation


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
    """Load and validate the data, restrict them to the cohort, resolve ``as_of`` and take the
    data as they stood on that date (:meth:`rm_analytics.Pilot.as_of`: rows dated later are
    gone, later exits have not happened, later cohorts have not started).

    Returns ``(pilot, as_of)``. ``params.as_of`` is set to the resolved ISO date.
    """
    from ..data.pilot import load_pilot

    pilot = load_pilot(
        resolve_data_path(params.data),
        config=resolve_data_path(params.config) if params.config else None,
        today=params.today or None,
        date_format=params.date_format or None,
        level_order=[str(x) for x in params.level_order] or None,
    )
    if params.cohort not in ("all", "", None):
        pilot = pilot.select(params.cohort)
    as_of = pilot.analysis_date(params.as_of or None)
    params.as_of = as_of.date().isoformat()
    pilot = pilot.as_of(as_of)  # a report before the first cohort: each section says why not
    return pilot, as_of


def sections_for(audience: str) -> list[SectionSpec]:
    """Registered sections of an audience in reading order (part, then order, then key)."""
    part_rank = {p: i for i, p in enumerate(PARTS)}
    specs = [s for s in SECTIONS.values() if audience in s.audiences]
    return sorted(specs, key=lambda s: (part_rank[s.part], s.order, s.key))


def compute_sections(
    ctx: SectionContext, specs: list[SectionSpec], on_result=None
) -> dict[str, SectionResult]:
    """Compute ``specs`` in order on ``ctx``. A section raising
    :class:`~rm_analytics.errors.InsufficientDataError` reads "not available"; for a sponsor
    report of fewer pairs than the minimum group size, every section about the participants
    is hidden as a whole (rule 1 of :mod:`rm_analytics.report.privacy`)."""
    policy = ctx.privacy
    n_pairs = len(ctx.pilot.pairs)
    small = policy.active and policy.small(n_pairs)
    for spec in specs:
        if small and spec.participants:
            res = SectionResult(
                status="unavailable",
                reason=f"this report covers fewer than {policy.min_group} pairs, and figures "
                "about so few people are hidden",
            )
        else:
            try:
                res = spec.func(ctx)
            except InsufficientDataError as exc:
                res = SectionResult(status="unavailable", reason=str(exc))
        ctx.results[spec.key] = res
        if on_result is not None:
            on_result(spec, res)
    return ctx.results


def cohort_records(pilot, params: ReportParameters, as_of: pd.Timestamp, cohorts, k: int):
    """What each cohort's own sponsor report hides: ``cohort -> {figure id: (people,
    hidden)}``, computed without drawing (rule 5 of :mod:`rm_analytics.report.privacy`).

    A cohort of fewer than ``k`` pairs, whose own report hides every section about the
    participants, records all their figures as hidden."""
    import matplotlib.pyplot as plt

    records: dict[str, dict] = {}
    specs = sections_for("sponsor")
    before = set(plt.get_fignums())
    token = DRAWING.set(False)
    try:
        for c in cohorts:
            one = pilot.select(c)
            policy = PrivacyPolicy(k, active=True, record={})
            small = policy.small(len(one.pairs))
            collector = MetricsCollector(currency=params.currency, policy=policy)
            ctx = SectionContext(one, params, collector, "sponsor", as_of)
            if small:
                policy.hidden_ids = _EVERYTHING
            compute_sections(ctx, [s for s in specs if s.participants or not small])
            records[c] = policy.record or {}
            for num in set(plt.get_fignums()) - before:  # figures drawn outside the helpers
                plt.close(num)
    finally:
        DRAWING.reset(token)
    return records


class _Everything(frozenset):
    """A set that contains every figure id (a small cohort's report hides them all)."""

    def __contains__(self, item: object) -> bool:
        return True


_EVERYTHING = _Everything()


class Report:
    """All sections of one audience computed on one pilot, ready to display in a notebook.

    For the sponsor audience the report's privacy policy
    (:class:`~rm_analytics.report.privacy.PrivacyPolicy`) is applied before any section runs:
    survey waves count once closed, a pooled report leaves out a lone cohort of fewer than
    ``min_cell_size`` pairs and hides the figures its cohorts' own reports could be
    subtracted from; then each section hides what the policy says.
    """

    def __init__(self, audience: str, pilot, params: ReportParameters, as_of: pd.Timestamp):
        if audience not in AUDIENCES:
            raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
        params.check()  # e.g. the sponsor's minimum group size cannot go below 5
        self.audience = audience
        self.source_pilot = pilot
        self.params = params
        self.as_of = as_of
        policy = PrivacyPolicy.for_audience(audience, params.min_cell_size)
        if policy.active:
            pilot, policy.held_back = release_waves(pilot, as_of, params.survey_window_days)
            kept, left = small_cohorts(pilot, policy.min_group)
            if left:
                pilot = pilot.select(kept)
                policy.left_out = tuple(left)
            if len(kept) > 1:
                records = cohort_records(pilot, params, as_of, kept, policy.min_group)
                policy.hidden_ids = frozenset(differencing_ids(records, policy.min_group))
        self.pilot = pilot
        self.policy = policy
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
            policy=policy,
        )
        if policy.left_out:
            self.metrics.report["left_out_cohorts"] = list(policy.left_out)
        self.results: dict[str, SectionResult] = {}
        self.specs = sections_for(audience)
        ctx = SectionContext(pilot, params, self.metrics, audience, as_of)
        self.ctx = ctx

        def done(spec: SectionSpec, res: SectionResult) -> None:
            self.results[spec.key] = res
            self.metrics.section_status(spec.key, res.status, res.reason, spec.title)
            self.metrics.sections[spec.key]["figures"] = [c for c, _ in res.figures]
            self.metrics.sections[spec.key]["figure_axes"] = list(res.figure_axes)

        compute_sections(ctx, self.specs, done)
        self.metrics.sentences = self._sentences()
        self.metrics.recommendation = self._recommendation()
        self._label_supporting_synthesis()

    def _label_supporting_synthesis(self) -> None:
        """The evidence across cohorts is a supporting analysis: say so, and reconcile its
        decision plan with the recommendation when the plan says to keep going but no
        realistic program can settle retention (rule 7)."""
        syn = self.results.get("synthesis")
        if syn is None or syn.status != "ok":
            return
        syn.text.insert(
            0,
            "A supporting analysis: the headline figures and the recommendation on the first "
            "page follow the pre-declared retention figure and the recommendation rules; this "
            "part looks at the cohorts one by one.",
        )
        plan = self.metrics.get("sequential_evidence")
        rec = self.metrics.recommendation or {}
        if plan is not None and plan.note == "keep going" and rec.get("rule") == 7:
            syn.text.append(
                "The decision plan's next look needs another cohort, but its remaining looks "
                "assume cohorts that add as much evidence as the past ones: with this few "
                "leavers they are unlikely to settle retention (see what a decision on "
                "retention would need), which is why the recommendation rests on the other "
                "results."
            )

    def _sentences(self) -> dict[str, str]:
        """The first page's sentence per headline slot (a reason when not available)."""
        out = dict(self.ctx.sentences)
        for slot, key in (
            ("retention", "retention"),
            ("engagement", "engagement"),
            ("skills", "skills"),
            ("roi", "roi"),
        ):
            res = self.results.get(key)
            if slot not in out and res is not None and res.status != "ok":
                out[slot] = f"Not available: {res.reason}."
        return out

    def _recommendation(self) -> dict:
        """The recommendation from the headline retention metric (the primary estimand), power
        and the other headlines (rules in :mod:`rm_analytics.report.verdicts`)."""
        from .formatting import fmt_currency
        from .sections._common import feasibility

        heads = self.metrics.headlines()
        secondary = {
            slot: (Verdict(m.verdict, m.verdict_reason or "") if m.verdict else None)
            for slot, m in heads.items()
            if slot in ("engagement", "skills")
        }
        ret = self.results.get("retention")
        pr = self.ctx.cache.get("primary")
        m = heads.get("retention")
        if pr is not None:
            self.metrics.primary = estimand_dict(pr)
            if self.policy.active and (m is None or m.suppressed):  # the headline is hidden
                for key in ("estimate", "ci_low", "ci_high", "p_value", "verdict"):
                    self.metrics.primary[key] = None
        head = None
        if m is not None and m.estimate is not None and m.verdict:
            head = Verdict(m.verdict, m.verdict_reason or "")
        if pr is not None and pr.reason:
            reason = pr.reason
        elif ret is not None and ret.status != "ok":
            reason = ret.reason
        elif m is not None and m.suppressed:
            reason = f"fewer than {self.params.min_cell_size} people to compare"
        else:
            reason = ""
        feas = None
        if head is not None and "retention" in self.ctx.cache:
            try:
                feas = feasibility(self.ctx)
            except (InsufficientDataError, ValueError):
                feas = None
        roi = heads.get("roi")
        cost = self.metrics.get("program_cost")
        who = {"mentor": "the junior mentors", "mentee": "the senior mentees"}.get(
            self.params.primary_population, "the participants"
        )
        return recommendation(
            head,
            secondary=secondary,
            feasibility=feas,
            roi_low=None if roi is None else roi.ci_low,
            primary_name=f"retention of {who}",
            primary_reason=reason,
            cost=""
            if cost is None or cost.estimate is None
            else f"{fmt_currency(cost.estimate, self.params.currency)} so far",
        )

    @classmethod
    def build(
        cls, audience: str, parameters: Mapping[str, Any] | None = None, **overrides: Any
    ) -> Report:
        """Check parameters, load the pilot and compute every section of ``audience``.

        ``parameters`` is any mapping holding the report parameters by name, typically a
        notebook's ``globals()`` after its ``parameters`` cell (other names are ignored);
        ``overrides`` replace single values. The one list of parameters is
        :class:`~rm_analytics.report.parameters.ReportParameters`.
        """
        params = ReportParameters.from_mapping({**(parameters or {}), **overrides})
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
        """Page 1, the answer: four cards, the recommendation, one sentence per headline, the
        program in numbers."""
        heads = self.metrics.headlines()
        cards = []
        for slot, what in HEADLINES.items():
            m = heads.get(slot)
            if m is None:
                res = self.results.get(slot)
                why = res.reason if res is not None and res.reason else "not part of this report"
                cards.append(
                    f'<div class="rm-card rm-pending" data-slot="{slot}">'
                    f'<div class="rm-card-label">{html.escape(what)}</div>'
                    '<div class="rm-card-value">not available</div>'
                    f'<div class="rm-verdict">{html.escape(sentence(why))}</div></div>'
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
            f"{html.escape(sentence(str(rec.get('reason', ''))))}</p>"
        )
        names = {
            "retention": "Retention",
            "engagement": "Engagement",
            "skills": "Skills",
            "roi": "Return on investment",
        }
        said = self.metrics.sentences
        items = "".join(
            f"<li><strong>{names[slot]}.</strong> {html.escape(sentence(said[slot]))}</li>"
            for slot in names
            if said.get(slot)
        )
        findings = f'<ul class="rm-findings">{items}</ul>' if items else ""
        glance = [m for m in self.metrics.metrics.values() if m.section == "glance"]
        numbers = "; ".join(
            f"{html.escape(m.label.lower() if i else m.label)}: "
            f"<span data-metric-value='{m.key}'>{html.escape(m.display)}</span>"
            for i, m in enumerate(glance)
        )
        glance_html = (
            f'<p class="rm-glance"><strong>The program in numbers.</strong> {numbers}.</p>'
            if numbers
            else ""
        )
        return (
            '<section class="rm-exec" id="executive-summary"><h2>Executive summary</h2>'
            f'<div class="rm-cards">{"".join(cards)}</div>{rec_html}{findings}{glance_html}'
            '<p class="rm-small">The headline is retention, declared before the data were '
            "seen; engagement and skills are the other headline results. Figures are "
            "estimates with 95% intervals, the range of values compatible with the data. "
            "Verdict and recommendation rules are in the appendix.</p></section>"
        )

    def section_html(self, key: str) -> str:
        spec = next(s for s in self.specs if s.key == key)
        res = self.results[key]
        same = [s for s in self.specs if s.part == spec.part]
        heading = (
            ""  # one section under a part of the same name: the part's heading says it
            if len(same) == 1 and spec.title == PARTS[spec.part]
            else f"<h3>{html.escape(spec.title)}</h3>"
        )
        parts = [f'<section class="rm-section" id="section-{key}">{heading}']
        if res.status != "ok":
            word = "Not yet available" if res.status == "pending" else "Not available"
            parts.append(
                f'<p class="rm-unavailable">{word}: {html.escape(sentence(res.reason))}</p>'
            )
        parts += [f"<p>{html.escape(t)}</p>" for t in res.text]
        for caption, frame, note in res.tables:
            parts.append(table_html(frame, caption, note))
        parts += [h for _, h in res.figures]
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
            check_privacy(text, self.source_pilot)
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
        """Emit the metrics for the renderer (a hidden output; call once, at the end). A
        sponsor's metrics are scanned for identifiers and free text first."""
        if self.audience == "sponsor":
            check_privacy(strings_of(self.metrics.to_dict()), self.source_pilot)
        self.metrics.publish()


def _display_html(text: str) -> None:
    from IPython.display import HTML, display

    if text:
        display(HTML(text))
