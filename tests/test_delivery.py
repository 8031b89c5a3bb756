"""Delivery metrics: sessions held vs the plan, cadence, gaps, health (issue 4, item 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rm_analytics import Pilot
from rm_analytics.metrics.delivery import (
    DELIVERY_COLUMNS,
    HEALTH_LEVELS,
    delivery_summary,
    pair_delivery,
)
from rm_analytics.stats.intervals import wilson_ci

START = pd.Timestamp("2025-01-06")  # a Monday
END = pd.Timestamp("2025-03-28")  # 81 days later; plan: 12 weekly sessions


def day(n: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=n)


def frames(sessions: list[tuple[str, int, str]], pairs=None) -> dict[str, pd.DataFrame]:
    """sessions as (pair_id, day offset, status); held sessions last 60 minutes."""
    cohorts = pd.DataFrame(
        {
            "cohort_id": ["C1"],
            "start_date": [START],
            "end_date": [END],
            "cadence_days": [7],
            "planned_sessions": [12],
        }
    )
    if pairs is None:
        pairs = pd.DataFrame(
            {
                "pair_id": ["P1"],
                "cohort_id": ["C1"],
                "status": ["active"],
                "start_date": [START],
                "end_date": [pd.NaT],
            }
        )
    s = pd.DataFrame(sessions, columns=["pair_id", "offset", "status"])
    s["date"] = START + pd.to_timedelta(s.offset, unit="D")
    s["duration_minutes"] = np.where(s.status == "held", 60.0, np.nan)
    return {"pairs": pairs, "cohorts": cohorts, "sessions": s.drop(columns="offset")}


def weekly(pair="P1", weeks=12, status="held"):
    return [(pair, 7 * j, status) for j in range(weeks)]


@pytest.mark.parametrize(
    "as_of, expected",
    [
        (0, 0),  # kick-off day: nothing due yet
        (6, 0),
        (7, 1),  # one full week elapsed: one session due
        (42, 6),
        (80, 11),
        (81, 12),  # cohort end: the whole plan
        (200, 12),
    ],
)
def test_expected_by_now(as_of, expected):
    d = pair_delivery(frames(weekly()), as_of=day(as_of)).pairs_
    assert d.expected_by_now.iloc[0] == expected
    assert d.planned_sessions.iloc[0] == 12


def test_columns_and_counts():
    s = weekly(weeks=8) + [("P1", 56, "cancelled"), ("P1", 63, "no_show"), ("P1", 70, "no_show")]
    d = pair_delivery(frames(s), as_of=day(81)).pairs_
    assert list(d.columns) == DELIVERY_COLUMNS
    r = d.iloc[0]
    assert (r.sessions_held, r.sessions_cancelled, r.sessions_no_show) == (8, 1, 2)
    assert r.held_minutes == 480
    assert r.adherence == pytest.approx(8 / 12)
    assert r.n_gaps == 7 and r.cadence_adherence == 1.0 and r.median_gap_days == 7
    assert r.days_since_last_held == 81 - 49
    assert r.longest_gap_days == 81 - 49
    assert r.health == "needs_check_in"  # 32 days without a held session


def test_gaps_and_cadence_adherence():
    # held on days 0, 7, 21 (gap 14), 31 (gap 10), 42 (gap 11): within 1.5 x 7 = 10.5 days: 2 of 4
    s = [("P1", x, "held") for x in (0, 7, 21, 31, 42)]
    d = pair_delivery(frames(s), as_of=day(45)).pairs_.iloc[0]
    assert d.n_gaps == 4
    assert d.cadence_adherence == pytest.approx(0.5)
    assert d.median_gap_days == pytest.approx(10.5)
    assert d.longest_gap_days == 14
    assert d.days_since_last_held == 3


def test_health_rules_near_thresholds():
    s = [("P1", x, "held") for x in (0, 7, 14, 21)]
    # 14 days after the last held session: not more than 2 x 7 -> on track (4 of 5 due held)
    assert pair_delivery(frames(s), as_of=day(35)).pairs_.health.iloc[0] == "on_track"
    # 15 days: needs a check-in
    assert pair_delivery(frames(s), as_of=day(36)).pairs_.health.iloc[0] == "needs_check_in"
    # too early: fewer than two sessions due
    assert pair_delivery(frames([]), as_of=day(13)).pairs_.health.iloc[0] == "too_early_to_tell"
    assert pair_delivery(frames([]), as_of=day(14)).pairs_.health.iloc[0] == "needs_check_in"


def test_health_adherence_boundary():
    # 8 weeks elapsed -> 8 due. 4 held (days 0, 28, 42, 49 keep gaps <= 14): adherence 0.5
    s = [("P1", x, "held") for x in (0, 14, 28, 42, 49)]
    d = pair_delivery(frames(s), as_of=day(56)).pairs_.iloc[0]
    assert d.expected_by_now == 8 and d.adherence == pytest.approx(5 / 8)
    assert d.health == "on_track"
    s = [("P1", x, "held") for x in (0, 14, 28, 42)]
    d = pair_delivery(frames(s), as_of=day(56)).pairs_.iloc[0]
    assert d.adherence == pytest.approx(0.5) and d.health == "on_track"  # not below 0.5
    s = [("P1", x, "held") for x in (0, 14, 42)]
    d = pair_delivery(frames(s), as_of=day(56)).pairs_.iloc[0]
    assert d.adherence == pytest.approx(3 / 8) and d.health == "needs_check_in"
    d = pair_delivery(frames(s), as_of=day(56), rules={"min_adherence": 0.3}).pairs_.iloc[0]
    assert d.health == "on_track"


def test_late_start_pair_owns_only_the_remaining_slots():
    pairs = pd.DataFrame(
        {
            "pair_id": ["P1", "P2"],
            "cohort_id": ["C1", "C1"],
            "status": ["reshuffled", "active"],
            "start_date": [START, day(28)],
            "end_date": [day(27), pd.NaT],
        }
    )
    s = weekly("P1", 4) + [("P2", 28 + 7 * j, "held") for j in range(8)]
    d = pair_delivery(frames(s, pairs), as_of=day(81)).pairs_.set_index("pair_id")
    assert d.loc["P1", "planned_sessions"] == 12 and d.loc["P1", "expected_by_now"] == 3
    assert d.loc["P1", "sessions_held"] == 4
    assert d.loc["P2", "planned_sessions"] == 8 and d.loc["P2", "expected_by_now"] == 8
    assert d.loc["P2", "adherence"] == 1.0
    assert d.loc["P1", "observed_until"] == day(27)


def test_exclusions_are_counted_in_the_quality_log():
    emp = pd.DataFrame(
        {
            "employee_id": ["A", "B"],
            "hire_date": pd.Timestamp("2020-01-01"),
            "department": ["X", "Y"],
            "level": ["L1", "L6"],
            "termination_date": pd.NaT,
            "termination_type": None,
        }
    )
    fr = frames(weekly(weeks=6))
    fr["pairs"] = fr["pairs"].assign(
        mentor_id="A", mentee_id="B", status="withdrawn", end_date=day(30)
    )
    pilot = Pilot.from_frames(today="2025-12-31", employees=emp, **fr)
    d = pair_delivery(pilot, as_of=day(33)).pairs_
    assert d.sessions_held.iloc[0] == 5  # days 0..28; day 35 is after the pair's end
    q = pilot.quality.set_index("check")
    assert q.loc["session after as_of", "rows"] == 1
    assert q.loc["sessions used", "rows"] == 5
    d = pair_delivery(pilot, as_of=day(60)).pairs_
    q = pilot.quality.set_index("check")
    assert q.loc["session outside the pair's dates", "rows"] == 1
    assert q.loc["sessions used", "rows"] == 5


def test_pilot_and_frames_agree(sample_pilot):
    d1 = pair_delivery(sample_pilot, as_of="2026-09-30").pairs_
    t = sample_pilot.tables
    d2 = pair_delivery(
        {"pairs": t["pairs"], "cohorts": t["cohorts"], "sessions": t["sessions"]},
        as_of="2026-09-30",
    ).pairs_
    pd.testing.assert_frame_equal(d1, d2)


def test_pairs_per_health_label(sample_pilot):
    res = pair_delivery(sample_pilot, as_of="2026-09-30")
    counts = res.pairs_.health.value_counts()
    s = res.summary
    assert s.columns[0] == "metric" and s.health.tolist() == list(HEALTH_LEVELS)
    assert s.estimate.tolist() == [counts.get(h, 0) for h in HEALTH_LEVELS]
    assert (s.n == len(res.pairs_)).all() and s.share.sum() == pytest.approx(1.0)
    assert res.arguments["as_of"] == "2026-09-30" and res.notes_with("assumption")
    ax = res.plot()  # one bar per label, as long as its count
    assert [b.get_width() for b in ax.patches] == s.estimate.tolist()
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "on track",
        "needs check in",
        "too early to tell",
    ]


def test_sample_stalled_pair_needs_check_in(sample_pilot, synthetic_sample):
    d = pair_delivery(sample_pilot).pairs_.set_index("pair_id")
    stalled = synthetic_sample.truth["stalled_pairs"]
    assert stalled, "the sample has no planted stalled pair"
    for pair in stalled:
        assert d.loc[pair, "health"] == "needs_check_in"
        assert d.loc[pair, "sessions_held"] <= 3


def test_bad_input_messages():
    with pytest.raises(TypeError, match="Pilot or a dict"):
        pair_delivery(pd.DataFrame())
    fr = frames(weekly())
    fr["cohorts"] = fr["cohorts"].assign(cadence_days=0)
    with pytest.raises(ValueError, match="cadence_days"):
        pair_delivery(fr, as_of=day(10))
    fr = frames(weekly())
    fr["pairs"] = fr["pairs"].assign(cohort_id="C9")
    with pytest.raises(ValueError, match="C9"):
        pair_delivery(fr, as_of=day(10))
    with pytest.raises(ValueError, match="unknown delivery rule"):
        pair_delivery(frames(weekly()), as_of=day(10), rules={"gap": 3})


# -- sponsor summary --------------------------------------------------------------------------------
def _six_pairs():
    pairs = pd.DataFrame(
        {
            "pair_id": [f"P{i}" for i in range(6)],
            "cohort_id": "C1",
            "status": "completed",
            "start_date": START,
            "end_date": END,
        }
    )
    s = []
    for i in range(6):
        held = 12 if i < 5 else 2
        s += [(f"P{i}", 7 * j, "held") for j in range(held)]
    s += [("P0", 1, "no_show"), ("P1", 2, "cancelled"), ("P1", 3, "cancelled")]
    return frames(s, pairs)


def test_delivery_summary_values():
    res = delivery_summary(_six_pairs(), as_of=END)
    r = res.row(metric="pairs_3plus_held")
    assert r.estimate == pytest.approx(5 / 6) and r.n == 6
    assert (r.ci_low, r.ci_high) == pytest.approx(wilson_ci(5, 6))
    r = res.row(metric="sessions_held")
    assert r.estimate == pytest.approx((5 * 12 + 2) / 6)
    assert res.row(metric="sessions_planned").estimate == 12
    # no-show rate: 1 of 65 scheduled; ratio of sums with pairs as clusters
    r = res.row(metric="no_show_rate")
    assert r.estimate == pytest.approx(1 / 65)
    num = np.array([1, 0, 0, 0, 0, 0.0])
    den = np.array([13, 14, 12, 12, 12, 2.0])
    ratio = num.sum() / den.sum()
    se = np.sqrt(6 / 5 * ((num - ratio * den) ** 2).sum()) / den.sum()
    from scipy import stats

    t = stats.t.ppf(0.975, 5)
    assert r.ci_high == pytest.approx(ratio + t * se)
    assert r.ci_low == 0.0  # clipped at 0
    assert res.row(metric="cancel_rate").estimate == pytest.approx(2 / 65)
    # health counts, honest (hiding the small one and its complement is the report's policy)
    assert res.row(metric="health_needs_check_in").estimate == 1
    assert res.row(metric="health_on_track").estimate == 5
    assert res.row(metric="health_too_early_to_tell").estimate == 0
    assert "P5" not in res.summary.to_csv() and "P5" not in str(res.to_dict())


def test_min_cell_size_is_deprecated_and_changes_nothing():
    """Suppression moved to the report's privacy policy: the old argument warns and the
    figures (with their n) are those of a call without it."""
    with pytest.warns(DeprecationWarning, match="min_cell_size is deprecated"):
        old = delivery_summary(_six_pairs(), as_of=END, min_cell_size=7)
    new = delivery_summary(_six_pairs(), as_of=END)
    assert old.summary.equals(new.summary)
    assert new.summary.n.notna().all()


def test_delivery_plot(sample_pilot):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    res = delivery_summary(sample_pilot)
    assert res.plot(ax=ax) is ax
    # one point with its interval per share, labelled in words, on a 0-1 axis
    (bars,) = ax.containers
    points = bars.lines[0].get_xdata()
    shares = res.summary.set_index("metric").loc[
        ["pairs_3plus_held", "adherence", "no_show_rate", "cancel_rate"]
    ]
    assert list(points) == pytest.approx(shares.estimate.tolist())
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "pairs with 3+ sessions",
        "sessions held / due",
        "no-show rate",
        "cancellation rate",
    ]
    assert ax.get_xlabel() == "share (95% CI)" and ax.get_xlim()[0] == 0
    plt.close(fig)
