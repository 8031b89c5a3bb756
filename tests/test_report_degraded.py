"""Every pilot renders: each optional table removed, the feedback survey removed, and the
minimal pilot (employees, cohorts, pairs). The sections that need what is missing say
"Not available: <reason>", metrics.json marks them unavailable, the rest renders, and the
page stays in plain language.
"""

from __future__ import annotations

import re

import pytest
from builders import copy_pilot
from test_sponsor_report import visible_text

from rm_analytics.cli import run
from rm_analytics.report.collector import read_metrics
from rm_analytics.report.language import sponsor_text_problems

pytestmark = pytest.mark.slow

OPTIONAL = ("control", "sessions", "surveys", "skills", "checkpoints", "outcomes")

#: case -> (tables removed, or "feedback"; sections that must read "not available")
CASES = {
    "no-control": (["control"], set()),
    "no-sessions": (["sessions"], {"delivery_summary"}),
    "no-surveys": (["surveys"], {"reaction", "safety_summary", "engagement"}),
    "no-skills": (["skills"], {"skills"}),
    "no-checkpoints": (["checkpoints"], {"goals"}),
    "no-outcomes": (["outcomes"], {"promotion"}),
    "no-feedback": ("feedback", {"reaction"}),
    "minimal": (
        list(OPTIONAL),
        {
            "reaction",
            "skills",
            "delivery_summary",
            "safety_summary",
            "goals",
            "engagement",
            "promotion",
        },
    ),
}


def _degrade(sample_dir, folder, drop):
    if drop == "feedback":
        return copy_pilot(
            sample_dir, folder, keep_rows={"surveys": lambda s: s.survey != "feedback"}
        )
    return copy_pilot(sample_dir, folder, drop=drop)


@pytest.mark.parametrize("case", list(CASES))
def test_a_degraded_pilot_renders_and_says_what_is_not_available(
    case, sample_dir, tmp_path, capsys
):
    drop, unavailable = CASES[case]
    data = _degrade(sample_dir, tmp_path / "data", drop)
    out = tmp_path / "out"
    code = run(["report", "--data", str(data), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    metrics = read_metrics(out / "sponsor-report.metrics.json")
    page = (out / "sponsor-report.html").read_text(encoding="utf-8")
    status = {k: s["status"] for k, s in metrics["sections"].items()}
    assert {k for k, v in status.items() if v == "unavailable"} == unavailable
    for key in unavailable:
        reason = metrics["sections"][key]["reason"]
        assert reason
        section = page.split(f'id="section-{key}"', 1)[1].split("</section>", 1)[0]
        assert re.search(r'class="rm-unavailable">Not available: [A-Z]', section), key
        assert "Traceback" not in section
    # the retention headline and the recommendation never depend on an optional table
    assert status["retention"] == "ok" and status["roi"] == "ok"
    assert metrics["recommendation"]["action"]
    # a missing headline shows on page 1 with its reason, never as a number
    heads = {m["headline"] for m in metrics["metrics"].values() if m["headline"]}
    for slot in {"engagement", "skills"} - heads:
        card = re.search(rf'data-slot="{slot}">(.*?)</div></div>', page, re.S).group(1)
        assert "not available" in card
        assert metrics["summary_sentences"][slot].startswith("Not available:")
    body, appendix = page.split('id="part-appendix"', 1)
    assert sponsor_text_problems(visible_text(body)) == []
    assert sponsor_text_problems(visible_text(appendix), appendix=True) == []
    if case == "no-control":  # the control group is matched from the eligible employees
        assert "matched to the participants" in appendix
