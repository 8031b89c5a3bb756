"""End-to-end report rendering on the sample: papermill runs inside pytest.

Each notebook is executed once per session (module-scoped fixtures) and the assertions share
the result; the failure-path runs use tiny notebooks that fail in their first cells.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from rm_analytics.cli import run
from rm_analytics.report.collector import read_metrics
from rm_analytics.report.formatting import fmt_interval, fmt_value
from rm_analytics.report.privacy import ID_PATTERNS
from rm_analytics.report.runner import notebook_path, render

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sponsor(tmp_path_factory, sample_dir):
    out = tmp_path_factory.mktemp("sponsor")
    (rep,) = render(sample_dir, out, audience="sponsor", quiet=True)
    return rep


@pytest.fixture(scope="module")
def sponsor_html(sponsor) -> str:
    return sponsor.html.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sponsor_metrics(sponsor) -> dict:
    return read_metrics(sponsor.metrics)


@pytest.fixture(scope="module")
def program_lead(tmp_path_factory, sample_dir):
    out = tmp_path_factory.mktemp("lead")
    (rep,) = render(sample_dir, out, audience="program-lead", quiet=True)
    return rep


class _MetricValues(HTMLParser):
    """Collects the text of elements carrying ``data-metric-value``."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._key = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-metric-value" in a:
            self._key = a["data-metric-value"]
            self.values[self._key] = ""

    def handle_endtag(self, tag):
        self._key = None

    def handle_data(self, data):
        if self._key:
            self.values[self._key] += data


# -- the sponsor report ------------------------------------------------------------------------
def test_sponsor_outputs_written(sponsor):
    for p in (sponsor.html, sponsor.notebook, sponsor.metrics, sponsor.manifest):
        assert p.is_file() and p.stat().st_size > 0
    assert sponsor.name == "sponsor-report"
    assert not list(sponsor.html.parent.glob("*.tmp"))
    assert not list(sponsor.html.parent.glob(".*.tmp"))


def _body(html: str) -> str:
    """The page without its stylesheets."""
    return re.sub(r"<style.*?</style>", "", html, flags=re.S)


def test_sponsor_html_has_no_code_and_no_prompts(sponsor_html):
    body = _body(sponsor_html)
    assert not re.search(r'class="[^"]*jp-(InputArea|InputPrompt|OutputPrompt|CodeMirror)', body)
    assert "<pre" not in body
    for code in ("Report.build", "report.show", "publish_metrics", "import ", "min_cell_size ="):
        assert code not in body, code
    assert not re.search(r"(In|Out)\s*\[\d*\]", body)
    assert "Traceback" not in body


def test_sponsor_html_is_self_contained(sponsor_html):
    assert not re.search(r"<script[^>]*\bsrc=", sponsor_html)
    assert not re.search(r"<link[^>]*\bhref=", sponsor_html)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", sponsor_html)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", sponsor_html)
    assert "@import" not in sponsor_html
    assert "require.js" not in sponsor_html.lower() and "mathjax" not in sponsor_html.lower()
    assert "@media print" in sponsor_html


def test_sponsor_structure_executive_summary_first(sponsor_html, sponsor_metrics):
    title = "Reverse-mentoring pilot: evaluation report"
    assert f"<title>{title}</title>" in sponsor_html
    exec_at = sponsor_html.index('id="executive-summary"')
    for part in ("glance", "reaction", "learning", "behaviour", "results", "roi", "appendix"):
        assert sponsor_html.index(f'id="part-{part}"') > exec_at, part
    action = sponsor_metrics["recommendation"]["action"]
    assert action in (
        "scale",
        "continue",
        "reshape",
        "decide on the other results",
        "no recommendation yet",
    )
    assert f"Recommendation: {action}" in sponsor_html


def test_sponsor_every_figure_is_embedded(sponsor_html, sponsor_metrics):
    captions = [c for s in sponsor_metrics["sections"].values() for c in s.get("figures", [])]
    assert captions, "the sponsor report should have at least one figure"
    images = re.findall(r'<img[^>]*\bsrc="data:image/png;base64,([A-Za-z0-9+/=]+)"', sponsor_html)
    assert len(images) == len(captions)
    assert all(len(b) > 1000 for b in images)
    for caption in captions:
        assert f"<figcaption>{caption}</figcaption>" in sponsor_html


def test_executive_summary_numbers_equal_metrics_json(sponsor_html, sponsor_metrics):
    parser = _MetricValues()
    parser.feed(sponsor_html)
    shown = parser.values
    metrics = sponsor_metrics["metrics"]
    assert shown, "no figures marked in the executive summary"
    for key, text in shown.items():
        assert key in metrics, key
        assert text == metrics[key]["display"], key
    # every headline and "at a glance" figure is shown, and its text is its numbers
    wanted = [k for k, m in metrics.items() if m["headline"] or m["section"] == "glance"]
    assert wanted and set(wanted) <= set(shown)
    currency = sponsor_metrics["report"]["currency"]
    for key in wanted:
        m = metrics[key]
        if m["suppressed"]:
            continue
        if key == "roi_pct" and m["estimate"] is None:  # no ROI claimed on noise: the range
            lo, hi = (fmt_value(m[b], "percent") for b in ("ci_low", "ci_high"))
            expect = f"range {lo} to {hi}"
            assert m["verdict"] == "not demonstrated"
        elif m["ci_low"] is not None or m["better"]:
            expect = fmt_interval(
                m["estimate"], m["ci_low"], m["ci_high"], m["unit"], currency=currency
            )
        else:
            expect = fmt_value(m["estimate"], m["unit"], currency=currency)
        assert m["display"] == expect, key
    # the sample: 3 cohorts of 12 pairs (C03 still running); of the 24 pairs that ended, 23
    # completed and 1 withdrew (Wilson 80% to 99%)
    assert shown["pairs"] == "36"
    assert shown["cohorts"] == "3"
    assert shown["pairs_completed_share"] == "96% (80% to 99%)"


def test_every_headline_is_estimated_with_its_verdict(sponsor_html, sponsor_metrics):
    assert not [k for k, s in sponsor_metrics["sections"].items() if s["status"] == "pending"]
    heads = {m["headline"]: m for m in sponsor_metrics["metrics"].values() if m["headline"]}
    assert set(heads) == {"retention", "engagement", "skills", "roi"}
    for slot, m in heads.items():
        card = re.search(
            rf'<div class="rm-card"[^>]*data-slot="{slot}"[^>]*>(.*?)</div></div>',
            sponsor_html,
            re.S,
        )
        assert card, slot
        assert m["verdict"] and m["verdict"] in card.group(1), slot
        assert re.search(r"\d", m["display"]), slot  # a number with its interval, or the range
    # the sample's truth: engagement and skills improved, and the estimates say so
    assert heads["engagement"]["verdict"] == "clear improvement"
    assert heads["skills"]["verdict"] == "clear improvement"
    # the pooled report of two cohorts shows the trend across them
    assert sponsor_metrics["sections"]["cohort_trend"]["status"] == "ok"
    assert 'id="section-cohort_trend"' in sponsor_html


def test_sponsor_report_has_no_ids_and_no_free_text(sponsor, sponsor_html, sample_pilot):
    for name, pattern in ID_PATTERNS.items():
        assert not pattern.search(sponsor_html), name
        assert not pattern.search(sponsor.metrics.read_text()), name
    texts = set(sample_pilot.surveys.text.dropna().astype(str))
    texts |= set(sample_pilot.checkpoints.roadblocks.dropna().astype(str))
    texts |= set(sample_pilot.checkpoints.wins.dropna().astype(str))
    texts |= set(sample_pilot.pairs.goal.dropna().astype(str))
    assert texts
    leaked = [t for t in texts if t in sponsor_html]
    assert not leaked
    assert "CONFIDENTIAL" not in sponsor_html


def test_metrics_json_schema_and_manifest(sponsor, sponsor_metrics, sample_dir):
    assert sponsor_metrics["schema"] == "rm-analytics/metrics"
    assert sponsor_metrics["report"]["as_of"] == "2026-09-30"  # latest date in the sample
    assert sponsor_metrics["report"]["cohort"] == "all"
    text = sponsor.metrics.read_text()
    assert "2026-11" not in text and "T0" not in text  # no run timestamps
    man = json.loads(sponsor.manifest.read_text())
    assert man["status"] == "ok"
    assert man["parameters"]["as_of"] == "2026-09-30"
    files = man["inputs"]["files"]
    expected = hashlib.sha256((sample_dir / "pairs.csv").read_bytes()).hexdigest()
    assert files["pairs.csv"]["sha256"] == expected
    assert set(files) >= {"employees.csv", "cohorts.csv", "pairs.csv", "surveys.csv"}
    assert man["versions"]["pandas"] and man["versions"]["papermill"]
    assert man["kernel"]["python"]
    assert (
        man["timings"]["execute_s"] > 0 and man["timings"]["total_s"] >= man["timings"]["execute_s"]
    )


def test_executed_notebook_ran_on_this_interpreter(sponsor):
    import sys

    nb = nbformat.read(str(sponsor.notebook), as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert 'cohort = "all"' in injected[0].source
    man = json.loads(sponsor.manifest.read_text())
    assert man["kernel"]["python"] == sys.executable


# -- program lead (exploration: tests/test_notebooks.py) -------------------------------------------
def test_program_lead_view_is_confidential_and_pair_level(program_lead, sample_pilot):
    html = program_lead.html.read_text()
    assert "CONFIDENTIAL" in html
    assert not re.search(r'class="[^"]*jp-InputArea', _body(html))
    assert ID_PATTERNS["pair id"].search(html)  # pair-level on purpose
    some_comment = sample_pilot.surveys.text.dropna().astype(str).iloc[0]
    assert some_comment in html
    assert 'id="part-pairs"' in html
    assert program_lead.name == "program-lead-report"


# -- command line: determinism, quiet, per-cohort reports ------------------------------------------
def test_cli_same_inputs_same_metrics_and_quiet(tmp_path, sample_dir, sponsor, capsys):
    code = run(["report", "--data", str(sample_dir), "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out == "" and out.err == ""
    assert (tmp_path / "sponsor-report.metrics.json").read_bytes() == sponsor.metrics.read_bytes()


def test_cohort_each_in_parallel(tmp_path, sample_dir):
    from rm_analytics.report.pdf import find_chromium

    pdf = find_chromium() is not None  # the PDF path itself is covered by the Chromium test
    formats = ("html", "pdf") if pdf else ("html",)
    reps = render(sample_dir, tmp_path, cohort="each", jobs=2, quiet=True, formats=formats)
    cohorts = ("C01", "C02", "C03")  # C03 is still running at the sample's as-of date
    assert [r.name for r in reps] == [f"sponsor-report-{c}" for c in cohorts]
    if pdf:
        assert all(r.pdf.read_bytes().startswith(b"%PDF") for r in reps)
    for r, cohort in zip(reps, cohorts, strict=True):
        m = read_metrics(r.metrics)
        assert m["report"]["cohort"] == cohort
        assert m["report"]["cohorts"] == [cohort]
        assert m["metrics"]["pairs"]["estimate"] == 12
        assert r.html.is_file()


# -- failure paths that execute ---------------------------------------------------------------------
def _notebooks_with(tmp_path: Path, cell_source: str) -> Path:
    """A copy of the notebooks folder whose sponsor notebook runs ``cell_source`` first."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.read(str(notebook_path("sponsor")), as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(cell_source))
    nbformat.write(nb, str(folder / "sponsor_report.ipynb"))
    return folder


def test_failing_cell_exits_1_and_keeps_the_last_good_report(
    tmp_path, sample_dir, sponsor, monkeypatch, capsys
):
    out = tmp_path / "out"
    shutil.copytree(sponsor.html.parent, out, symlinks=True)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    store = sorted(str(p.relative_to(out)) for p in (out / ".rm-analytics").rglob("*"))
    cell = "x = 1\n\nx / 0  # the second statement fails"
    monkeypatch.setenv("RM_ANALYTICS_NOTEBOOKS", str(_notebooks_with(tmp_path, cell)))
    code = run(["report", "--data", str(sample_dir), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    # the message names the line that failed, not the cell's first line
    assert re.search(
        r"cell \d+ \(execution count \d+\), line 3: x / 0  # the second statement fails "
        r"failed with ZeroDivisionError",
        err,
    ), err
    failed = out / "sponsor-report.failed.ipynb"
    assert failed.is_file()
    assert "ZeroDivisionError" in failed.read_text()
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p != failed}
    assert after == before  # the last good report is untouched
    # no stray staging folder or version: the store is as it was
    assert sorted(str(p.relative_to(out)) for p in (out / ".rm-analytics").rglob("*")) == store


def test_cell_timeout_exits_1(tmp_path, sample_dir, monkeypatch, capsys):
    monkeypatch.setenv(
        "RM_ANALYTICS_NOTEBOOKS", str(_notebooks_with(tmp_path, "import time\ntime.sleep(60)"))
    )
    out = tmp_path / "out"
    code = run(
        ["report", "--data", str(sample_dir), "--out", str(out), "--quiet", "--timeout", "3"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "timed out" in err.lower() or "timeout" in err.lower()
    assert not (out / "sponsor-report.html").exists()


# -- a real browser ----------------------------------------------------------------------------------
def test_report_renders_in_headless_chromium(sponsor, tmp_path):
    from rm_analytics.report.pdf import dump_dom, find_chromium, html_to_pdf

    if find_chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no Chromium is installed (.ci/run installs it)")
        pytest.skip("no Chromium installed (the test runs, and must pass, under CI=true)")
    dom = dump_dom(sponsor.html)
    assert "Reverse-mentoring pilot: evaluation report" in dom
    assert 'id="executive-summary"' in dom
    pdf = html_to_pdf(sponsor.html, tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000
