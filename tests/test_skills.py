"""Pre/post skills.

Hand-checked reference: R's ``sleep`` data (Cushny & Peebles; ``?sleep``), the extra sleep of
10 patients under drug 1 (taken as "pre") and drug 2 ("post").
``t.test(extra ~ group, data = sleep, paired = TRUE)`` gives t = -4.0621, df = 9,
p-value = 0.002833, mean difference -1.58, 95% CI -2.4598858 to -0.7001142 (drug 1 - drug 2;
our change is drug 2 - drug 1, so the signs flip). By hand: the differences are
1.2, 2.4, 1.3, 1.3, 0, 1.0, 1.8, 0.8, 4.6, 1.4 (sum 15.8, mean 1.58, SD 1.229995), so
cohen_dz = 1.58 / 1.229995 = 1.2846 (standardised by the SD of the differences) and
hedges_g_av = J * 1.58 / ((SD_pre + SD_post) / 2) with SD_pre = 1.789010, SD_post = 2.002249,
J = 0.913874891793 (Hedges' exact correction, R ``metafor:::.cmicalc(9)``; its approximation
1 - 3 / (4 * 9 - 1) = 0.914286), giving 0.76171 (standardised by the average SD).
``wilcox.test(..., paired = TRUE)`` on the same data: V = 0, p-value = 0.009091 (normal
approximation with continuity correction because of a zero and ties).
R's ``?wilcox.test`` depression example (Hollander & Wolfe): one-sided p = 0.01953, so
two-sided 0.0390625 (exact, no ties).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rm_analytics.metrics.skills import (
    hedges_j,
    pilot_skills,
    prepost,
    welch_difference,
    wilcoxon_signed_rank_p,
)
from rm_analytics.results import ESTIMATE_COLUMNS

DRUG1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
DRUG2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def _sleep():
    return pd.DataFrame(
        {"id": list(range(10)) * 2, "phase": ["pre"] * 10 + ["post"] * 10, "score": DRUG1 + DRUG2}
    )


def test_prepost_reproduces_paired_t_and_effect_sizes():
    s = prepost(_sleep(), id="id", phase="phase", score="score").summary.iloc[0]
    assert s.n == 10 and s.n_excluded == 0
    assert s.mean_change == pytest.approx(1.58) and s.estimate == pytest.approx(1.58)
    assert s.t == pytest.approx(4.0621, abs=5e-5)
    assert s.p_value == pytest.approx(0.002833, abs=5e-7)
    assert s.ci_low == pytest.approx(0.7001142, abs=1e-7)
    assert s.ci_high == pytest.approx(2.4598858, abs=1e-7)
    # d_z: mean difference / SD of the differences
    assert s.cohen_dz == pytest.approx(1.58 / 1.229995, abs=1e-5)
    # g_av: mean difference / mean of pre and post SDs, times Hedges' J (df = n - 1 = 9)
    j = 0.913874891793  # R: metafor:::.cmicalc(9)
    assert s.hedges_g_av == pytest.approx(j * 1.58 / ((1.789010 + 2.002249) / 2), abs=1e-5)
    assert s.wilcoxon_p == pytest.approx(0.009091, abs=5e-7)
    assert s.pct_improved == pytest.approx(90.0)  # 9 of 10 went up (one zero change)


def test_wilcoxon_exact_matches_r_example():
    x = np.array([1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30])
    y = np.array([0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29])
    assert wilcoxon_signed_rank_p(x - y) == pytest.approx(2 * 0.01953, abs=1e-4)


# R 4.2.2, wilcox.test(d)$p.value with its defaults (exact = NULL, correct = TRUE):
WILCOX_R = [
    ([0, 1.5, -0.5, 2, 3.5, 1, 2.5, 4], 0.0346105575157),  # a zero: normal approximation
    ([1, 1, 2, -0.5, 3, 2, 4, 5], 0.0205503016465),  # ties: normal approximation
    ([0.3, 1.5, -0.5, 2, 3.5, 1, 2.5, 4], 0.0234375),  # neither: exact
    ([0, 0, 1, 1, 2, -1, 3, 2, 0.5], 0.0733115879579),  # zeros and ties
    ([0, 2, 3], 0.371093369523),  # a zero among three
]


@pytest.mark.parametrize("d, ref", WILCOX_R)
def test_wilcoxon_follows_r_defaults_with_zeros_and_ties(d, ref):
    """A zero difference switches R to the normal approximation (with continuity
    correction), as ties do; the zero is dropped from the ranks."""
    assert wilcoxon_signed_rank_p(np.array(d)) == pytest.approx(ref, abs=1e-10)


def test_identical_changes_give_no_interval_and_say_why():
    """Every pair improved by exactly 1 point: R's t.test(d) stops ("data are essentially
    constant"); no zero-width interval, no t-test, no d_z, and a note."""
    df = pd.DataFrame(
        {
            "id": list(range(6)) * 2,
            "phase": ["pre"] * 6 + ["post"] * 6,
            "score": [2, 3, 3, 4, 2, 3] + [3, 4, 4, 5, 3, 4],
        }
    )
    r = prepost(df, id="id", phase="phase", score="score")
    s = r.summary.iloc[0]
    assert s.estimate == pytest.approx(1.0)
    assert np.isnan(s.ci_low) and np.isnan(s.ci_high) and np.isnan(s.p_value)
    assert np.isnan(s.t) and np.isnan(s.cohen_dz)
    assert any("changes are equal" in n and "no paired-t interval" in n for n in r.notes)
    # still a Wilcoxon p-value (ties: R wilcox.test(rep(1, 6))$p.value = 0.01965615725)
    assert s.wilcoxon_p == pytest.approx(0.01965615725, abs=1e-10)


def test_hedges_correction_exact_and_undefined_with_two_pairs():
    """Hedges' J as R's metafor:::.cmicalc(c(1, 2, 3, 9, 11)):
    NA 0.564189583548 0.723601254558 0.913874891793 0.929959809976. With 2 pairs g_av was 0
    for a clear change (J = 1 - 3 / (4 - 1) = 0); it is now NaN with a note."""
    ref = {2: 0.564189583548, 3: 0.723601254558, 9: 0.913874891793, 11: 0.929959809976}
    for df, j in ref.items():
        assert hedges_j(df) == pytest.approx(j, abs=1e-11)
    assert np.isnan(hedges_j(1))
    two = pd.DataFrame(
        {"id": [1, 2, 1, 2], "phase": ["pre", "pre", "post", "post"], "score": [3.0, 4.0, 5.0, 7.0]}
    )
    r = prepost(two, id="id", phase="phase", score="score")
    s = r.summary.iloc[0]
    assert np.isnan(s.hedges_g_av)
    assert any("at least 3 pairs" in n for n in r.notes)
    # R: t.test(c(5, 7), c(3, 4), paired = TRUE)$conf.int -> -3.853102 8.853102
    assert s.ci_low == pytest.approx(-3.853102, abs=1e-6)
    assert s.ci_high == pytest.approx(8.853102, abs=1e-6)
    three = pd.DataFrame(
        {
            "id": [1, 2, 3] * 2,
            "phase": ["pre"] * 3 + ["post"] * 3,
            "score": [3.0, 4.0, 2.0, 5.0, 7.0, 4.0],
        }
    )
    s3 = prepost(three, id="id", phase="phase", score="score").summary.iloc[0]
    sd_av = (np.std([3, 4, 2], ddof=1) + np.std([5, 7, 4], ddof=1)) / 2
    assert s3.hedges_g_av == pytest.approx(0.564189583548 * (7 / 3) / sd_av, abs=1e-10)


def test_prepost_excludes_incomplete_pairs_by_group_and_gain():
    df = _sleep()
    df["grp"] = np.where(df.id < 5, "a", "b")
    extra = pd.DataFrame(
        {"id": [99, 98], "phase": ["pre", "post"], "score": [1.0, 2.0], "grp": ["a", "b"]}
    )
    r = prepost(
        pd.concat([df, extra]),
        id="id",
        phase="phase",
        score="score",
        by="grp",
        scale=(-2, 6),
        mcid=1.0,
    )
    s = r.summary.set_index("grp")
    assert list(s.n) == [5, 5] and list(s.n_excluded) == [1, 1]
    assert any("excluded" in n for n in r.notes)
    a = s.loc["a"]
    pre, post = np.array(DRUG1[:5]), np.array(DRUG2[:5])
    assert a.normalized_gain == pytest.approx((post.mean() - pre.mean()) / (6 - pre.mean()))
    assert a.pct_improved == pytest.approx(100 * np.mean(post - pre >= 1.0))
    assert list(r.summary.columns[:7]) == ["metric", "grp", *ESTIMATE_COLUMNS]
    assert set(r.summary.metric) == {"change"}
    ax = r.plot()  # one point per group, at its mean change
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert ax.get_lines()[0].get_xdata().tolist() == pytest.approx(list(s.estimate))


def test_prepost_errors():
    df = _sleep()
    with pytest.raises(ValueError, match="other than"):
        prepost(df.assign(phase="mid"), id="id", phase="phase", score="score")
    with pytest.raises(ValueError, match="duplicate"):
        prepost(pd.concat([df, df]), id="id", phase="phase", score="score")
    with pytest.raises(KeyError, match="nope"):
        prepost(df, id="nope", phase="phase", score="score")


def test_welch_difference_matches_scipy():
    from scipy import stats

    rng = np.random.default_rng(1)
    a, b = rng.normal(1, 1, 12), rng.normal(0, 2, 30)
    w = welch_difference(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert w["p_value"] == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval()
    assert (w["ci_low"], w["ci_high"]) == pytest.approx((ci.low, ci.high))


@pytest.mark.slow
def test_prepost_and_change_vs_control_coverage():
    """Known gain 1.0 (plus retest 0.3 for everyone): the paired CI covers 1.3 and the
    Welch CI of the change difference covers 1.0, each about 95% of the time."""
    rng = np.random.default_rng(5)
    reps, hit_pp, hit_dd = 300, 0, 0
    for _ in range(reps):
        ab = rng.normal(5, 1.3, 12)
        pre, post = ab + rng.normal(0, 0.8, 12), ab + 1.3 + rng.normal(0, 0.8, 12)
        cab = rng.normal(5, 1.3, 24)
        cpre, cpost = cab + rng.normal(0, 0.8, 24), cab + 0.3 + rng.normal(0, 0.8, 24)
        df = pd.DataFrame(
            {
                "id": np.tile(np.arange(12), 2),
                "phase": ["pre"] * 12 + ["post"] * 12,
                "score": np.r_[pre, post],
            }
        )
        s = prepost(df, id="id", phase="phase", score="score").summary.iloc[0]
        hit_pp += s.ci_low <= 1.3 <= s.ci_high
        w = welch_difference(post - pre, cpost - cpre)
        hit_dd += w["ci_low"] <= 1.0 <= w["ci_high"]
    # binomial sd of a coverage estimate at 300 reps: about 0.013
    assert 0.92 <= hit_pp / reps <= 0.98
    assert 0.92 <= hit_dd / reps <= 0.98


def test_pilot_skills_recovers_truth(synthetic_completed):
    pilot = synthetic_completed.to_pilot()
    r = pilot_skills(pilot)
    t = synthetic_completed.truth
    mentors = r.row(role="mentor", metric="change_vs_control")
    # change relative to the control removes the retest gain: the realised programme effect
    assert mentors.ci_low <= t["skill_effect_mentors_realised"] <= mentors.ci_high
    # mentees have no assessed control: their change is programme effect + retest gain
    mentees = r.row(role="mentee", metric="change")
    assert mentees.ci_low <= t["skill_change_mentees"] <= mentees.ci_high
    assert (
        mentees.ci_low <= t["skill_effect_mentees_realised"] + t["retest_gain"] <= mentees.ci_high
    )
    assert any("Mentees" in n and "retest" in n for n in r.notes)
    q = pilot.quality
    assert (q.check == "mentors: no post assessment").any()
    assert (
        r.row(role="mentor", metric="change").n_excluded
        == q.loc[q.check == "mentors: no post assessment", "rows"].iloc[0]
    )
    assert list(r.summary.columns[:3]) == ["metric", "role", "skills"]
    ax = r.plot()  # one point per role and comparison, labelled in words
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "mentees (change)",
        "mentors (change)",
        "control (change)",
        "mentors (change vs control)",
    ]
    assert ax.get_lines()[0].get_xdata()[-1] == pytest.approx(mentors.estimate)


@pytest.mark.slow
def test_pilot_skills_recovery_over_seeds():
    from rm_analytics.data.synthetic import generate

    hits, errs = 0, []
    for seed in range(12):
        s = generate(seed=100 + seed)
        row = pilot_skills(s.to_pilot()).row(role="mentor", metric="change_vs_control")
        truth = s.truth["skill_effect_mentors_realised"]
        hits += row.ci_low <= truth <= row.ci_high
        errs.append(row.estimate - truth)
    assert hits >= 10
    assert abs(np.mean(errs)) < 0.15


def test_pilot_skills_min_cell_size_is_deprecated(synthetic_sample):
    """Suppression moved to the report's privacy policy: the old argument warns and changes
    nothing; every row keeps its estimate and n."""
    with pytest.warns(DeprecationWarning, match="min_cell_size is deprecated"):
        r = pilot_skills(synthetic_sample.to_pilot(), min_cell_size=30)
    assert not np.isnan(r.row(role="mentor", metric="change").estimate)
    assert r.summary.equals(pilot_skills(synthetic_sample.to_pilot()).summary)
