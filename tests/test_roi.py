"""Phillips ROI: hand-computed cases, the "not demonstrated" path, costs from a tiny pilot,
the retention-result convenience (with a fake result), sensitivity, and the interval's
behaviour with pilot size (property + simulation with known truth)."""

from __future__ import annotations

import math

import builders
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rm_analytics import roi as R

Z = stats.norm.ppf(0.975)


# =============================================================================================
# phillips_roi: hand-computed
# =============================================================================================
def base(**kw):
    args = dict(
        n_participants=20,
        attrition_participants=0.10,
        attrition_control=0.30,
        replacement_cost=10_000.0,
        costs=20_000.0,
        se_difference=0.05,
    )
    args.update(kw)
    return R.phillips_roi(**args)


def est(res, metric):
    return float(res.row(metric=metric)["estimate"])


def test_hand_computed_pays_back():
    r = base()
    # difference 0.2 -> 4 avoided exits x 10,000 = 40,000 benefits on 20,000 costs
    assert est(r, "attrition_difference") == pytest.approx(0.2)
    assert est(r, "avoided_exits") == pytest.approx(4.0)
    assert est(r, "benefits") == pytest.approx(40_000)
    assert est(r, "costs") == pytest.approx(20_000)
    assert est(r, "net_benefit") == pytest.approx(20_000)
    assert r.roi_pct == pytest.approx(100.0)
    assert r.bcr == pytest.approx(2.0)
    assert r.break_even_exits == pytest.approx(2.0)
    assert est(r, "break_even_difference") == pytest.approx(0.1)
    # ROI% = 1000 * D - 100, D in 0.2 +- 1.96 * 0.05
    roi = r.row(metric="roi_pct")
    assert roi.ci_low == pytest.approx(1000 * (0.2 - Z * 0.05) - 100)
    assert roi.ci_high == pytest.approx(1000 * (0.2 + Z * 0.05) - 100)
    d = r.row(metric="attrition_difference")
    assert d.p_value == pytest.approx(2 * stats.norm.sf(0.2 / 0.05))
    assert r.verdict_ == "pays back"
    assert r.demonstrated
    assert list(r.summary.columns) == R.ROI_COLUMNS
    assert "ROI 100%" in r.statement()


def test_hand_computed_isolation_confidence_business_outcomes():
    r = base(
        isolation=0.5,
        confidence=0.8,
        isolated_by_control=False,
        business_outcomes=[("faster launch", 5_000, 0.5)],
        se_difference=0.05,
    )
    # unit benefit 10,000 x 0.5 x 0.8 = 4,000; 4 exits -> 16,000; other 2,500
    assert est(r, "retention_benefits") == pytest.approx(16_000)
    assert est(r, "other_benefits") == pytest.approx(2_500)
    assert est(r, "benefits") == pytest.approx(18_500)
    assert r.roi_pct == pytest.approx(-7.5)
    assert r.bcr == pytest.approx(0.925)
    assert r.break_even_exits == pytest.approx(5.0)
    assert any("Isolation factor 0.5" in n for n in r.notes)


def test_not_demonstrated_path():
    r = base(se_difference=0.15)  # CI 0.2 +- 0.29 includes 0
    assert r.verdict_ == R.NOT_DEMONSTRATED
    assert not r.demonstrated
    for m in ("avoided_exits", "retention_benefits", "benefits", "net_benefit", "roi_pct", "bcr"):
        assert math.isnan(est(r, m)), m
    roi = r.row(metric="roi_pct")
    assert roi.ci_low == pytest.approx(1000 * (0.2 - Z * 0.15) - 100)
    assert roi.ci_high == pytest.approx(1000 * (0.2 + Z * 0.15) - 100)
    # observed difference, costs and the break-even stay reported
    assert est(r, "attrition_difference") == pytest.approx(0.2)
    assert est(r, "costs") == 20_000
    assert r.break_even_exits == pytest.approx(2.0)
    assert any("not demonstrated" in n for n in r.notes)
    s = r.statement()
    assert s.startswith("ROI not demonstrated")
    assert "could be zero" in s
    d = r.to_dict()
    assert d["verdict"] == R.NOT_DEMONSTRATED
    roi_rec = next(rec for rec in d["summary"] if rec["metric"] == "roi_pct")
    assert roi_rec["estimate"] is None and roi_rec["ci_low"] is not None


def test_ci_touching_zero_is_not_demonstrated():
    r = base(ci_difference=(0.0, 0.4), se_difference=None)
    assert r.verdict_ == R.NOT_DEMONSTRATED


def test_ci_difference_overrides_se():
    r = base(ci_difference=(0.05, 0.35))
    roi = r.row(metric="roi_pct")
    assert (roi.ci_low, roi.ci_high) == pytest.approx((-50.0, 250.0))
    assert r.verdict_ == "payback uncertain"


def test_does_not_pay_back_and_retention_worse():
    r = base(replacement_cost=1_000.0, se_difference=0.02)
    assert r.verdict_ == "does not pay back"
    assert r.roi_pct == pytest.approx(-80.0)
    assert r.break_even_exits == pytest.approx(20.0)
    poor = base(replacement_cost=500.0, se_difference=0.02)  # break-even 40 exits > 20 people
    assert "retention alone cannot pay it back" in poor.statement()
    w = base(attrition_participants=0.4, attrition_control=0.1, se_difference=0.05)
    assert w.verdict_ == "retention worse"
    assert w.roi_pct == pytest.approx(100 * (-0.3 * 20 * 10_000 - 20_000) / 20_000)


def test_scenario_without_uncertainty():
    r = base(se_difference=None)
    assert r.verdict_ == "scenario"
    assert r.roi_pct == pytest.approx(100.0)
    assert math.isnan(r.row(metric="roi_pct").ci_low)
    assert any("not evidence" in n for n in r.notes)


def test_nan_difference_is_not_estimable():
    r = base(attrition_control=float("nan"))
    assert r.verdict_ == "not estimable"
    assert math.isnan(r.roi_pct)


def test_phillips_rules_enforced():
    with pytest.raises(ValueError, match="isolation share below 1"):
        base(isolated_by_control=False)
    with pytest.raises(ValueError, match="first-year"):
        base(horizon_months=24)
    with pytest.raises(ValueError, match="confidence"):
        base(confidence=0)
    with pytest.raises(ValueError, match="costs"):
        base(costs=0)
    with pytest.raises(ValueError, match="business_outcomes"):
        base(business_outcomes=[("x", 1)])
    with pytest.raises(ValueError, match=r"confidence must lie in \[0, 1\]"):
        base(business_outcomes=[("x", 1, 2)])
    with pytest.raises(ValueError, match="attrition_control"):
        base(attrition_control=30)


def test_interval_is_the_exact_linear_map():
    """Delta method is exact: se(ROI) = 100 n R i c / C se(D); the interval is symmetric."""
    r = base(isolation=0.7, isolated_by_control=False, confidence=0.9, se_difference=0.04)
    roi = r.row(metric="roi_pct")
    se_roi = 100 * 20 * 10_000 * 0.7 * 0.9 / 20_000 * 0.04
    assert roi.ci_high - roi.ci_low == pytest.approx(2 * Z * se_roi)
    assert (roi.ci_low + roi.ci_high) / 2 == pytest.approx(roi.estimate)


def test_roi_plot_returns_axes():
    import matplotlib.pyplot as plt

    cases = (base(), base(se_difference=0.15))
    assert [r.demonstrated for r in cases] == [True, False]  # both branches below run
    for r in cases:
        ax = r.plot()
        roi = r.row(metric="roi_pct")
        points = [line for line in ax.get_lines() if line.get_marker() == "o"]
        if r.demonstrated:  # a point at the ROI and its interval
            assert points[0].get_xdata()[0] == pytest.approx(roi.estimate)
        else:  # no point: only the range the ROI could lie in
            assert not points and np.isnan(roi.estimate)
        (segment,) = ax.collections[0].get_segments()
        assert segment[:, 0] == pytest.approx([roi.ci_low, roi.ci_high])
        titles = " ".join(ax.get_title(loc=loc) for loc in ("left", "center", "right"))
        assert r.verdict_ in titles  # the report theme puts titles on the left
        plt.close("all")


# =============================================================================================
# roi_from_retention with a fake retention result (duck typing)
# =============================================================================================
class FakeRetention:
    def __init__(self, treated=0.10, control=0.30, se=0.05, n_treated=20, n_control=40, ci=None):
        self._a = {
            "treated": treated,
            "control": control,
            "difference": control - treated,
            "se_difference": se,
            "ci_low": ci[0] if ci else float("nan"),
            "ci_high": ci[1] if ci else float("nan"),
            "n_treated": n_treated,
            "n_control": n_control,
        }
        self.horizons: list[float] = []

    def attrition_at(self, horizon):
        self.horizons.append(horizon)
        return dict(self._a)


def test_roi_from_retention_equals_phillips_roi():
    fake = FakeRetention()
    r = R.roi_from_retention(fake, costs=20_000, salary=50_000)
    assert fake.horizons == [12]
    ref = base(replacement_cost=0.21 * 50_000, n_control=40)
    pd.testing.assert_frame_equal(r.summary, ref.summary)
    assert est(r, "replacement_cost") == pytest.approx(10_500)
    assert r.row(metric="attrition_control")["n"] == 40


def test_roi_from_retention_uses_result_interval():
    fake = FakeRetention(se=0.05, ci=(-0.02, 0.41))
    r = R.roi_from_retention(fake, costs=20_000, replacement_cost=10_000)
    d = r.row(metric="attrition_difference")
    assert (d.ci_low, d.ci_high) == (-0.02, 0.41)
    assert r.verdict_ == R.NOT_DEMONSTRATED


def test_roi_from_retention_takes_the_result_p_value():
    """When the result's interval is not Wald's (MOVER, a group without exits), the ROI's
    p-value is the result's own, so the p-value and the interval tell the same story."""
    fake = FakeRetention(se=0.05, ci=(-0.02, 0.41))
    fake._a["p_value"] = 0.08
    r = R.roi_from_retention(fake, costs=20_000, replacement_cost=10_000)
    assert r.row(metric="attrition_difference").p_value == 0.08
    wald = R.roi_from_retention(FakeRetention(se=0.05), costs=20_000, replacement_cost=10_000)
    assert wald.row(metric="attrition_difference").p_value == pytest.approx(
        2 * stats.norm.sf(0.20 / 0.05)
    )
    with pytest.raises(ValueError, match="p_difference"):
        base(ci_difference=(0.1, 0.3), p_difference=1.5)


def test_roi_from_retention_on_a_group_without_exits():
    """A real retention result whose participants have no exit: the ROI takes the result's
    MOVER interval and the p-value that inverts it, with a note saying so; its verdict
    follows the interval and the p-value alike."""
    from rm_analytics.metrics.retention import compare_retention

    rng = np.random.default_rng(2)
    n_t, n_c = 20, 60
    dur = np.r_[np.full(n_t, 14.0), np.minimum(rng.exponential(40, n_c), 14.0)]
    df = pd.DataFrame(
        {
            "t": dur,
            "e": np.r_[np.zeros(n_t), (dur[n_t:] < 14).astype(int)],
            "g": np.r_[np.ones(n_t), np.zeros(n_c)].astype(int),
        }
    )
    res = compare_retention(df, duration="t", event="e", group="g", horizons=[12])
    a = res.attrition_at(12)
    assert a["ci_method"] == "mover" and a["treated"] == 0
    r = R.roi_from_retention(res, costs=20_000, replacement_cost=10_000)
    d = r.row(metric="attrition_difference")
    assert (d.ci_low, d.ci_high, d.p_value) == (a["ci_low"], a["ci_high"], a["p_value"])
    assert (d.p_value < 0.05) == (d.ci_low > 0 or d.ci_high < 0)
    assert (r.verdict_ == R.NOT_DEMONSTRATED) == (d.p_value >= 0.05)
    assert any("MOVER" in n and "inverts" in n for n in r.notes)


def test_roi_from_retention_errors():
    with pytest.raises(TypeError, match="attrition_at"):
        R.roi_from_retention(object(), costs=1, replacement_cost=1)
    with pytest.raises(ValueError, match="salary"):
        R.roi_from_retention(FakeRetention(), costs=1)
    bad = FakeRetention()
    bad._a["difference"] = 0.5
    with pytest.raises(ValueError, match="control - treated"):
        R.roi_from_retention(bad, costs=1, replacement_cost=1)
    with pytest.raises(ValueError, match="first-year"):
        R.roi_from_retention(FakeRetention(), costs=1, replacement_cost=1, horizon=18)


def test_short_horizon_is_noted():
    r = R.roi_from_retention(FakeRetention(), costs=20_000, replacement_cost=10_000, horizon=6)
    assert any("first 6 months" in n for n in r.notes)


# =============================================================================================
# sensitivity
# =============================================================================================
def test_sensitivity_hand_computed():
    costs = R.CostResult(
        pd.DataFrame(
            [
                ("time", "", 100.0, "hours", 150.0, 15_000.0, "EUR", True),
                ("software", "", 1.0, "item", 5_000.0, 5_000.0, "EUR", False),
                ("total", "", np.nan, "", np.nan, 20_000.0, "EUR", False),
            ],
            columns=R.COST_COLUMNS,
        ),
        currency="EUR",
    )
    r = base(costs=costs, salary=50_000, replacement_cost=10_000)
    s = r.sensitivity().summary
    assert list(s.columns) == R.SENSITIVITY_COLUMNS
    rc = s[s.metric == "replacement cost"].iloc[0]
    # 0.5 x 50,000 = 25,000 per exit: 4 x 25,000 = 100,000 -> ROI 400%; 2x -> 400,000 -> 1900%
    assert (rc.roi_at_low, rc.roi_at_high) == pytest.approx((400.0, 1900.0))
    hr = s[s.metric == "hourly rate"].iloc[0]
    # costs 20,000 + 15,000 x (0.8 - 1) = 17,000 -> ROI 135.29%; x1.2 -> 23,000 -> 73.91%
    assert hr.roi_at_low == pytest.approx(100 * (40_000 - 17_000) / 17_000)
    assert hr.roi_at_high == pytest.approx(100 * (40_000 - 23_000) / 23_000)
    given = s[s.metric == "given costs"].iloc[0]
    # software 5,000 x 0.8 -> costs 19,000; x 1.2 -> 21,000
    assert given.roi_at_low == pytest.approx(100 * (40_000 - 19_000) / 19_000)
    assert given.roi_at_high == pytest.approx(100 * (40_000 - 21_000) / 21_000)
    eff = s[s.metric == "attrition difference"].iloc[0]
    assert eff.roi_at_low == pytest.approx(r.row(metric="roi_pct").ci_low)
    assert s.base_roi.tolist() == pytest.approx([100.0] * 4)
    # sorted by swing: replacement cost first
    assert s.metric.iloc[0] == "replacement cost"


def test_sensitivity_not_demonstrated_shows_only_the_range():
    r = base(se_difference=0.15, salary=50_000)
    s = r.sensitivity().summary
    assert s.base_roi.isna().all()
    assert (
        s.loc[s.metric != "attrition difference", ["roi_at_low", "roi_at_high"]].isna().all().all()
    )
    eff = s[s.metric == "attrition difference"].iloc[0]
    assert np.isfinite([eff.roi_at_low, eff.roi_at_high]).all()


def test_sensitivity_at_a_given_difference_draws_every_factor():
    """Not demonstrated: at the favourable end of the interval every assumption row is there."""
    costs = R.CostResult(
        pd.DataFrame(
            [
                ("time", "", 100.0, "hours", 150.0, 15_000.0, "EUR", True),
                ("software", "", 1.0, "item", 5_000.0, 5_000.0, "EUR", False),
                ("total", "", np.nan, "", np.nan, 20_000.0, "EUR", False),
            ],
            columns=R.COST_COLUMNS,
        ),
        currency="EUR",
    )
    r = base(se_difference=0.15, salary=50_000, costs=costs)
    assert r.verdict_ == R.NOT_DEMONSTRATED
    lo, hi = r.inputs_["ci_difference"]
    sens = r.sensitivity(at_difference=hi)
    assert len(sens.summary) == 4
    s = sens.summary
    assert np.isfinite(s[["roi_at_low", "roi_at_high"]].to_numpy()).all()
    assert s.base_roi.iloc[0] == pytest.approx(r.row(metric="roi_pct").ci_high)
    assert sens.arguments["at_difference"] == hi
    assert any("given" in n for n in sens.notes)


def test_sensitivity_without_salary_or_cost_table_says_why():
    sres = base().sensitivity()
    t = sres.summary.set_index("metric")
    assert math.isnan(t.loc["hourly rate", "roi_at_low"])
    assert math.isnan(t.loc["replacement cost", "roi_at_low"])
    assert any("salary" in n for n in sres.notes)
    assert any("total" in n for n in sres.notes)
    s2 = base().sensitivity(replacement_cost_range=(5_000, 20_000)).summary.set_index("metric")
    assert s2.loc["replacement cost", "roi_at_low"] == pytest.approx(0.0)


def test_tornado_plot():
    import matplotlib.pyplot as plt

    r = base(salary=50_000)
    ax = r.plot_tornado()
    s = r.sensitivity().summary
    assert [t.get_text() for t in ax.get_yticklabels()] == s.metric[::-1].tolist()
    # one bar per input, from its lower to its higher ROI
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths == pytest.approx(sorted((s.roi_at_high - s.roi_at_low).abs().dropna()))
    ax2 = R.plot_tornado(base(se_difference=0.15))
    titles = " ".join(ax2.get_title(loc=loc) for loc in ("left", "center", "right"))
    assert "not demonstrated" in titles  # the report theme puts titles on the left
    plt.close("all")


# =============================================================================================
# program_costs on a tiny pilot (hand computed)
# =============================================================================================
def tiny_pilot(salary_s2=103_200.0, with_sessions=True):
    # loaded rate = salary x 1.3 / 1720: 34,400 -> 26; 51,600 -> 39; 68,800 -> 52; 103,200 -> 78
    b = builders.tiny_pilot(
        2,
        start="2024-01-08",
        end="2024-03-29",
        cadence_days=14,
        planned_sessions=6,
        hire_date="2015-01-01",
        sessions=False,
        today="2025-01-01",
    )
    e = b.tables["employees"]
    e = pd.concat([e, e.iloc[:2].assign(employee_id=["E5", "E6"])], ignore_index=True)
    e["department"] = ["A", "B", "C", "D", "E", "F"]  # M1, M2, S1, S2, E5, E6
    e["level"] = ["L1", "L1", "L5", "L6", "L3", "L6"]
    e["annual_salary"] = [34_400, 34_400, 68_800, salary_s2, 51_600, 103_200]
    b.tables["employees"] = e
    if with_sessions:
        b.tables["sessions"] = pd.DataFrame(
            {
                "pair_id": ["P1", "P1", "P1", "P2", "P2", "P2"],
                "date": [
                    "2024-01-10",
                    "2024-01-24",
                    "2024-02-07",
                    "2024-01-11",
                    "2024-01-25",
                    "2024-03-20",
                ],
                "duration_minutes": [60, 90, None, 30, None, 60],
                "status": ["held", "held", "cancelled", "held", "no_show", "held"],
            }
        )
    return b.pilot()


def amounts(c):
    return c.summary.set_index("metric")["amount"]


def test_program_costs_hand_computed():
    p = tiny_pilot()
    c = R.program_costs(p, software=100, other={"venue": 50}, as_of="2024-03-01")
    a = amounts(c)
    # hours: P1 2.5 h, P2 0.5 h (the 2024-03-20 session is after as_of)
    assert a["mentor session time"] == pytest.approx(2.5 * 26 + 0.5 * 26)
    assert a["mentee session time"] == pytest.approx(2.5 * 52 + 0.5 * 78)
    assert a["kickoff training"] == pytest.approx(3 * (26 + 26 + 52 + 78))
    # 8 h x 2 pairs at the median employee's rate: median(26, 26, 52, 78, 39, 78) = 45.5
    assert a["coordinator time"] == pytest.approx(16 * 45.5)
    assert a["software"] == 100
    assert a["venue"] == 50
    assert c.total == pytest.approx(78 + 169 + 546 + 728 + 150)
    assert c.time_cost_total == pytest.approx(78 + 169 + 546 + 728)
    assert list(c.summary.columns) == R.COST_COLUMNS
    assert c.summary.iloc[-1]["metric"] == "total"
    q = p.quality.set_index("check")
    assert q.loc["cancelled or no-show session", "rows"] == 2
    assert q.loc["session after as_of", "rows"] == 1
    # no ids in the sponsor-facing table
    assert not c.summary.astype(str).apply(lambda s: s.str.contains(r"\b[MS]\d\b")).any().any()


def test_program_costs_rate_options():
    p = tiny_pilot()
    c = R.program_costs(p, hourly_rate=10.0, kickoff_hours=0, coordinator_hours=0)
    assert amounts(c)["mentor session time"] == pytest.approx((2.5 + 1.5) * 10)
    assert c.total == pytest.approx(2 * 4 * 10)
    lv = {"L1": 20, "L3": 30, "L5": 40, "L6": 50}
    c2 = R.program_costs(
        p, hourly_rate=lv, kickoff_hours=1, coordinator_hours=2, coordinator_rate=100
    )
    a = amounts(c2)
    assert a["mentee session time"] == pytest.approx(2.5 * 40 + 1.5 * 50)
    assert a["kickoff training"] == pytest.approx(20 + 20 + 40 + 50)
    assert a["coordinator time"] == pytest.approx(200)
    with pytest.raises(ValueError, match="L6"):
        R.program_costs(p, hourly_rate={"L1": 20, "L3": 30, "L5": 40})


def test_program_costs_imputes_blank_salary_by_level_and_logs_it():
    p = tiny_pilot(salary_s2=float("nan"))
    c = R.program_costs(p)
    ref = R.program_costs(tiny_pilot())
    # E6 (L6) earns 103,200, so the level median replaces S2's blank salary
    assert c.total == pytest.approx(ref.total)
    assert p.quality.set_index("check").loc["participant salary blank", "rows"] == 1
    assert any("median salary of their level" in n for n in c.notes)


def test_program_costs_without_session_log_uses_plan():
    p = tiny_pilot(with_sessions=False)
    c = R.program_costs(p, hourly_rate=10.0, kickoff_hours=0, coordinator_hours=0)
    # 6 planned sessions x 60 min x 2 pairs, both people
    assert amounts(c)["mentor session time"] == pytest.approx(12 * 10)
    assert any("No session log" in n for n in c.notes)


def test_program_costs_errors():
    p = tiny_pilot()
    with pytest.raises(ValueError, match="loading"):
        R.program_costs(p, loading=0)
    with pytest.raises(ValueError, match="venue"):
        R.program_costs(p, other={"venue": -5})


def test_program_costs_on_sample_and_plot(sample_pilot):
    import matplotlib.pyplot as plt

    pilot = sample_pilot.select(sample_pilot.cohort_ids)  # a copy: keep the fixture's log
    c = R.program_costs(pilot)
    held = pilot.sessions[pilot.sessions.status == "held"].duration_minutes.sum() / 60
    assert c.summary.set_index("metric").loc["mentor session time", "quantity"] == pytest.approx(
        held
    )
    assert c.total > 0
    ax = c.plot()  # one bar per cost line, the total in the title
    lines = c.summary[c.summary.metric != "total"]
    assert [t.get_text() for t in ax.get_yticklabels()] == lines.metric[::-1].tolist()
    assert [p.get_width() for p in ax.patches] == pytest.approx(lines.amount[::-1].tolist())
    assert f"{c.total:,.0f}" in " ".join(ax.get_title(loc=w) for w in ("left", "center", "right"))
    plt.close("all")
    assert R.participant_salary(pilot) > 0


# =============================================================================================
# The ROI interval widens as the pilot shrinks
# =============================================================================================
def _roi_width(n: int, pt: float, pc: float, cost_per_participant: float, ctrl: int = 2):
    se = math.sqrt(pt * (1 - pt) / n + pc * (1 - pc) / (ctrl * n))
    r = R.phillips_roi(
        n_participants=n,
        attrition_participants=pt,
        attrition_control=pc,
        replacement_cost=10_000,
        costs=cost_per_participant * n,
        se_difference=se,
    )
    roi = r.row(metric="roi_pct")
    return roi.ci_high - roi.ci_low


def test_roi_interval_widens_as_pilot_shrinks_property():
    """With costs per participant fixed, width ~ 1/sqrt(n): strictly decreasing in n."""
    ns = [6, 12, 24, 48, 96, 192, 384]
    widths = [_roi_width(n, 0.1, 0.2, 2_000) for n in ns]
    assert all(a > b for a, b in zip(widths, widths[1:], strict=False))
    assert widths[0] / widths[2] == pytest.approx(2.0)  # 4x the pilot, half the width


@pytest.mark.slow
def test_roi_interval_widens_as_pilot_shrinks_simulation():
    """Known truth: attrition 10% (participants) vs 20% (2 controls each); Wald intervals;
    costs scale with the pilot (per-pair cost of the committed sample). Median ROI interval
    width falls as the pilot grows, and the 95% interval covers the true ROI ~95% of the time
    for a large pilot."""
    rng = np.random.default_rng(7)
    pt_true, pc_true, rc, cpp = 0.10, 0.20, 10_000.0, 2_000.0
    med_width = {}
    for n in (12, 48, 192):
        widths, cover = [], 0
        true_roi = 100 * (n * (pc_true - pt_true) * rc - cpp * n) / (cpp * n)
        for _ in range(500):
            xt = rng.binomial(n, pt_true)
            xc = rng.binomial(2 * n, pc_true)
            pt, pc = xt / n, xc / (2 * n)
            se = math.sqrt(pt * (1 - pt) / n + pc * (1 - pc) / (2 * n))
            if se == 0:
                continue
            r = R.phillips_roi(
                n_participants=n,
                attrition_participants=pt,
                attrition_control=pc,
                replacement_cost=rc,
                costs=cpp * n,
                se_difference=se,
            )
            roi = r.row(metric="roi_pct")
            widths.append(roi.ci_high - roi.ci_low)
            cover += roi.ci_low <= true_roi <= roi.ci_high
        med_width[n] = float(np.median(widths))
        if n == 192:
            assert 0.92 <= cover / len(widths) <= 0.98  # MC SE about 0.01
    assert med_width[12] > med_width[48] > med_width[192]
