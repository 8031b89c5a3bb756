"""Formatting, verdicts, suppression, the metrics collector, parameters and the plot theme."""

from __future__ import annotations

import json
import math

import nbformat
import numpy as np
import pandas as pd
import pytest

from rm_analytics.report.collector import MetricsCollector, read_metrics
from rm_analytics.report.formatting import fmt_currency, fmt_interval, fmt_pct, fmt_pp
from rm_analytics.report.parameters import (
    NotebookParameter,
    ReportParameterError,
    check_parameters,
    notebook_parameters,
    parse_assignments,
)
from rm_analytics.report.privacy import find_identifiers, suppress_small
from rm_analytics.report.verdicts import RECOMMENDATION_RULES, Feasibility, recommendation, verdict

MINUS = "\u2212"


# -- formatting -------------------------------------------------------------------------------
def test_interval_formats():
    assert fmt_interval(0.12, 0.05, 0.19, "share") == "12% (5% to 19%)"
    assert fmt_interval(0.05, -0.02, 0.12, "pp") == f"+5 pp ({MINUS}2 pp to +12 pp)"
    assert fmt_interval(0.71, 0.42, 1.2, "ratio") == "0.71 (0.42 to 1.20)"
    assert fmt_interval(12345.4, 1000, 25000, "currency", currency="EUR") == (
        "\u20ac12,345 (\u20ac1,000 to \u20ac25,000)"
    )
    assert fmt_interval(0.3, None, None, "points") == "+0.30 (no interval)"
    assert fmt_interval(float("nan"), 0.1, 0.2, "share") == "not estimable"


def test_value_formats():
    assert fmt_pct(0.004) == "0%"
    assert fmt_pct(-0.004) == "0%"  # no "-0%"
    assert fmt_pct(0.123, 1) == "12.3%"
    assert fmt_pp(-0.031) == f"{MINUS}3 pp"
    assert fmt_currency(-2_500_000, "USD") == f"{MINUS}$2.5m"
    assert fmt_currency(1200, "CHF") == "1,200 CHF"


# -- verdicts ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("est", "lo", "hi", "kwargs", "label"),
    [
        (0.12, 0.05, 0.19, {}, "clear improvement"),
        (-0.12, -0.19, -0.05, {}, "clear deterioration"),
        # z = 0.06 / (0.14 / 3.92) = 1.68 >= 1.28: suggestive
        (0.06, -0.01, 0.13, {}, "suggestive improvement"),
        # z = 0.02 / (0.24 / 3.92) = 0.33: not enough evidence
        (0.02, -0.10, 0.14, {}, "not enough evidence yet"),
        (float("nan"), None, None, {}, "not enough evidence yet"),
        (0.1, None, None, {}, "not enough evidence yet"),
        # hazard ratio of leaving: lower is better, log scale, null 1
        (0.5, 0.3, 0.83, {"better": "lower", "null": 1.0, "scale": "log"}, "clear improvement"),
        (
            0.6,
            0.33,
            1.09,
            {"better": "lower", "null": 1.0, "scale": "log"},
            "suggestive improvement",
        ),
        (
            0.9,
            0.4,
            2.0,
            {"better": "lower", "null": 1.0, "scale": "log"},
            "not enough evidence yet",
        ),
        (1.8, 1.1, 2.9, {"better": "lower", "null": 1.0, "scale": "log"}, "clear deterioration"),
        (0.01, -0.02, 0.04, {"margin": 0.05}, "no meaningful difference"),
    ],
)
def test_verdict_rules(est, lo, hi, kwargs, label):
    assert verdict(est, lo, hi, **kwargs).label == label


def test_verdict_boundary_is_the_80_percent_interval():
    se = 0.1
    lo_z, hi_z = 1.2816 - 1e-3, 1.2816 + 1e-3
    below = verdict(lo_z * se, lo_z * se - 1.96 * se, lo_z * se + 1.96 * se)
    above = verdict(hi_z * se, hi_z * se - 1.96 * se, hi_z * se + 1.96 * se)
    assert below.label == "not enough evidence yet"
    assert above.label == "suggestive improvement"


def test_recommendation_rules():
    """Each rule of the table, and that the first rule that applies decides."""
    can = Feasibility(30, 3, 120, 10, 12)
    cannot = Feasibility(1880, 157, 120, 10, 12)
    good, bad = "clear improvement", "clear deterioration"

    def rule(head, **kw):
        out = recommendation(head, **kw)
        assert out["reason"]
        return out["rule"], out["action"]

    # 1: no headline, whatever else is known
    assert rule(None, secondary={"skills": good}) == (1, "no recommendation yet")
    assert "from 1 May" in recommendation(None, primary_reason="from 1 May")["reason"]
    # 2: a clear deterioration anywhere
    assert rule(good, secondary={"engagement": bad}) == (2, "reshape")
    assert rule(bad) == (2, "reshape")
    # 3 and 4: the headline improved; scale only when the cautious return pays back
    assert rule(good, roi_low=5.0) == (3, "scale")
    assert rule(good, roi_low=-20.0) == (4, "continue")
    assert rule(good, roi_low=5.0, secondary={"skills": "suggestive deterioration"}) == (
        4,
        "continue",
    )
    # 5: suggestive deterioration of an inconclusive headline or another result
    assert rule("suggestive deterioration") == (5, "reshape")
    assert rule("not enough evidence yet", secondary={"skills": "suggestive deterioration"}) == (
        5,
        "reshape",
    )
    # 6 and 7: inconclusive headline; power decides what to do next
    assert rule("not enough evidence yet", feasibility=can) == (6, "continue")
    assert rule("suggestive improvement", feasibility=None) == (6, "continue")
    out = recommendation(
        "not enough evidence yet",
        feasibility=cannot,
        secondary={"skills": good, "engagement": good},
        cost="€42,419",
    )
    assert (out["rule"], out["action"]) == (7, "decide on the other results")
    assert "1,880 pairs" in out["reason"] and "157 cohorts" in out["reason"]
    assert "engagement (clear improvement) and skills (clear improvement)" in out["reason"]
    assert "run the next" not in out["reason"]
    # the table the appendix prints has one row per rule, in order
    assert [r[0] for r in RECOMMENDATION_RULES] == [str(i) for i in range(1, 8)]


# -- suppression and identifiers ----------------------------------------------------------------
def test_suppress_small_hides_counts_and_dependents():
    df = pd.DataFrame({"group": ["a", "b", "c"], "n": [12, 3, 0], "rate": [0.5, 0.33, np.nan]})
    out = suppress_small(df, "n", 5, dependent=["rate"])
    assert out.n.tolist() == [12, "hidden", 0]
    assert out.rate.iloc[1] == "hidden"
    assert out.rate.iloc[0] == 0.5
    assert df.n.tolist() == [12, 3, 0]  # input untouched
    with pytest.raises(KeyError, match="nope"):
        suppress_small(df, "nope")


def test_find_identifiers():
    assert find_identifiers("E000123 met C01-P07; E12345 is not an id") == ["E000123", "C01-P07"]


# -- metrics collector -------------------------------------------------------------------------
def test_collector_suppresses_small_cells_and_writes_stable_json(tmp_path):
    def build():
        m = MetricsCollector(report={"cohort": "all", "as_of": "2026-09-30"}, min_cell_size=5)
        m.add("leavers", 3, label="Leavers", unit="people")
        m.add("mentors", 24, label="Mentors", unit="people")
        m.add("rate_small", 0.5, 0.1, 0.9, label="Rate", unit="share", n=4)
        m.add(
            "retention",
            0.08,
            0.02,
            0.14,
            label="Retention",
            unit="pp",
            n=48,
            better="higher",
            headline="retention",
        )
        m.add("nan_metric", float("nan"), label="Nothing", unit="number", better="higher")
        return m

    m = build()
    d = m.to_dict()
    assert d["metrics"]["leavers"]["estimate"] is None
    assert d["metrics"]["leavers"]["suppressed"] is True
    assert d["metrics"]["leavers"]["display"] == "hidden (fewer than 5 people)"
    assert d["metrics"]["leavers"]["n"] is None
    assert d["metrics"]["rate_small"]["ci_low"] is None
    assert d["metrics"]["rate_small"]["n"] is None  # a hidden figure carries no n
    assert d["metrics"]["mentors"]["display"] == "24"
    assert d["metrics"]["retention"]["display"] == "+8 pp (+2 pp to +14 pp)"
    assert d["metrics"]["retention"]["verdict"] == "clear improvement"
    assert d["metrics"]["nan_metric"]["estimate"] is None
    assert d["metrics"]["nan_metric"]["verdict"] == "not enough evidence yet"
    assert m.headlines()["retention"].key == "retention"
    # stable bytes, valid JSON without NaN, schema checked on read
    assert build().to_json() == m.to_json()
    path = m.write(tmp_path / "x.metrics.json")
    assert read_metrics(path)["schema_version"] == "1.2"
    assert "NaN" not in path.read_text()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "other"}))
    with pytest.raises(ValueError, match="not an rm-analytics metrics file"):
        read_metrics(bad)


def test_collector_rejects_bad_keys_and_units():
    m = MetricsCollector()
    with pytest.raises(ValueError, match="snake_case"):
        m.add("Bad Key", 1, label="x")
    with pytest.raises(ValueError, match="unknown unit"):
        m.add("x", 1, label="x", unit="furlongs")


# -- parameters --------------------------------------------------------------------------------
DECLARED = {
    "currency": NotebookParameter("currency", "EUR", "str"),
    "min_cell_size": NotebookParameter("min_cell_size", 5, "int"),
    "replacement_cost_share": NotebookParameter("replacement_cost_share", 0.21, "float"),
    "flag": NotebookParameter("flag", False, "bool"),
}


def test_check_parameters_types_and_names():
    ok = check_parameters(
        DECLARED,
        {"min_cell_size": "10", "replacement_cost_share": "0.3", "flag": "yes"},
        from_text=True,
    )
    assert ok == {"min_cell_size": 10, "replacement_cost_share": 0.3, "flag": True}
    assert check_parameters(DECLARED, {"replacement_cost_share": 1}) == {
        "replacement_cost_share": 1.0
    }
    with pytest.raises(ReportParameterError, match="unknown parameter colour"):
        check_parameters(DECLARED, {"colour": "red"})
    with pytest.raises(ReportParameterError, match="min_cell_size expects a whole number"):
        check_parameters(DECLARED, {"min_cell_size": "five"}, from_text=True)
    with pytest.raises(ReportParameterError, match="min_cell_size expects int"):
        check_parameters(DECLARED, {"min_cell_size": "5"})  # API: no silent conversion
    with pytest.raises(ReportParameterError, match="min_cell_size expects int"):
        check_parameters(DECLARED, {"min_cell_size": True})
    with pytest.raises(ReportParameterError, match="three-letter currency"):
        check_parameters(DECLARED, {"currency": "euro"})
    with pytest.raises(ReportParameterError, match="replacement_cost_share"):
        check_parameters(DECLARED, {"replacement_cost_share": -1.0})
    assert parse_assignments(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(ReportParameterError, match="name=value"):
        parse_assignments(["novalue"])


def test_parameters_cell_must_hold_literals(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import os\nx = os.getcwd()", metadata={"tags": ["parameters"]})
    ]
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, str(path))
    with pytest.raises(ReportParameterError, match="plain"):
        notebook_parameters(path)
    nb.cells = [
        nbformat.v4.new_code_cell(
            "a = 1  # one\nb: str = 'x'\nc = [1, 2]", metadata={"tags": ["parameters"]}
        )
    ]
    nbformat.write(nb, str(path))
    got = notebook_parameters(path)
    assert {k: (v.default, v.type) for k, v in got.items()} == {
        "a": (1, "int"),
        "b": ("x", "str"),
        "c": ([1, 2], "list"),
    }


# -- theme -------------------------------------------------------------------------------------
def test_theme_figures_need_titles_and_labels():
    from rm_analytics.plotting import theme

    fig, ax = theme.figure()
    ax.plot([0, 1], [0, 1])
    with pytest.raises(ValueError, match="no title"):
        theme.figure_html(fig, "caption")
    theme.label(ax, title="T", x="months since start", y="share retained (%)")
    html = theme.figure_html(fig, "Figure 1. A line.")
    assert html.startswith('<figure class="rm-figure"><img src="data:image/png;base64,')
    assert "<figcaption>Figure 1. A line.</figcaption>" in html
    # the palette is Okabe-Ito, participants blue, control orange
    assert theme.GROUP_COLOURS["control"] == "#E69F00"
    assert theme.GROUP_COLOURS["participants"] == "#0072B2"
    assert math.isclose(len(set(theme.PALETTE)), 8)


# -- the sponsor privacy net ----------------------------------------------------------------------
def test_privacy_net_stops_ids_and_free_text(sample_pilot):
    from rm_analytics.report.privacy import PrivacyError, check_privacy

    check_privacy("<p>24 pairs, 48 people in the control group (C01, C02).</p>", sample_pilot)
    emp = sample_pilot.employees.employee_id.iloc[0]
    with pytest.raises(PrivacyError, match="employee id") as err:
        check_privacy(f"<td>{emp}</td>", sample_pilot)
    assert emp not in str(err.value)  # the message never repeats the value
    pair = sample_pilot.pairs.pair_id.iloc[3]
    with pytest.raises(PrivacyError, match="pair id"):
        check_privacy(f"<li>pair {pair} is stalled</li>", sample_pilot)
    goal = sample_pilot.pairs.goal.dropna().iloc[0]
    with pytest.raises(PrivacyError, match="free-text"):
        check_privacy(f"<p>{goal.replace(' ', '  ')}</p>", sample_pilot)


def test_suggestive_reads_the_methods_own_p_value():
    """An asymmetric interval (MOVER, exact, Satterthwaite t): the standard error taken from the
    95% interval as if it were symmetric would call p = 0.30 suggestive; with the method's own
    p-value the verdict follows the method, and agrees with its 80% interval."""
    est, lo, hi = 0.08, -0.02, 0.11  # skewed: 1.96 * (hi - lo) / 2 / 1.96 = 0.033, z = 2.4
    assert verdict(est, lo, hi).label == "suggestive improvement"
    assert verdict(est, lo, hi, p_value=0.30).label == "not enough evidence yet"
    assert verdict(est, lo, hi, p_value=0.12).label == "suggestive improvement"
    assert verdict(-est, -hi, -lo, p_value=0.12).label == "suggestive deterioration"
    # a clear result stays clear whatever p-value comes with it (the interval decides)
    assert verdict(0.1, 0.02, 0.2, p_value=0.01).label == "clear improvement"
    # the caller can say why there is no interval
    v = verdict(0.1, None, None, no_interval="too few groups with participants")
    assert (v.label, v.reason) == ("not enough evidence yet", "too few groups with participants")


def test_collector_keeps_the_p_value_and_hides_it_with_a_small_cell():
    c = MetricsCollector(min_cell_size=5)
    m = c.add("x", 0.08, -0.02, 0.11, label="x", unit="pp", n=40, better="higher", p_value=0.3)
    assert (m.p_value, m.verdict) == (0.3, "not enough evidence yet")
    h = c.add("y", 0.08, -0.02, 0.11, label="y", unit="pp", n=3, better="higher", p_value=0.3)
    assert h.p_value is None and h.suppressed
    assert c.to_dict()["metrics"]["x"]["p_value"] == 0.3
