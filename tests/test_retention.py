"""Behaviour of the retention analysis: contract, small-sample honesty, pilot frames, matching,
known truth (synthetic organisation) and simulation coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rm_analytics.metrics.retention import (
    FRAME_COLUMNS,
    SUMMARY_COLUMNS,
    cohort_frame,
    compare_retention,
    cox_efron,
    km_table,
    pilot_retention,
    rmst_survrm2,
)


def _two_groups(rng, n=60, hr=0.6, follow=24.0, base=0.02):
    trt = np.r_[np.ones(n), np.zeros(n)]
    t = rng.exponential(1 / (base * np.where(trt == 1, hr, 1.0)))
    c = rng.uniform(follow / 2, follow, 2 * n)
    return pd.DataFrame({"months": np.minimum(t, c), "left": (t <= c).astype(int), "grp": trt})


def test_summary_contract_and_attrition_at():
    d = _two_groups(np.random.default_rng(1))
    res = compare_retention(d, duration="months", event="left", group="grp", horizons=[6, 12])
    s = res.summary
    assert list(s.columns) == SUMMARY_COLUMNS
    assert set(s.metric) == {
        "hazard_ratio",
        "logrank",
        "retention",
        "attrition",
        "cumulative_incidence",
        "rmst",
        "rmst_difference",
        "exact_test",
    }
    assert set(s.group) == {"treated", "control", "treated vs control"}
    ret = res.row(metric="retention", group="treated", horizon=12)
    att = res.row(metric="attrition", group="treated", horizon=12)
    assert att.estimate == pytest.approx(1 - ret.estimate)
    assert att.ci_low == pytest.approx(1 - ret.ci_high)
    a = res.attrition_at(12)
    assert set(a) == {
        "treated",
        "control",
        "difference",
        "se_difference",
        "ci_low",
        "ci_high",
        "p_value",
        "p_method",
        "ci_method",
        "n_treated",
        "n_control",
    }
    assert a["difference"] == pytest.approx(a["control"] - a["treated"])
    assert a["ci_low"] < a["difference"] < a["ci_high"]
    assert a["n_treated"] == 60
    assert np.isnan(res.row(metric="hazard_ratio").horizon)
    assert res.to_dict()["summary"]
    assert "<table" in res._repr_html_()


def test_zero_leavers_in_treated_gives_no_hazard_ratio():
    rng = np.random.default_rng(2)
    d = _two_groups(rng, n=12)
    d.loc[d.grp == 1, "left"] = 0  # nobody left among participants
    res = compare_retention(d, duration="months", event="left", group="grp", horizons=[12])
    hr = res.row(metric="hazard_ratio")
    assert np.isnan(hr.estimate) and np.isnan(hr.ci_low) and np.isnan(hr.p_value)
    assert any("No hazard ratio" in n and "treated" in n for n in res.notes)
    lr = res.row(metric="logrank")
    assert np.isfinite(lr.estimate) and 0 <= lr.p_value <= 1
    ex = res.row(metric="exact_test", horizon=12)
    assert 0 <= ex.p_value <= 1 and ex.n > 0
    assert res.row(metric="retention", group="treated", horizon=12).estimate == 1.0
    assert res.cox_ is None


def test_few_events_not_adjusted_and_bad_input_errors():
    d = _two_groups(np.random.default_rng(3), n=15).assign(
        x=lambda f: pd.Categorical(np.arange(len(f)) % 4)
    )
    assert d.left.sum() < 5 * 4  # fewer than 5 events per parameter (treated + 3 dummies)
    res = compare_retention(
        d, duration="months", event="left", group="grp", covariates=["x"], horizons=[12]
    )
    assert any("not adjusted for x" in n for n in res.notes)
    assert res.cox_ is not None and res.cox_.coef.size == 1
    with pytest.raises(KeyError, match="nope"):
        compare_retention(d, duration="nope", event="left", group="grp")
    with pytest.raises(ValueError, match="0/1"):
        compare_retention(d.assign(left=2), duration="months", event="left", group="grp")
    with pytest.raises(ValueError, match="no treated"):
        compare_retention(d, duration="months", event="left", group="grp", treated=7)


def test_sample_pilot_frame(sample_pilot):
    frame = cohort_frame(sample_pilot, control="designated")
    assert list(frame.columns) == FRAME_COLUMNS
    assert not frame.duplicated(["employee_id", "treated"]).any()
    assert set(frame.exit_type) <= {"voluntary", "involuntary", "other", "none"}
    assert (frame.event == (frame.exit_type == "voluntary")).all()
    assert (frame.duration >= 0).all()
    # months = days / 30.4375
    days = (frame.end_date - frame.index_date).dt.days
    np.testing.assert_allclose(frame.duration, days / 30.4375)
    assert frame.attrs["as_of"] == "2026-09-30"  # latest date in the sample's tables
    q = sample_pilot.quality
    assert (q.check == "left before index date").any()
    assert frame.treated.sum() == 36  # 3 cohorts of 12 mentors (C03 still running)


def test_exclusions_are_logged():
    from rm_analytics.data.synthetic import generate

    data = generate(seed=7)
    tables = {k: v.copy() for k, v in data.tables.items()}
    emp, cohorts = tables["employees"], tables["cohorts"]
    start = pd.Timestamp(cohorts.start_date.iloc[0])
    ctrl_id = tables["control"].employee_id.iloc[0]
    m = emp.employee_id == ctrl_id
    emp.loc[m, "termination_date"] = (start - pd.Timedelta(days=10)).strftime("%Y-%m-%d")
    emp.loc[m, "termination_type"] = "voluntary"
    from rm_analytics.data.pilot import Pilot

    p = Pilot.from_frames(today="2026-09-30", **tables)
    frame = cohort_frame(p, control="designated")
    assert ctrl_id not in set(frame.employee_id)
    q = p.quality.set_index("check")
    assert q.loc["control left before index date", "rows"] == 1
    assert any("excluded" in n for n in frame.attrs["notes"])


def test_matching_balance_on_sample(sample_pilot):
    res = pilot_retention(sample_pilot, control="matched")
    bal = res.balance_
    assert list(bal.columns[:1]) == ["metric"]
    assert {"smd_before", "smd_after", "balanced"} <= set(bal.columns)
    bad = bal.loc[bal.smd_after.abs() >= 0.1, "metric"].tolist()
    if bad:  # the result must say which covariates are not balanced
        assert any(all(b in n for b in bad) and "Not balanced" in n for n in res.notes)
    else:
        assert any("Every covariate is balanced" in n for n in res.notes)
    # matching improves the worst imbalance and the matched sets feed the cluster variance
    assert bal.smd_after.abs().max() < bal.smd_before.abs().max()
    assert res.frame_.match_set.notna().all()
    assert res.cox_ is None or res.cox_.robust
    assert res.row(metric="logrank").n == len(res.frame_)


def test_exact_matching_on_department(sample_pilot):
    """Controls share their participant's department; the departments balance exactly and a
    participant without a control in their department is counted, not silently dropped."""
    res = pilot_retention(
        sample_pilot, control="matched", population="mentee", exact=("department",)
    )
    f = res.frame_
    dept_of_set = f.loc[f.treated == 1].set_index("match_set").department.astype(str)
    ctrl = f.loc[f.treated == 0]
    assert len(ctrl) > 0
    assert (
        ctrl.department.astype(str).to_numpy() == ctrl.match_set.map(dept_of_set).to_numpy()
    ).all()
    bal = res.balance_.set_index("metric")
    dept = bal.loc[bal.index.str.startswith("department=")]
    assert np.allclose(dept.smd_after, 0)
    # without a caliper or exact cells every participant finds controls: that is the total
    everyone = cohort_frame(sample_pilot, control="matched", population="mentee", caliper=None)
    left_out = int(everyone.treated.sum() - f.treated.sum())
    assert not any("had no control" in n for n in everyone.attrs["notes"])
    assert left_out > 0  # the sample's small departments leave some mentees without a control
    assert any(
        f"{left_out} participant(s) had no control" in n and "same department" in n
        for n in res.notes
    )
    with pytest.raises(ValueError, match="nearest"):
        pilot_retention(sample_pilot, control="ipw", population="mentee", exact=("department",))


def test_plots(sample_pilot):
    import matplotlib.pyplot as plt

    res = pilot_retention(sample_pilot)
    ax = res.plot()
    assert ax.get_xlabel().startswith("Months")
    assert any("Log-rank p" in t.get_text() for t in ax.texts)
    assert any(t.get_text() == "Number at risk" for t in ax.texts)
    assert res.plot_cumulative_incidence().get_ylabel().startswith("Cumulative incidence")
    fig, ax2 = plt.subplots()
    assert res.plot(ax=ax2) is ax2
    # the same figure on the axes given: one legend entry per group
    labels = ax2.get_legend_handles_labels()[1]
    assert len(labels) == 2 and labels == ax.get_legend_handles_labels()[1]
    m = pilot_retention(sample_pilot, control="matched")
    love = m.matching_.plot()  # a Love plot: before (open) and after (filled), one row each
    bal = m.balance_
    before, after = (c.get_offsets() for c in love.collections[:2])
    assert len(before) == len(after) == len(bal)
    assert list(after[:, 0])[::-1] == pytest.approx(bal.smd_after.tolist())
    assert [t.get_text() for t in love.get_yticklabels()][::-1] == bal.metric.tolist()
    plt.close("all")


def test_matching_scales_to_100k_candidates():
    import time

    from rm_analytics.metrics.matching import match_controls

    rng = np.random.default_rng(0)
    n = 100_000
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "dept": pd.Categorical(rng.choice(list("ABCDEFGH"), n)),
            "cohort": rng.choice(["c1", "c2", "c3"], n),
            "id": np.arange(n),
        }
    )
    p = 1 / (1 + np.exp(-(-6 + 0.8 * df.x)))
    df["treated"] = (rng.random(n) < p).astype(int)
    t0 = time.perf_counter()
    res = match_controls(df, covariates=["x", "dept"], ratio=2, block="cohort", unit="id")
    assert time.perf_counter() - t0 < 20
    m = res.matched_
    assert not m.id.duplicated().any()
    assert res.summary.set_index("metric").loc["x", "smd_after"] < 0.1


@pytest.mark.slow
def test_synthetic_large_pilot_recovers_mentor_hazard_ratio():
    from rm_analytics.data.synthetic import generate

    data = generate(n_employees=30_000, n_cohorts=4, pairs_per_cohort=200, seed=11)
    p = data.to_pilot()
    res = pilot_retention(p, control="designated")
    hr = res.row(metric="hazard_ratio")
    truth = data.truth["hazard_ratio_voluntary_mentors"]
    assert hr.ci_low < truth < hr.ci_high
    assert abs(np.log(hr.estimate) - np.log(truth)) < 0.25


@pytest.mark.slow
def test_simulation_coverage_and_rmst_unbiased():
    """Exponential model with known truth: HR 0.6, 150 per group, uniform censoring."""
    rng = np.random.default_rng(20250113)
    reps, n, hr, lam, tau = 1000, 150, 0.6, 0.05, 12.0
    trt = np.r_[np.ones(n), np.zeros(n)]
    rate = lam * np.where(trt == 1, hr, 1.0)
    true_rmst = (1 - np.exp(-rate[[0, -1]] * tau)) / rate[[0, -1]]
    true_diff = true_rmst[0] - true_rmst[1]
    cover, diffs, ses = 0, [], []
    z = 1.959963984540054
    for _ in range(reps):
        t = rng.exponential(1 / rate)
        c = rng.uniform(12, 36, 2 * n)
        y, e = np.minimum(t, c), (t <= c).astype(float)
        f = cox_efron(y, e, trt[:, None])
        b, se = f.coef[0], f.se[0]
        cover += (b - z * se) <= np.log(hr) <= (b + z * se)
        r1, s1 = rmst_survrm2(km_table(y[trt == 1], e[trt == 1]), tau)
        r0, s0 = rmst_survrm2(km_table(y[trt == 0], e[trt == 0]), tau)
        diffs.append(r1 - r0)
        ses.append(np.hypot(s1, s0))
    coverage = cover / reps
    assert 0.93 <= coverage <= 0.97, coverage
    diffs = np.array(diffs)
    mc_se = diffs.std(ddof=1) / np.sqrt(reps)
    assert abs(diffs.mean() - true_diff) < 3 * mc_se
    # survRM2's SE tracks the spread of the estimates
    assert np.mean(ses) == pytest.approx(diffs.std(ddof=1), rel=0.1)


def test_no_exit_group_gets_exact_lower_limit_and_mover_difference():
    """With no exit by the horizon the Greenwood interval collapses to [1, 1]; the group gets
    the exact lower limit on those followed, and the difference interval (MOVER) keeps the
    nominal coverage where Wald on the Greenwood SEs under-covers (simulation, known truth)."""
    import types

    from rm_analytics.metrics.retention import RetentionResult, km_at, km_table
    from rm_analytics.stats.intervals import normal_ci

    tab = km_table(np.full(24, 18.0), np.zeros(24))
    r = km_at(tab, [12.0])
    assert r["surv"][0] == 1 and r["ci_high"][0] == 1
    assert r["ci_low"][0] == pytest.approx(0.025 ** (1 / 24))  # Clopper-Pearson, 0 of 24

    rng = np.random.default_rng(11)
    truth = 0.10 - 0.04  # 12-month attrition, control minus participants
    cover = {"zero": [], "exits": [], "wald_where_zero": [], "exits_loglog": []}
    for _ in range(2000):
        n_t, n_c = 24, 48
        t = np.r_[
            rng.exponential(12 / -np.log(0.96), n_t), rng.exponential(12 / -np.log(0.90), n_c)
        ]
        c = rng.uniform(12, 24, n_t + n_c)
        d, e, g = np.minimum(t, c), (t <= c).astype(int), np.r_[np.ones(n_t), np.zeros(n_c)]
        fit = types.SimpleNamespace(
            arguments={"alpha": 0.05},
            km_={
                "treated": km_table(d[g == 1], e[g == 1]),
                "control": km_table(d[g == 0], e[g == 0]),
            },
        )
        a = RetentionResult.attrition_at(fit, 12)
        assert a["ci_method"] == "mover"
        zero = bool(np.sum(e[(g == 1) & (d <= 12)]) == 0)
        cover["zero" if zero else "exits"].append(a["ci_low"] <= truth <= a["ci_high"])
        if zero:
            lo, hi, _ = normal_ci(a["difference"], a["se_difference"])
            cover["wald_where_zero"].append(lo <= truth <= hi)
        else:
            fit.arguments["conf_type"] = "log-log"
            b = RetentionResult.attrition_at(fit, 12)
            cover["exits_loglog"].append(b["ci_low"] <= truth <= b["ci_high"])
    assert len(cover["zero"]) > 500  # participants often have no exit at all
    assert np.mean(cover["zero"]) >= 0.94
    # with a few exits among the participants the log-transformed group intervals (R's
    # default) are a little short: 92.5% here (Wald on Greenwood: 92.2%); log-log: 97.6%
    assert np.mean(cover["exits"]) >= 0.92
    assert np.mean(cover["exits_loglog"]) >= 0.95
    assert np.mean(cover["wald_where_zero"]) < 0.90  # what the plain Wald interval would give


def test_attrition_difference_p_value_and_interval_agree():
    """One method (MOVER on the groups' intervals, the p-value by inverting it) for both
    numbers: p < alpha exactly when the interval excludes 0, with or without a group without
    exits; with the 'plain' transform and exits in both groups it is Wald's z-test."""
    rng = np.random.default_rng(4)
    n_t, n_c = 30, 60
    dur = np.minimum(rng.exponential(30, n_t + n_c), 14.0)
    g = np.r_[np.ones(n_t), np.zeros(n_c)].astype(int)
    df = pd.DataFrame({"t": dur, "e": (dur < 14).astype(int), "g": g})
    plain = compare_retention(
        df, duration="t", event="e", group="g", horizons=[6, 12], conf_type="plain", ph_check=False
    )
    a = plain.attrition_at(12)
    assert a["ci_method"] == "mover" and a["p_method"] == "mover inversion"
    z = a["difference"] / a["se_difference"]
    assert a["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-6)
    lo, hi = a["difference"] + np.array([-1, 1]) * stats.norm.ppf(0.975) * a["se_difference"]
    assert (a["ci_low"], a["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))

    none_left = df.assign(e=np.where(df.g == 1, 0, df.e))
    for conf_type in ("log", "log-log", "plain"):
        for data in (df, none_left):
            res = compare_retention(
                data,
                duration="t",
                event="e",
                group="g",
                horizons=[6, 12],
                conf_type=conf_type,
                ph_check=False,
            )
            for h in (6, 12, 9):
                a0 = res.attrition_at(h)
                excludes = not a0["ci_low"] <= 0 <= a0["ci_high"]
                assert excludes == (a0["p_value"] < 0.05), (conf_type, h, a0)
                # the interval at level p touches 0
                from rm_analytics.stats.survival import mover_difference

                if 1e-12 < a0["p_value"] < 1:
                    b = mover_difference(
                        res.km_["treated"], res.km_["control"], h, a0["p_value"], conf_type
                    )
                    assert min(abs(b[0]), abs(b[1])) < 1e-8
                # the group intervals are those of the summary (the result's conf_type)
                r = res.row(metric="retention", group="control", horizon=h) if h != 9 else None
                if r is not None and a0["treated"] > 0:
                    s_t = res.row(metric="retention", group="treated", horizon=h)
                    assert a0["ci_low"] == pytest.approx(
                        a0["difference"]
                        - np.hypot(s_t.estimate - s_t.ci_low, r.ci_high - r.estimate)
                    )


def test_balance_without_matching_judges_the_groups_as_they_are():
    """A designated control is not matched: "balanced" reads |SMD| before, below 0.1."""
    from rm_analytics.metrics.matching import balance_table

    df = pd.DataFrame(
        {"treated": [1] * 50 + [0] * 50, "x": list(range(50)) + [v + 1.0 for v in range(50)]}
    )
    b = balance_table(df, treatment="treated", covariates=["x"]).iloc[0]
    assert abs(b.smd_before) < 0.1 and np.isnan(b.smd_after)
    assert bool(b.balanced)
    far = df.assign(x=df.x + df.treated * 20)
    assert not bool(balance_table(far, treatment="treated", covariates=["x"]).iloc[0].balanced)


def test_population_uses_the_role_names_of_every_other_analysis(sample_pilot):
    """``population="mentor"`` as everywhere else; the plural of version 0.1 still works."""
    res = pilot_retention(sample_pilot, population="mentor", horizons=(12,))
    assert res.arguments["population"] == "mentor"
    assert res.title.startswith("Retention of mentors")
    with pytest.warns(DeprecationWarning, match="population='mentors' is now population='mentor'"):
        old = pilot_retention(sample_pilot, population="mentors", horizons=(12,))
    pd.testing.assert_frame_equal(old.summary, res.summary)
    with pytest.raises(ValueError, match="population must be one of 'mentor', 'mentee', 'both'"):
        pilot_retention(sample_pilot, population="juniors")
