"""Valid data that allow only part of the sponsor report: the section that needs what is
missing says why it is not available, and the rest of the report renders (these pilots used
to fail the whole report with exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import copy_pilot


def _small_pilot(tmp_path: Path, sample_dir: Path, case: str) -> tuple[Path, dict]:
    data = tmp_path / case
    if case == "one_pair":
        from rm_analytics.data.synthetic import generate

        gen = generate(
            n_employees=300,
            n_cohorts=1,
            pairs_per_cohort=1,
            unsafe_pairs=0,
            stalled_pairs=0,
            conflict_pairs=0,
        )
        gen.write(data)
        return data, {"today": gen.params.as_of}
    if case == "blank_salaries":
        copy_pilot(sample_dir, data, blank={"employees": ["annual_salary"]})
    elif case == "no_engagement_survey":
        copy_pilot(sample_dir, data, keep_rows={"surveys": lambda df: df.survey != "engagement"})
    else:
        copy_pilot(sample_dir, data)
    if case == "as_of_before_first_cohort":
        return data, {"today": "2026-09-30", "as_of": "2024-11-23"}  # C01 starts 2024-12-23
    return data, {"today": "2026-09-30"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "unavailable", "reason"),
    [
        ("one_pair", "engagement", "fewer than 5 pairs"),
        ("blank_salaries", "roi", "annual_salary is blank"),
        ("no_engagement_survey", "engagement", "no answers to items eng1"),
        ("as_of_before_first_cohort", "retention", "no cohort had started by"),
    ],
)
def test_not_enough_data_loses_one_section_not_the_report(
    tmp_path, sample_dir, case, unavailable, reason
):
    """Each of these pilots failed the whole sponsor report (exit 1); the section that needs
    what is missing now says why it is not available and the rest renders."""
    from rm_analytics.report import render

    data, kw = _small_pilot(tmp_path, sample_dir, case)
    (rep,) = render(data, tmp_path / "out", quiet=True, **kw)
    m = json.loads(rep.metrics.read_text())
    status = {k: s["status"] for k, s in m["sections"].items()}
    assert status[unavailable] == "unavailable"
    assert reason in m["sections"][unavailable]["reason"]
    html = rep.html.read_text()
    section = html[html.index(f'id="section-{unavailable}"') :]
    assert "Not available" in section[: section.index("</section>")]
    if case == "as_of_before_first_cohort":
        # the report is the data as they stood then: nothing had happened yet anywhere
        for key in ("reaction", "skills", "goals"):
            assert status[key] == "unavailable", (key, m["sections"][key])
        return
    if case == "one_pair":
        # a sponsor report about one pair shows no figure about it (privacy), but renders
        for key in ("reaction", "skills", "goals", "retention", "roi", "power"):
            assert status[key] == "unavailable", (key, m["sections"][key])
            assert "fewer than 5 pairs" in m["sections"][key]["reason"]
        assert status["glance"] == "ok" and "<img" not in html
        # the power solver failed on one pair; now it says what it can (the section as the
        # program's analysts would compute it, without the sponsor's privacy policy)
        _power_without_privacy(data, kw["today"])
        return
    # the rest of the report is there: the reaction, learning and goals parts are computed
    for key in ("reaction", "skills", "goals"):
        assert status[key] == "ok", (key, m["sections"][key])


@pytest.mark.slow
def test_the_lead_view_before_the_first_cohort_says_nothing_has_started(tmp_path, sample_dir):
    """The program lead's view at a date before the first cohort failed the whole report
    (exit 1, a KeyError in the funnel); every section that needs a started cohort or pair
    now says so, and the view renders."""
    from rm_analytics.report import render

    data, kw = _small_pilot(tmp_path, sample_dir, "as_of_before_first_cohort")
    (rep,) = render(data, tmp_path / "out", audience="program-lead", quiet=True, **kw)
    m = json.loads(rep.metrics.read_text())
    for key, reason in (
        ("funnel", "no cohort had started by 23 November 2024"),
        ("glance", "no cohort had started by 23 November 2024"),
        ("pair_list", "no pair had started by 23 November 2024"),
    ):
        assert m["sections"][key]["status"] == "unavailable", (key, m["sections"][key])
        assert m["sections"][key]["reason"].lower() == reason.lower()
    assert m["pairs"] == []
    text = " ".join(rep.html.read_text().split())
    assert "No pair is running on 2024-11-23: there is nothing to do this week." in text
    assert "are history" not in text


def _power_without_privacy(data, today: str) -> None:
    import pandas as pd

    from rm_analytics import load_pilot
    from rm_analytics.report.collector import MetricsCollector
    from rm_analytics.report.parameters import ReportParameters
    from rm_analytics.report.section import SectionContext
    from rm_analytics.report.sections.value import power_section

    pilot = load_pilot(data, today=today)
    day = pilot.snapshot_date()
    ctx = SectionContext(
        pilot.as_of(day),
        ReportParameters(data=str(data)),
        MetricsCollector(min_cell_size=None),
        "sponsor",
        pd.Timestamp(day),
    )
    res = power_section(ctx)
    assert "could not reliably detect" in " ".join(" ".join(res.text).split())
