"""Feedback form: ratings, recommend share, text counts; text never in aggregates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rm_analytics.metrics.reaction import feedback_summary, feedback_text, pilot_reaction
from rm_analytics.stats.intervals import mean_ci, wilson_ci


def _form(n=8):
    rows = []
    for i in range(n):
        base = {
            "respondent_id": f"E{i}",
            "survey": "feedback",
            "wave": "endpoint",
            "pair_id": f"P{i // 2}",
        }
        rows += [
            {**base, "item": "progress", "value": float(1 + i % 5), "text": None},
            {**base, "item": "safety", "value": float(5 - i % 3), "text": None},
            {**base, "item": "recommend", "value": float(i % 4 != 0), "text": None},
        ]
        if i % 2 == 0:
            rows.append({**base, "item": "worked", "value": np.nan, "text": f"secret {i}"})
    return pd.DataFrame(rows)


def test_feedback_summary_hand_checked():
    df = _form()
    r = feedback_summary(df)
    s = r.summary.set_index("item")
    m, lo, hi, n = mean_ci(np.array([1 + i % 5 for i in range(8)], float))
    assert s.loc["progress", "estimate"] == pytest.approx(m)
    assert s.loc["progress", "ci_high"] == pytest.approx(hi)
    assert s.loc["recommend", "estimate"] == pytest.approx(6 / 8)
    assert s.loc["recommend", "ci_low"] == pytest.approx(wilson_ci(6, 8)[0])
    assert s.loc["worked", "estimate"] == 4 and s.loc["improve", "estimate"] == 0
    assert "secret" not in r.summary.to_string() and "secret" not in r._repr_html_()
    assert "E1" not in r.summary.to_string()
    assert list(r.summary.columns[:3]) == ["metric", "wave", "item"]
    ax = r.plot()  # one point with its interval per rating item
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "endpoint / progress",
        "endpoint / safety",
    ]
    assert ax.get_lines()[0].get_xdata().tolist() == pytest.approx(
        [s.loc["progress", "estimate"], s.loc["safety", "estimate"]]
    )


def test_small_groups_keep_their_numbers_and_n():
    """The analysis returns every figure with its n, also from four respondents; hiding them
    from sponsors is the report's privacy policy (tests/test_privacy.py)."""
    r = feedback_summary(_form(4))
    rated = r.summary[r.summary.metric != "text_answers"]
    assert rated.estimate.notna().all() and (rated.n == 4).all()
    with pytest.warns(DeprecationWarning, match="min_cell_size is deprecated"):
        old = feedback_summary(_form(4), min_cell_size=5)
    assert old.summary.equals(r.summary)


def test_feedback_text_for_program_lead_only():
    t = feedback_text(_form())
    assert list(t.columns) == ["wave", "pair_id", "item", "text"]
    assert len(t) == 4 and t.text.str.startswith("secret").all()
    assert "respondent_id" not in t.columns


def test_pilot_reaction(sample_pilot):
    r = pilot_reaction(sample_pilot, by=["wave", "role"])
    assert set(r.summary.role) <= {"mentor", "mentee", "unknown"}
    assert set(r.summary.metric) == {"mean", "share_yes", "text_answers"}
    assert len(feedback_text(sample_pilot)) > 0
