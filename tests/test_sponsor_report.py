"""The sponsor report of the sample as its reader gets it: the PDF's pages and text."""

from __future__ import annotations

import os

import pytest
from _pdf import page_sizes, page_texts, word_boxes

from rm_analytics.report.pdf import find_chromium
from rm_analytics.report.runner import render

pytestmark = pytest.mark.slow

A4 = (595.0, 842.0)  # points
MARGIN_X = 14 / 25.4 * 72  # the stylesheet's left and right page margins (14 mm)


def _need_chromium():
    if find_chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no Chromium is installed (.ci/run installs it)")
        pytest.skip("no Chromium installed (the test runs, and must pass, under CI=true)")


@pytest.fixture(scope="module")
def sponsor_pdf(tmp_path_factory, sample_dir):
    _need_chromium()
    out = tmp_path_factory.mktemp("sponsor-pdf")
    (rep,) = render(sample_dir, out, audience="sponsor", formats=("html", "pdf"), quiet=True)
    return rep


@pytest.fixture(scope="module")
def pages(sponsor_pdf) -> list[str]:
    return page_texts(sponsor_pdf.pdf)


def test_the_pdf_is_the_rendered_page_not_its_source(sponsor_pdf, pages):
    text = "\n".join(pages)
    for markup in ("<!DOCTYPE", "<html", "<div", "</", "class=", "{", "base64"):
        assert markup not in text, markup
    assert "Executive summary" in pages[0]
    assert "Recommendation" in pages[0]


def test_pdf_pages_are_a4_and_nothing_runs_off_the_page(sponsor_pdf):
    for w, h in page_sizes(sponsor_pdf.pdf):
        assert abs(w - A4[0]) < 2 and abs(h - A4[1]) < 2
    boxes = word_boxes(sponsor_pdf.pdf)
    if boxes is None:
        pytest.skip("poppler's pdftotext is not installed")
    outside = [(p, w) for p, x0, x1, w in boxes if x0 < MARGIN_X - 2 or x1 > A4[0] - MARGIN_X + 2]
    assert not outside, outside[:10]
