"""Difference-in-differences, event study and engagement index.

References (published textbook values, not our own runs):

* Wooldridge, *Introductory Econometrics: A Modern Approach*, Example 13.3 (KIELMC, incinerator
  and house prices, repeated cross-sections 1978/1981): real price on nearinc, y81 and their
  interaction: delta = -11,863.90 (classical SE 7,456.65), n = 321; with the controls age, agesq,
  intst, land, area, rooms, baths: delta = -14,177.93 (4,987.27); log(price) with age, agesq,
  log(intst), log(land), log(area), rooms, baths: delta = -.132 (.052).
* Wooldridge, same book, Section 13.5 (JTRAIN, job-training grants, panel of 54 firms with scrap
  rates in 1987 and 1988): first-differenced equation  d.log(scrap) = -.057 - .317 d.grant,
  SEs (.097) (.164), n = 54. With two periods, unit fixed effects equal first differences, so
  our panel estimator (unit effects absorbed, classical SE) must give -.317 (.164).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rm_analytics.errors import InsufficientDataError
from rm_analytics.metrics.engagement import (
    difference_in_differences,
    engagement_index,
    event_study,
    pilot_engagement,
)
from rm_analytics.results import ESTIMATE_COLUMNS

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def kielmc():
    return pd.read_csv(DATA / "kielmc.csv.bz2")


@pytest.fixture(scope="module")
def jtrain():
    j = pd.read_csv(DATA / "jtrain_8788.csv")
    j["grant88"] = j.fcode.map(j[j.year == 1988].set_index("fcode").grant)
    return j


def test_did_repeated_cross_section_wooldridge_13_3(kielmc):
    r = difference_in_differences(
        kielmc, outcome="rprice", group="nearinc", period="y81", cov_type="classical"
    )
    s = r.summary.iloc[0]
    assert s.estimate == pytest.approx(-11863.90, abs=0.01)
    assert s.se == pytest.approx(7456.65, abs=0.01)
    assert s.n == 321
    # the estimate is the difference of the four cell means
    c = r.cells_.set_index(["group", "period"])["mean"]
    dd = (c["treated", "post"] - c["treated", "pre"]) - (c["control", "post"] - c["control", "pre"])
    assert s.estimate == pytest.approx(dd)
    coefs = r.coefs_.set_index("term")
    assert coefs.loc["intercept", "estimate"] == pytest.approx(82517.23, abs=0.01)
    assert coefs.loc["post", "se"] == pytest.approx(4050.07, abs=0.01)


def test_did_with_covariates_wooldridge_13_3(kielmc):
    cov = ["age", "agesq", "intst", "land", "area", "rooms", "baths"]
    r = difference_in_differences(
        kielmc,
        outcome="rprice",
        group="nearinc",
        period="y81",
        covariates=cov,
        cov_type="classical",
    )
    assert r.summary.estimate.iloc[0] == pytest.approx(-14177.93, abs=0.01)
    assert r.summary.se.iloc[0] == pytest.approx(4987.27, abs=0.01)
    cov = ["age", "agesq", "lintst", "lland", "larea", "rooms", "baths"]
    r = difference_in_differences(
        kielmc,
        outcome="lprice",
        group="nearinc",
        period="y81",
        covariates=cov,
        cov_type="classical",
    )
    assert r.summary.estimate.iloc[0] == pytest.approx(-0.132, abs=0.0005)
    assert r.summary.se.iloc[0] == pytest.approx(0.052, abs=0.0005)


def test_did_panel_wooldridge_jtrain(jtrain):
    j = jtrain.dropna(subset=["lscrap"])
    r = difference_in_differences(
        j,
        outcome="lscrap",
        group="grant88",
        period="year",
        post=1988,
        unit="fcode",
        cov_type="classical",
    )
    s = r.summary.iloc[0]
    assert s.estimate == pytest.approx(-0.317, abs=0.0005)
    assert s.se == pytest.approx(0.164, abs=0.0005)
    assert s.df == 52  # = 54 firms - 2 parameters of the differenced equation
    assert s.n == 108 and s.n_units == 54
    # pooled OLS on the balanced panel gives the same point estimate (saturated model)
    balanced = j[j.fcode.map(j.fcode.value_counts()) == 2]
    r2 = difference_in_differences(
        balanced,
        outcome="lscrap",
        group="grant88",
        period="year",
        post=1988,
        unit="fcode",
        unit_effects=False,
    )
    assert r2.summary.estimate.iloc[0] == pytest.approx(s.estimate)


def test_cluster_robust_matches_statsmodels(kielmc):
    import statsmodels.formula.api as smf

    m = smf.ols("rprice ~ nearinc * y81", kielmc).fit(
        cov_type="cluster", cov_kwds={"groups": kielmc.nbh}
    )
    r = difference_in_differences(
        kielmc, outcome="rprice", group="nearinc", period="y81", cluster="nbh", cov_type="cluster"
    )
    s = r.summary.iloc[0]
    assert s.se == pytest.approx(m.bse["nearinc:y81"], rel=1e-10)
    assert s.n_clusters == kielmc.nbh.nunique()
    assert s.df == kielmc.nbh.nunique() - 1  # few clusters: t(G-1)
    assert "t(" in s.method and any("clusters" in n for n in r.notes)
    hc1 = smf.ols("rprice ~ nearinc * y81", kielmc).fit(cov_type="HC1")
    r = difference_in_differences(kielmc, outcome="rprice", group="nearinc", period="y81")
    assert r.summary.se.iloc[0] == pytest.approx(hc1.bse["nearinc:y81"], rel=1e-10)


def test_wild_bootstrap_is_seeded_and_says_so(kielmc):
    kw = dict(
        outcome="rprice",
        group="nearinc",
        period="y81",
        cluster="nbh",
        small_sample="wild",
        n_boot=999,
    )
    a = difference_in_differences(kielmc, **kw).summary.iloc[0]
    b = difference_in_differences(kielmc, **kw).summary.iloc[0]
    assert a.p_value == b.p_value and a.ci_low == b.ci_low
    assert "wild cluster bootstrap" in a.method and "webb" in a.method  # 7 clusters -> Webb
    assert a.ci_low < a.estimate < a.ci_high


def test_did_input_errors(kielmc):
    with pytest.raises(KeyError, match="nope"):
        difference_in_differences(kielmc, outcome="nope", group="nearinc", period="y81")
    with pytest.raises(ValueError, match="treated value"):
        difference_in_differences(
            kielmc, outcome="rprice", group="nearinc", period="y81", treated=7
        )
    with pytest.raises(ValueError, match="exactly two values"):
        difference_in_differences(kielmc, outcome="rprice", group="nbh", period="y81")
    with pytest.raises(InsufficientDataError, match="no control group"):
        difference_in_differences(
            kielmc[kielmc.nearinc == 1], outcome="rprice", group="nearinc", period="y81"
        )
    with pytest.raises(InsufficientDataError, match="both groups must be observed"):
        difference_in_differences(
            kielmc[(kielmc.nearinc == 1) | (kielmc.y81 == 0)],
            outcome="rprice",
            group="nearinc",
            period="y81",
        )
    with pytest.raises(ValueError, match="pre="):
        difference_in_differences(kielmc, outcome="rprice", group="nearinc", period="rooms", post=5)


def test_did_plot_and_html(kielmc):
    r = difference_in_differences(kielmc, outcome="rprice", group="nearinc", period="y81")
    ax = r.plot()
    assert len(ax.lines) == 3
    assert list(r.summary.columns[:6]) == ["metric", *ESTIMATE_COLUMNS]
    assert r.summary.metric.iloc[0] == "difference_in_differences"
    # the dashed counterfactual ends where the treated would be without the program: the
    # estimate below the treated's observed mean after
    treated, counterfactual = ax.lines[1].get_ydata(), ax.lines[2].get_ydata()
    assert treated[1] - counterfactual[1] == pytest.approx(r.summary.estimate.iloc[0])
    assert "Difference-in-differences" in r._repr_html_()


def test_engagement_index_min_items():
    sv = pd.DataFrame(
        {
            "respondent_id": ["a"] * 5 + ["b"] * 2 + ["c"] * 3,
            "survey": "engagement",
            "wave": "w1",
            "item": [
                "eng1",
                "eng2",
                "eng3",
                "eng4",
                "eng5",
                "eng1",
                "eng2",
                "eng1",
                "eng2",
                "eng3",
            ],
            "value": [5, 4, 3, 4, 4, 2, 2, 1, np.nan, 3],
        }
    )
    out = engagement_index(sv).set_index("respondent_id")
    assert out.loc["a", "index"] == pytest.approx(4.0) and out.loc["a", "n_items"] == 5
    assert np.isnan(out.loc["b", "index"]) and out.loc["b", "n_items"] == 2  # 2 < 3 items
    assert np.isnan(out.loc["c", "index"]) and out.loc["c", "n_items"] == 2  # a blank answer
    out = engagement_index(sv, min_items=2).set_index("respondent_id")
    assert out.loc["c", "index"] == pytest.approx(2.0)


def _sim_panel(rng, n_per_group, delta, *, rho_person=0.5, balanced=True):
    n = 2 * n_per_group
    person = np.repeat(np.arange(n), 2)
    d = np.repeat((np.arange(n) < n_per_group).astype(int), 2)
    post = np.tile([0, 1], n)
    mu = rng.normal(0, 1, n)[person] * rho_person
    y = 3 + 0.3 * d + 0.1 * post + delta * d * post + mu + rng.normal(0, 0.6, 2 * n)
    df = pd.DataFrame({"id": person, "d": d, "post": post, "y": y})
    if not balanced:
        df = df[rng.random(len(df)) < 0.85]
    return df


@pytest.mark.slow
def test_did_ci_coverage_simulation():
    """Known truth delta = 0.25: 95% CIs should cover about 95% of the time (panel with
    clustering by person, and repeated cross-sections with HC1), and the estimator is unbiased."""
    rng = np.random.default_rng(7)
    reps, delta = 400, 0.25
    hits_p = hits_x = 0
    est = []
    for _ in range(reps):
        df = _sim_panel(rng, 30, delta, balanced=False)
        s = difference_in_differences(
            df, outcome="y", group="d", period="post", unit="id"
        ).summary.iloc[0]
        hits_p += s.ci_low <= delta <= s.ci_high
        est.append(s.estimate)
        x = _sim_panel(rng, 40, delta)
        x = x[x.post.eq(x.id % 2)]  # each person answers once: repeated cross-sections
        s = difference_in_differences(x, outcome="y", group="d", period="post").summary.iloc[0]
        hits_x += s.ci_low <= delta <= s.ci_high
    # binomial sd of a coverage estimate at 400 reps is about 0.011 (bounds ~ 2.7 sd; a
    # 1,500-rep run of the cross-section design gave 0.955)
    assert 0.92 <= hits_p / reps <= 0.98
    assert 0.92 <= hits_x / reps <= 0.98
    assert abs(np.mean(est) - delta) < 0.02


@pytest.mark.slow
def test_wild_bootstrap_coverage_few_clusters():
    """Eight clusters (e.g. departments), cluster-level shocks: the wild bootstrap keeps
    coverage near nominal where the normal reference would under-cover."""
    rng = np.random.default_rng(11)
    reps, delta, hits = 150, 0.3, 0
    for _ in range(reps):
        g = np.repeat(np.arange(8), 40)
        d = (g < 4).astype(int)
        post = rng.integers(0, 2, len(g))
        y = delta * d * post + rng.normal(0, 0.4, 8)[g] * post + rng.normal(0, 1, len(g))
        df = pd.DataFrame({"y": y, "d": d, "post": post, "g": g})
        s = difference_in_differences(
            df,
            outcome="y",
            group="d",
            period="post",
            cluster="g",
            small_sample="wild",
            n_boot=399,
        ).summary.iloc[0]
        hits += s.ci_low <= delta <= s.ci_high
    assert 0.88 <= hits / reps <= 0.99


def test_event_study_detects_pretrend_and_passes_without():
    rng = np.random.default_rng(3)
    n = 150
    rows = []
    for trend in (0.0, 0.4):
        person = np.repeat(np.arange(2 * n), 4)
        d = (person < n).astype(int)
        e = np.tile([-3, -2, -1, 0], 2 * n)
        y = rng.normal(0, 1, 2 * n)[person] + d * trend * (e + 1) + 0.5 * d * (e == 0)
        y = y + rng.normal(0, 0.3, len(y))
        df = pd.DataFrame({"y": y, "d": d, "e": e, "id": person})
        r = event_study(df, outcome="y", group="d", event_time="e", unit="id")
        rows.append(r)
    flat, trending = rows
    assert flat.pretrend_.p_value.iloc[0] > 0.01
    assert trending.pretrend_.p_value.iloc[0] < 1e-6
    e0 = flat.summary.set_index("event_time").loc[0]
    assert abs(e0.estimate - 0.5) < 4 * e0.se  # unbiasedness; coverage checked below
    assert flat.summary.set_index("event_time").loc[-1, "estimate"] == 0
    assert list(flat.summary.columns[:3]) == ["metric", "event_time", "estimate"]
    ax = flat.plot()  # one point per event time, the reference at 0
    points = ax.get_lines()[0]
    assert points.get_xdata().tolist() == [-3, -2, -1, 0]
    assert points.get_ydata()[2] == 0


@pytest.mark.slow
def test_event_study_coverage_simulation():
    rng = np.random.default_rng(0)
    n, reps, hits, est = 60, 300, 0, []
    for _ in range(reps):
        person = np.repeat(np.arange(2 * n), 4)
        d = (person < n).astype(int)
        e = np.tile([-3, -2, -1, 0], 2 * n)
        y = rng.normal(0, 1, 2 * n)[person] + 0.5 * d * (e == 0) + rng.normal(0, 0.3, len(e))
        df = pd.DataFrame({"y": y, "d": d, "e": e, "id": person})
        s = event_study(df, outcome="y", group="d", event_time="e", unit="id").summary
        s = s.set_index("event_time").loc[0]
        hits += s.ci_low <= 0.5 <= s.ci_high
        est.append(s.estimate)
    assert 0.92 <= hits / reps <= 0.98
    assert abs(np.mean(est) - 0.5) < 0.02


def test_pilot_engagement_recovers_truth(synthetic_sample):
    pilot = synthetic_sample.to_pilot()
    r = pilot_engagement(pilot)
    truth = synthetic_sample.truth["engagement_index_shift"]
    row = r.row(metric="engagement_index", role="both")
    assert row.ci_low <= truth <= row.ci_high
    assert set(r.summary.role) == {"mentor", "mentee", "both"}
    assert set(r.summary.metric) == {"engagement_index", "retention_intent"}
    assert list(r.waves_.baseline.astype(str)) == ["2024-08-12", "2025-08-11", "2026-02-09"]
    # cohort C03 is still running: no wave after its end yet, so it is left out
    assert list(r.waves_.followup.astype(str)) == ["2025-08-11", "2026-08-10", "None"]
    assert any("C03: no engagement wave after the end yet" in n for n in r.notes)
    assert r.event_study_ is not None and len(r.event_study_.pretrend_) == 1
    assert (pilot.quality.check == "answers in the difference-in-differences").any()
    ax = r.plot()  # one point per outcome and role, at its estimate
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:3] == [
        "engagement_index (mentor)",
        "engagement_index (mentee)",
        "engagement_index (all)",
    ]
    assert ax.get_lines()[0].get_xdata()[2] == pytest.approx(row.estimate)
    # no ids in the sponsor-facing summary
    assert not r.summary.astype(str).apply(lambda c: c.str.contains("E0")).any().any()


@pytest.mark.slow
def test_pilot_engagement_recovery_over_seeds():
    """Across synthetic organisations, the estimate is centred on the realised index shift and
    the 95% CI covers it in most draws (8 draws: expect about 7-8)."""
    from rm_analytics.data.synthetic import generate

    errs, hits = [], 0
    for seed in range(8):
        s = generate(seed=seed, n_employees=1500, pairs_per_cohort=15, n_cohorts=2)
        r = pilot_engagement(s.to_pilot(), event_study_check=False)
        row = r.row(metric="engagement_index", role="both")
        truth = s.truth["engagement_index_shift"]
        errs.append(row.estimate - truth)
        hits += row.ci_low <= truth <= row.ci_high
    assert abs(np.mean(errs)) < 0.08
    assert hits >= 6


def test_pilot_engagement_unknown_wave(synthetic_sample):
    with pytest.raises(ValueError, match="no engagement wave"):
        pilot_engagement(synthetic_sample.to_pilot(), baseline="1999-01-01")


def test_pilot_engagement_min_cell_size_is_deprecated(synthetic_sample):
    """Suppression moved to the report's privacy policy: the old argument warns and every row
    keeps its estimate with its people (n_treated, n_control)."""
    with pytest.warns(DeprecationWarning, match="min_cell_size is deprecated"):
        r = pilot_engagement(synthetic_sample.to_pilot(), min_cell_size=30, event_study_check=False)
    row = r.row(metric="engagement_index", role="mentor")
    assert np.isfinite(row.estimate) and row.n_treated < 30


# -- CR2 with Satterthwaite degrees of freedom (clubSandwich) ----------------------------------
def _noise(i):
    i = np.asarray(i)
    return ((i * 7919 + 13) % 101) / 101 - 0.5 + ((i * 104729 + 7) % 37) / 37 - 0.5


def _teams_cross_section():
    """Repeated cross-sections of 12 teams, 3 of them treated, unequal team sizes."""
    rows = [
        (team, int(team < 3), post)
        for team in range(12)
        for post in (0, 1)
        for _ in range(3 + (team * 5 + post) % 4)
    ]
    d = pd.DataFrame(rows, columns=["team", "treated", "post"])
    d["i"] = np.arange(len(d))
    d["x"] = ((d.i * 31) % 17) / 17
    d["y"] = 3 + 0.3 * d.treated + 0.2 * d.post + 0.1 * (d.team % 5) + 0.5 * d.x + _noise(d.i)
    return d


def _teams_panel():
    """People nested in 12 teams (3 treated), before and after; every 7th person (from the
    4th) missed the follow-up."""
    rows, pid = [], 0
    for team in range(12):
        for _ in range(2 + team % 3):
            rows += [
                (team, int(team < 3), post, pid)
                for post in (0, 1)
                if not (post == 1 and pid % 7 == 3)
            ]
            pid += 1
    d = pd.DataFrame(rows, columns=["team", "treated", "post", "person"])
    d["i"] = np.arange(len(d))
    d["y"] = 3 + 0.2 * d.post + 0.15 * (d.person % 4) + 0.1 * (d.team % 5) + _noise(d.i)
    return d


def _big_teams():
    """6 teams of 65 to 135 answers (2 treated): the large-cluster path."""
    rows = [
        (team, int(team < 2), post)
        for team in range(6)
        for post in (0, 1)
        for _ in range(30 + 7 * team + 5 * post)
    ]
    d = pd.DataFrame(rows, columns=["team", "treated", "post"])
    d["i"] = np.arange(len(d))
    d["y"] = 3 + 0.2 * d.post + 0.1 * (d.team % 5) + _noise(d.i)
    return d


# R 4.2.2, clubSandwich 0.5.8, on the frames above written to CSV (cs, pn, bg):
#   ct <- coef_test(fit, vcov = "CR2", cluster = <cluster>, test = "Satterthwaite")
#   (beta, SE, df_Satt, p_Satt of the interaction)
CR2_R = {
    # lm(y ~ treated * post, data = cs), cluster = cs$team
    "cross-section": (-0.1119768737, 0.0906909873, 3.3131929807, 0.2972751369),
    # lm(y ~ treated * post + x, data = cs), cluster = cs$team
    "cross-section + x": (-0.1284452397, 0.0959861372, 3.3195101352, 0.2651304745),
    # lm(y ~ post + treated:post + factor(person), data = pn), cluster = pn$team
    "panel, unit effects, team clusters": (
        -0.1630434783,
        0.3268546081,
        3.1732872163,
        0.6504439848,
    ),
    # the same, cluster = pn$person
    "panel, unit effects, person clusters": (
        -0.1630434783,
        0.2930387574,
        12.2450769485,
        0.5879690046,
    ),
    # lm(y ~ treated * post, data = pn), cluster = pn$team
    "panel, pooled": (-0.1315681184, 0.2924030558, 3.2091641534, 0.6814148950),
    # lm(y ~ treated * post, data = bg), cluster = bg$team
    "large clusters": (-0.0078981785, 0.0161441197, 1.6724052623, 0.6811976768),
}


def _cr2_case(name):
    kw = dict(outcome="y", group="treated", period="post")
    if name.startswith("cross-section"):
        x = ["x"] if name.endswith("x") else None
        return difference_in_differences(_teams_cross_section(), cluster="team", covariates=x, **kw)
    if name == "large clusters":
        return difference_in_differences(_big_teams(), cluster="team", **kw)
    pn = _teams_panel()
    if name == "panel, pooled":
        return difference_in_differences(
            pn, unit="person", unit_effects=False, cluster="team", **kw
        )
    cl = "team" if "team clusters" in name else None
    return difference_in_differences(pn, unit="person", cluster=cl, **kw)


@pytest.mark.parametrize("name", list(CR2_R))
def test_cr2_satterthwaite_is_the_default_and_matches_clubsandwich(name):
    r = _cr2_case(name)
    s = r.summary.iloc[0]
    beta, se, df, p = CR2_R[name]
    assert s.estimate == pytest.approx(beta, abs=1e-9)
    assert s.se == pytest.approx(se, abs=1e-9)
    assert s.df == pytest.approx(df, abs=1e-7)
    assert s.p_value == pytest.approx(p, abs=1e-8)
    assert "CR2" in s.method and "Satterthwaite" in s.method
    # the notes name the clusters with treated and with control observations
    assert any("with treated observations" in n and "with control" in n for n in r.notes)


def test_htz_joint_test_matches_clubsandwich():
    """R: Wald_test(lm(y ~ treated * post + x, data = cs), constraints = constrain_zero(
    c("treated:post", "x")), vcov = "CR2", cluster = cs$team, test = "HTZ")
    -> F 18.1082187901, df_denom 5.1166187796, p 0.0047731919; with c("treated", "post",
    "treated:post"): F 15.5077588308, df_denom 2.3841364687, p 0.0425039984."""
    from rm_analytics.stats.ols import fit_ols

    cs = _teams_cross_section()
    X = np.column_stack([np.ones(len(cs)), cs.treated, cs.post, cs.treated * cs.post, cs.x])
    names = ["intercept", "treated", "post", "treated:post", "x"]
    fit = fit_ols(cs.y.to_numpy(), X, names, cluster=cs.team.to_numpy())
    w = fit.wald(["treated:post", "x"])
    assert (w["statistic"], w["df2"], w["p_value"]) == (
        pytest.approx(18.1082187901, abs=1e-8),
        pytest.approx(5.1166187796, abs=1e-8),
        pytest.approx(0.0047731919, abs=1e-9),
    )
    w3 = fit.wald(["treated", "post", "treated:post"])
    assert (w3["statistic"], w3["df2"], w3["p_value"]) == (
        pytest.approx(15.5077588308, abs=1e-8),
        pytest.approx(2.3841364687, abs=1e-8),
        pytest.approx(0.0425039984, abs=1e-9),
    )


def test_too_few_clusters_give_no_p_value_by_any_method():
    """Two teams (one treated): CR1 gave a standard error of ~1e-15 and p ~1e-13. Now the
    estimate comes without a standard error, interval or p-value, whatever the method, with
    a note, and the wild bootstrap is not run on the degenerate case (no RuntimeWarning)."""
    import warnings

    d = _teams_cross_section()
    two = d[d.team.isin([0, 5])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for kw in ({}, {"small_sample": "t"}, {"small_sample": "wild", "n_boot": 199}):
            r = difference_in_differences(
                two, outcome="y", group="treated", period="post", cluster="team", **kw
            )
            s = r.summary.iloc[0]
            assert np.isfinite(s.estimate)
            assert np.isnan(s.se) and np.isnan(s.ci_low) and np.isnan(s.p_value)
            assert any(
                "No standard error, interval or p-value" in n and "here 1 and 1" in n
                for n in r.notes
            )
        # four teams, two treated: inference (wide), and no warning from the bootstrap
        four = d[d.team.isin([0, 1, 5, 6])]
        r = difference_in_differences(
            four,
            outcome="y",
            group="treated",
            period="post",
            cluster="team",
            small_sample="wild",
            n_boot=199,
        )
        assert np.isfinite(r.summary.p_value.iloc[0])
        r = difference_in_differences(
            four, outcome="y", group="treated", period="post", cluster="team"
        )
        s = r.summary.iloc[0]
        assert np.isfinite(s.p_value) and s.df < 3


def test_cr1_and_wild_bootstrap_stay_available():
    d = _teams_cross_section()
    kw = dict(outcome="y", group="treated", period="post", cluster="team")
    cr1 = difference_in_differences(d, cov_type="cluster", **kw).summary.iloc[0]
    assert "CR1" in cr1.method and cr1.df == 11
    wild = difference_in_differences(d, small_sample="wild", n_boot=399, **kw).summary.iloc[0]
    assert "wild cluster bootstrap" in wild.method
    cr2 = difference_in_differences(d, **kw).summary.iloc[0]
    assert cr2.se > cr1.se * 0.9 and cr2.df < 4
