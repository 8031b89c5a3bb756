"""The section registry: how the integrator adds a section, and what the report makes of it."""

from __future__ import annotations

import functools

import pandas as pd
import pytest

from rm_analytics.report import document as rs
from rm_analytics.report.privacy import PrivacyError
from rm_analytics.report.section import SectionResult, section


@pytest.fixture
def registry():
    """The list of sections, restored after a test adds or replaces sections."""
    saved = dict(rs.SECTIONS)
    yield rs.SECTIONS
    rs.SECTIONS.clear()
    rs.SECTIONS.update(saved)


def _add(registry, func):
    registry[func.spec.key] = func.spec
    return func


def _report(pilot, audience="sponsor"):
    params = rs.ReportParameters(data="unused")
    return rs.Report(audience, pilot, params, pd.Timestamp("2026-09-30"))


def test_a_new_section_replaces_its_placeholder_and_feeds_the_summary(registry, sample_pilot):
    for key in [k for k in registry if k not in ("glance", "retention")]:
        del registry[key]  # this test is about one section alone

    @functools.partial(_add, registry)
    @section("retention", title="Retention of mentors vs control", part="results", order=10)
    def retention(ctx):
        res = SectionResult()
        m = ctx.metrics.add(
            "mentor_retention_diff",
            0.12,
            0.05,
            0.19,
            label="Mentors retained vs control",
            unit="pp",
            n=72,
            headline="retention",
            better="higher",
            section="retention",
        )
        res.text.append(f"Mentors stayed more often: {m.display}, {m.verdict}.")
        return res

    rep = _report(sample_pilot)
    assert rep.metrics.sections["retention"]["status"] == "ok"
    summary = rep.executive_summary_html()
    assert 'data-metric-value="mentor_retention_diff">+12 pp (+5 pp to +19 pp)<' in summary
    assert "clear improvement" in summary
    # the headline improved, but no return on investment shows it pays back (rule 4)
    assert rep.metrics.recommendation["action"] == "continue"
    assert rep.metrics.recommendation["rule"] == 4
    assert "Mentors stayed more often: +12 pp (+5 pp to +19 pp), clear improvement." in (
        rep.part_html("results")
    )


def test_insufficient_data_reads_as_not_available(registry, sample_pilot):
    from rm_analytics.errors import InsufficientDataError

    @functools.partial(_add, registry)
    @section("promotion", title="Promotions", part="results", order=30)
    def promotion(ctx):
        raise InsufficientDataError("promotions need the outcomes table")

    rep = _report(sample_pilot)
    assert rep.metrics.sections["promotion"]["status"] == "unavailable"
    assert "Not available: Promotions need the outcomes table." in rep.part_html("results")


def test_a_leaking_sponsor_section_fails_the_report(registry, sample_pilot):
    @functools.partial(_add, registry)
    @section("benchmarks", title="Leak", part="appendix")
    def leak(ctx):
        res = SectionResult()
        res.add_table("pairs", ctx.pilot.pairs[["pair_id"]])
        return res

    rep = _report(sample_pilot)
    with pytest.raises(PrivacyError, match="pair id"):
        rep.show_part("appendix")
    # the program lead may see pair ids
    _report(sample_pilot, "program-lead")


def test_small_cells_hidden_for_sponsors_only(sample_pilot):
    small = sample_pilot.select("C01")
    params = rs.ReportParameters(data="unused", min_cell_size=13)
    rep = rs.Report("sponsor", small, params, pd.Timestamp("2026-09-30"))
    assert rep.metrics.metrics["mentors"].display == "hidden (fewer than 13 people)"
    assert rep.metrics.metrics["mentors"].estimate is None
    assert rep.metrics.metrics["mentors"].n is None
    table_html = rep.section_html("glance")
    # pairs, mentors, mentees and controls of C01 hidden together (one gives the others)
    assert table_html.count("<td>hidden</td>") == 4
    lead = rs.Report("program-lead", small, params, pd.Timestamp("2026-09-30"))
    assert lead.metrics.metrics["mentors"].display == "12"


def test_unknown_part_and_audience_are_rejected():
    with pytest.raises(ValueError, match="unknown part"):
        section("x", title="x", part="nowhere")
    with pytest.raises(ValueError, match="unknown audience"):
        section("x", title="x", part="results", audiences=("cfo",))
