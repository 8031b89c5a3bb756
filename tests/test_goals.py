"""SMART-goal progress: hand-checked figures, suppression, pair view kept apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rm_analytics.metrics.goals import goal_progress, pilot_goals
from rm_analytics.stats.intervals import mean_ci, wilson_ci


def _data():
    w6 = [1, 2, 2, 3, 3, 3, 4, 4, 5, 2]
    ep = [2, 3, 4, 4, 4, 5, 5, 5, 3, 4]
    met = [False, False, True, True, True, True, True, True, False, True]
    pid = [f"P{i}" for i in range(10)]
    return (
        pd.DataFrame(
            {
                "pair_id": pid + pid,
                "checkpoint": ["week6"] * 10 + ["endpoint"] * 10,
                "progress": w6 + ep,
                "goal_met": [None] * 10 + met,
            }
        ),
        w6,
        ep,
        met,
    )


def test_goal_progress_hand_checked():
    df, w6, ep, met = _data()
    r = goal_progress(df)
    s = r.summary.set_index(["metric", "checkpoint"])
    m, lo, hi, n = mean_ci(np.array(w6, float))
    assert s.loc[("mean_progress", "week6"), "estimate"] == pytest.approx(2.9)
    assert s.loc[("mean_progress", "week6"), "ci_low"] == pytest.approx(lo)
    assert s.loc[("share_goal_met", "endpoint"), "estimate"] == pytest.approx(0.7)
    assert s.loc[("share_goal_met", "endpoint"), "ci_low"] == pytest.approx(wilson_ci(7, 10)[0])
    # off track at week 6: progress <= 2 -> 4 of 10
    assert s.loc[("share_off_track", "week6"), "estimate"] == pytest.approx(0.4)
    pv = r.pair_view().set_index("pair_id")
    assert pv.loc["P0", "off_track_week6"] and not pv.loc["P3", "off_track_week6"]
    assert "pair_id" not in r.summary.columns and "P0" not in r.summary.to_string()
    ax = r.plot()  # one bar per checkpoint and rating: each checkpoint's shares add up to 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["week6", "endpoint"]
    assert len(ax.patches) == 10
    assert sum(p.get_height() for p in ax.patches) == pytest.approx(2.0)


def test_goal_progress_keeps_small_cells_with_their_n():
    """Every aggregate keeps its number of pairs; the report's privacy policy hides small
    ones from sponsors (tests/test_privacy.py)."""
    df, *_ = _data()
    r = goal_progress(df)
    d = r.distribution_.set_index(["checkpoint", "progress"])
    assert d.loc[("week6", 1), "n_pairs"] == 1
    r = goal_progress(df[df.pair_id.isin(["P0", "P1", "P2"])])
    assert r.summary.estimate.notna().all() and (r.summary.n == 3).all()
    with pytest.warns(DeprecationWarning, match="min_cell_size is deprecated"):
        goal_progress(df, min_cell_size=5)


def test_goal_progress_errors():
    df, *_ = _data()
    with pytest.raises(ValueError, match="unknown checkpoint"):
        goal_progress(df.assign(checkpoint="week3"))
    with pytest.raises(ValueError, match="1-5"):
        goal_progress(df.assign(progress=7))


def test_pilot_goals(sample_pilot):
    r = pilot_goals(sample_pilot)
    assert set(r.summary.metric) == {"mean_progress", "share_goal_met", "share_off_track"}
    assert {"cohort_id", "pair_status"} <= set(r.pairs_.columns)
    assert len(r.pairs_) == len(sample_pilot.pairs)


def test_hidden_cells_are_drawn_as_hidden_not_as_zero():
    import matplotlib.pyplot as plt

    df, w6, ep, _ = _data()
    r = goal_progress(df)
    d = r.distribution_
    mask = d.n_pairs.between(1, 4)  # every cell of 10 pairs has 1 to 4 pairs or none
    hidden = d[mask]
    zero = d[d.share.eq(0)]
    assert len(hidden) and len(zero)
    ax = r.plot(hidden=mask.to_numpy())
    words = [t for t in ax.texts if t.get_text() == "hidden"]
    assert len(words) == len(hidden)
    frames = [p for p in ax.patches if p.get_hatch()]
    assert len(frames) == len(hidden)
    solid = [p for p in ax.patches if not p.get_hatch()]
    # one solid bar per shown cell (zero cells are real zeros), none for a hidden cell
    assert len(solid) == len(d) - len(hidden)
    assert all(p.get_height() > 0 for p in frames)
    plt.close("all")
