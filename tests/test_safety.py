"""Psychological-safety scores, reliability and pair-health flags (issue 5).

Hand-built pilots: one cohort of six pairs where, in the base scenario, nothing is wrong (every
member scores 6 of 7 at every pulse, every session is held, week-6 progress 4 of 5, mentors
and mentees in separate reporting lines). Each flag test changes one thing to raise a flag
and a near-threshold variant that must not raise it.
"""

from __future__ import annotations

import builders
import numpy as np
import pandas as pd
import pytest

from rm_analytics import Pilot
from rm_analytics.metrics.safety import (
    ACTIONS,
    DEFAULT_THRESHOLDS,
    FLAG_CODES,
    FLAG_COLUMNS,
    alpha_from_cov,
    cronbach_alpha,
    feldt_ci,
    flag_pairs,
    scale_scores,
)

ITEMS = ["ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7"]
REV = {"ps1", "ps3", "ps5"}
START = pd.Timestamp("2025-01-06")
END = pd.Timestamp("2025-03-28")
WAVES = {
    "baseline": pd.Timestamp("2025-01-09"),
    "midpoint": pd.Timestamp("2025-02-14"),
    "endpoint": pd.Timestamp("2025-03-26"),
}
N_PAIRS = 6


def answers(score_items: list[float]) -> dict[str, float]:
    """Raw answers whose reverse-scored values are ``score_items`` (in item order)."""
    return {it: (8 - v if it in REV else v) for it, v in zip(ITEMS, score_items, strict=True)}


def employees() -> pd.DataFrame:
    rows = [
        # Technology: head TH (L7) <- team lead TL (L4) <- mentors M1..M6 (L1)
        ("TH", "Technology", "L7", None),
        ("TL", "Technology", "L4", "TH"),
        # Finance: head FH (L7) <- mentees S1..S6 (L6)
        ("FH", "Finance", "L7", None),
    ]
    rows += [(f"M{i}", "Technology", "L1", "TL") for i in range(1, N_PAIRS + 1)]
    rows += [(f"S{i}", "Finance", "L6", "FH") for i in range(1, N_PAIRS + 1)]
    df = pd.DataFrame(rows, columns=["employee_id", "department", "level", "manager_id"])
    df["hire_date"] = pd.Timestamp("2020-01-01")
    df["termination_date"] = pd.NaT
    df["termination_type"] = None
    return df


def base_frames() -> dict[str, pd.DataFrame]:
    # one cohort of N_PAIRS completed pairs meeting weekly, 12 sessions from START to END
    t = builders.tiny_pilot(N_PAIRS, start=str(START.date())).tables
    cohorts, sessions = t["cohorts"], t["sessions"]
    pairs = t["pairs"].assign(goal="Post weekly on the internal network for six weeks")
    rows = []
    for _, p in pairs.iterrows():
        for who in (p.mentor_id, p.mentee_id):
            for wave, day in WAVES.items():
                for item, v in answers([6] * 7).items():
                    rows.append((who, "psych_safety", wave, day, item, v, None, p.pair_id))
            for wave in ("midpoint", "endpoint"):
                day = WAVES[wave]
                rows.append((who, "feedback", wave, day, "safety", 4.0, None, p.pair_id))
                rows.append((who, "feedback", wave, day, "worked", None, "SECRET TEXT", p.pair_id))
    surveys = pd.DataFrame(
        rows,
        columns=[
            "respondent_id",
            "survey",
            "wave",
            "response_date",
            "item",
            "value",
            "text",
            "pair_id",
        ],
    )
    checkpoints = pd.DataFrame(
        {
            "pair_id": pairs.pair_id,
            "checkpoint": "week6",
            "progress": 4,
            "goal_met": None,
            "date": pd.Timestamp("2025-02-17"),
        }
    )
    return {
        "employees": employees(),
        "cohorts": cohorts,
        "pairs": pairs,
        "sessions": sessions,
        "surveys": surveys,
        "checkpoints": checkpoints,
    }


def pilot_of(frames: dict[str, pd.DataFrame]) -> Pilot:
    return Pilot.from_frames(today="2025-12-31", **frames)


def set_pulse(
    frames: dict, who: str, wave: str, score_items: list[float] | None, pair: str = "P1"
) -> None:
    """Replace one member's pulse answers for a wave (None: remove them)."""
    sv = frames["surveys"]
    m = (
        (sv.respondent_id == who)
        & (sv.survey == "psych_safety")
        & (sv.wave == wave)
        & (sv.pair_id == pair)
    )
    if score_items is None:
        frames["surveys"] = sv[~m].reset_index(drop=True)
        return
    new = answers(score_items)
    sv.loc[m, "value"] = sv.loc[m, "item"].map(new)


def flags_of(frames: dict, **kw) -> pd.DataFrame:
    kw.setdefault("as_of", "2025-03-31")
    return flag_pairs(pilot_of(frames), **kw).flags_


def codes(flags: pd.DataFrame, pair: str = "P1") -> set[str]:
    return set(flags[flags.pair_id == pair].flag)


# -- scale scores ----------------------------------------------------------------------------------
def long(
    rows: list[tuple[str, str, dict[str, float | None]]], survey="psych_safety"
) -> pd.DataFrame:
    out = []
    for rid, wave, ans in rows:
        for item, v in ans.items():
            out.append((rid, survey, wave, item, v))
    return pd.DataFrame(out, columns=["respondent_id", "survey", "wave", "item", "value"])


def test_reverse_scoring_arithmetic_7_point():
    # raw: ps1=2 ps2=6 ps3=1 ps4=5 ps5=3 ps6=7 ps7=4
    # reversed (8 - x): ps1=6, ps3=7, ps5=5 -> items 6,6,7,5,5,7,4 -> 40 / 7
    raw = dict(ps1=2, ps2=6, ps3=1, ps4=5, ps5=3, ps6=7, ps7=4)
    s = scale_scores(long([("A", "w1", raw)])).scores_
    assert list(s.columns) == ["respondent_id", "wave", "score", "n_items"]
    assert s.score.iloc[0] == pytest.approx(40 / 7)
    assert s.n_items.iloc[0] == 7


def test_reverse_scoring_arithmetic_5_point():
    # 5-point: reversed as 6 - x. raw ps1=2 -> 4, ps3=5 -> 1, ps5=1 -> 5; others 3,4,2,5
    # items 4,3,1,4,5,2,5 = 24 / 7
    raw = dict(ps1=2, ps2=3, ps3=5, ps4=4, ps5=1, ps6=2, ps7=5)
    s = scale_scores(long([("A", "w1", raw)]), scale_points=5).scores_
    assert s.score.iloc[0] == pytest.approx(24 / 7)


def test_min_items_rule():
    five = dict(ps1=1, ps2=7, ps3=None, ps4=7, ps5=1, ps6=None, ps7=7)  # 5 answered, all "7"
    four = dict(ps1=1, ps2=7, ps4=7, ps5=1)  # 4 answered (3 items absent)
    res = scale_scores(long([("A", "w1", five), ("B", "w1", four)]))
    s = res.scores_.set_index("respondent_id")
    assert s.loc["A", "n_items"] == 5
    assert s.loc["A", "score"] == pytest.approx(7.0)
    assert s.loc["B", "n_items"] == 4
    assert np.isnan(s.loc["B", "score"])
    # the summary: the mean of the scores there are, and how many answered too few items
    w1 = res.row(metric="mean_score", wave="w1")
    assert (w1.estimate, w1.n, w1.n_no_score) == (pytest.approx(7.0), 1, 1)
    assert res.notes_with("excluded_rows")
    s4 = scale_scores(long([("B", "w1", four)]), min_items=4).scores_
    assert s4.score.iloc[0] == pytest.approx(7.0)


def test_scores_keep_pair_and_wave():
    df = long([("A", "w1", answers([5] * 7)), ("A", "w2", answers([3] * 7))])
    df["pair_id"] = "P9"
    s = scale_scores(df).scores_
    assert list(s.columns) == ["respondent_id", "wave", "pair_id", "score", "n_items"]
    assert s.set_index("wave").score.to_dict() == {"w1": 5.0, "w2": 3.0}


def test_one_item_feedback_safety_rating():
    df = long([("A", "midpoint", {"safety": 2.0, "progress": 5.0})], survey="feedback")
    s = scale_scores(
        df, items=("safety",), reverse=(), scale_points=5, min_items=1, survey="feedback"
    ).scores_
    assert s.score.iloc[0] == 2.0
    assert s.n_items.iloc[0] == 1


def test_other_surveys_ignored():
    df = pd.concat(
        [long([("A", "w1", answers([6] * 7))]), long([("A", "w1", {"ps1": 7.0})], "other")]
    )
    assert scale_scores(df).scores_.score.iloc[0] == pytest.approx(6.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(reverse=("ps9",)), "not among items"),
        (dict(min_items=8), "min_items"),
        (dict(scale_points=1), "scale_points"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        scale_scores(long([("A", "w1", answers([6] * 7))]), **kwargs)


def test_out_of_range_and_scale_mismatch():
    with pytest.raises(ValueError, match="outside the 1-5 scale"):
        scale_scores(long([("A", "w1", answers([6] * 7))]), scale_points=5)
    df = long([("A", "w1", answers([4] * 7))])
    df["scale_max"] = 5.0
    with pytest.raises(ValueError, match="scale_points=5"):
        scale_scores(df)
    assert scale_scores(df, scale_points=5).scores_.score.iloc[0] == pytest.approx(
        (4 * 4 + 3 * (6 - (8 - 4))) / 7
    )


def test_duplicate_answers_rejected():
    df = long([("A", "w1", answers([6] * 7)), ("A", "w1", {"ps2": 5.0})])
    with pytest.raises(ValueError, match="same item twice"):
        scale_scores(df)


# -- Cronbach's alpha ------------------------------------------------------------------------------
def test_alpha_hand_computation():
    # 4 respondents x 3 items (no reversed items):
    #   item variances (ddof=1): 5/3, 4.75/3, 5/3 -> sum 14.75/3
    #   totals 5, 8, 10, 14 -> variance 42.75/3
    #   alpha = 3/2 * (1 - 14.75/42.75) = 168/171 = 56/57
    wide = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 3, 5], "c": [2, 3, 4, 5]})
    r = cronbach_alpha(wide, items=("a", "b", "c"), reverse=(), by=None).summary
    assert r.estimate.iloc[0] == pytest.approx(56 / 57, abs=1e-12)
    assert r.n.iloc[0] == 4 and r.n_items.iloc[0] == 3
    # Feldt interval, by hand from the F quantiles (df1 = 3, df2 = 6)
    from scipy.stats import f

    lo = 1 - (1 - 56 / 57) * f.ppf(0.975, 3, 6)
    hi = 1 - (1 - 56 / 57) * f.ppf(0.025, 3, 6)
    assert r.ci_low.iloc[0] == pytest.approx(lo)
    assert r.ci_high.iloc[0] == pytest.approx(hi)


# pingouin's dataset "cronbach_alpha" (15 subjects x 10 items, long format), from
# raphaelvallat/pingouin, pingouin/datasets/cronbach_alpha.csv. The docstring of
# pingouin.cronbach_alpha (checked there against R's psych::alpha) gives
# (0.5917188485995826, array([0.195, 0.84])) with the Feldt interval.
PINGOUIN_CRONBACH = {
    "Q1": [3, 5, 7, 2, 6, 1, 4, 2, 6, 5, 4, 4, 5, 6, 4],
    "Q2": [2, 4, 3, 4, 5, 2, 3, 4, 5, 4, 3, 2, 5, 5, 3],
    "Q3": [4, 6, 5, 3, 6, 3, 5, 4, 5, 6, 5, 3, 6, 5, 5],
    "Q4": [1, 3, 5, 3, 5, 4, 3, 3, 5, 4, 2, 2, 2, 4, 5],
    "Q5": [4, 5, 6, 2, 4, 2, 5, 7, 1, 3, 5, 5, 3, 2, 3],
    "Q6": [5, 1, 4, 2, 4, 5, 2, 2, 6, 5, 3, 3, 3, 2, 1],
    "Q7": [1, 2, 3, 2, 4, 2, 1, 2, 5, 3, 2, 4, 2, 1, 3],
    "Q8": [4, 5, 3, 6, 6, 3, 2, 4, 2, 1, 3, 2, 4, 4, 2],
    "Q9": [3, 5, 6, 6, 7, 5, 4, 6, 3, 7, 4, 3, 4, 6, 3],
    "Q10": [2, 5, 5, 3, 5, 2, 3, 5, 2, 2, 1, 4, 5, 5, 4],
}


def test_alpha_matches_pingouin_published_example():
    wide = pd.DataFrame(PINGOUIN_CRONBACH)
    r = cronbach_alpha(wide, items=list(wide.columns), reverse=(), by=None, scale_points=7).summary
    assert r.estimate.iloc[0] == pytest.approx(0.5917188485995826, abs=1e-12)
    assert round(r.ci_low.iloc[0], 3) == 0.195
    assert round(r.ci_high.iloc[0], 3) == 0.84


def test_alpha_from_covariance_statsbase_example():
    # StatsBase.jl docs, cronbachalpha([10 6 6 6; 6 11 6 6; 6 6 12 6; 6 6 6 13]) = 0.8136
    cov = np.array([[10, 6, 6, 6], [6, 11, 6, 6], [6, 6, 12, 6], [6, 6, 6, 13]])
    assert alpha_from_cov(cov) == pytest.approx(0.8136, abs=5e-5)


def test_feldt_interval_cocron_formula():
    # cocron::cronbach.alpha.CI: L = 1 - (1 - a) F(1 - c/2; n - 1, (n - 1)(k - 1))
    from scipy.stats import f

    lo, hi = feldt_ci(0.85, 89, 7)
    assert lo == pytest.approx(1 - 0.15 * f.ppf(0.975, 88, 528))
    assert hi == pytest.approx(1 - 0.15 * f.ppf(0.025, 88, 528))
    assert lo < 0.85 < hi


def test_alpha_per_wave_with_reverse_scoring_and_listwise_deletion():
    rng = np.random.default_rng(3)
    rows = []
    for wave in ("w1", "w2"):
        for r in range(30):
            true = rng.normal(4.5, 1.0)
            agree = np.clip(np.rint(true + rng.normal(0, 0.6, 7)), 1, 7)
            raw = {it: (8 - a if it in REV else a) for it, a in zip(ITEMS, agree, strict=True)}
            if r == 0:
                raw["ps2"] = None  # incomplete -> excluded from alpha
            rows.append((f"R{r}", wave, raw))
    df = long(rows)
    res = cronbach_alpha(df).summary.set_index("wave")
    assert list(res.index) == ["w1", "w2"]
    assert (res.n == 29).all() and (res.n_excluded == 1).all()
    # the same alpha from a wide table reverse-scored by hand
    w1 = df[df.wave == "w1"].pivot(index="respondent_id", columns="item", values="value")
    w1 = w1.dropna()
    for it in REV:
        w1[it] = 8 - w1[it]
    x = w1[ITEMS].to_numpy(float)
    k = 7
    hand = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    assert res.loc["w1", "estimate"] == pytest.approx(hand)
    assert res.loc["w1", "estimate"] > 0.7  # reversing matters: unreversed alpha is far lower
    unrev = cronbach_alpha(df, reverse=()).summary.set_index("wave")
    assert unrev.loc["w1", "estimate"] < 0.3


# R 4.2.2, psych 2.x: x <- matrix(<MISKEYED, by row>, ncol = 7, byrow = TRUE)
#   a <- psych::alpha(x, check.keys = FALSE)  # warns: Some items ( ps1 ps3 ps5 ) were
#   # negatively correlated with the total scale and probably should be reversed.
#   a$total$raw_alpha -> -1.854110613; a$item.stats$r.drop -> -0.9323 0.3558 -0.9245 0.4762
#   -0.7814 0.3295 0.5925
MISKEYED = [
    [1, 6, 2, 7, 1, 7, 7],
    [7, 1, 5, 2, 7, 1, 2],
    [2, 5, 3, 6, 4, 5, 6],
    [4, 4, 4, 2, 3, 3, 3],
    [4, 4, 4, 3, 4, 4, 5],
    [3, 4, 3, 4, 4, 5, 5],
    [6, 2, 6, 1, 5, 2, 1],
    [4, 4, 3, 3, 4, 5, 5],
    [6, 3, 4, 3, 3, 3, 4],
    [1, 7, 1, 7, 1, 7, 7],
    [3, 6, 3, 4, 4, 4, 6],
    [5, 4, 4, 4, 4, 3, 3],
]


def test_negative_alpha_names_the_items_that_look_mis_keyed():
    wide = pd.DataFrame(MISKEYED, columns=ITEMS)
    r = cronbach_alpha(wide, reverse=(), by=None).summary.iloc[0]
    assert r.estimate == pytest.approx(-1.854110613, abs=1e-9)
    assert "negative alpha" in r.note and "mis-keyed" in r.note
    assert "ps1, ps3, ps5 correlate negatively" in r.note and "none reversed now" in r.note
    # keyed correctly (items 1, 3, 5 reverse-scored), alpha is positive and has no note
    ok = cronbach_alpha(wide, reverse=("ps1", "ps3", "ps5"), by=None).summary.iloc[0]
    assert ok.estimate > 0.8 and ok.note == ""


def test_alpha_too_few_respondents_is_nan_with_note():
    res = cronbach_alpha(long([("A", "w1", answers([6] * 7))]))
    r = res.summary
    assert np.isnan(r.estimate.iloc[0]) and "fewer than two" in r.note.iloc[0]
    assert [str(n) for n in res.notes_with("not_estimable")] == [
        "w1: fewer than two complete respondents."
    ]


# -- flags: base scenario --------------------------------------------------------------------------
def test_base_scenario_raises_no_flag():
    f = flags_of(base_frames())
    assert list(f.columns) == FLAG_COLUMNS
    assert len(f) == 0, f.to_string()


def test_flag_table_contract():
    fr = base_frames()
    set_pulse(fr, "M1", "midpoint", [3] * 7)
    fr["checkpoints"].loc[0, "progress"] = 1
    res = flag_pairs(pilot_of(fr), as_of="2025-03-31")
    f = res.flags_
    assert set(f.flag) <= set(FLAG_CODES)
    assert set(f.action) <= set(ACTIONS)
    assert list(f.severity.cat.categories) == ["low", "medium", "high"]
    assert f.severity.iloc[0] == "high"  # sorted high first
    assert res.as_of_ == pd.Timestamp("2025-03-31") and res.arguments["as_of"] == "2025-03-31"
    # the summary counts pairs per code: one row for any flag, then each code in order
    s = res.summary
    assert s.flag.tolist() == ["any", *FLAG_CODES]
    by_code = f.groupby("flag").pair_id.nunique()
    for code in FLAG_CODES:
        assert res.row(flag=code).estimate == by_code.get(code, 0)
    assert res.row(flag="any").estimate == f.pair_id.nunique()
    assert res.row(flag="LOW_SAFETY").action == "pause" and (s.n == len(fr["pairs"])).all()
    ax = res.plot()  # one bar per code, as long as the pairs it flagged
    assert [t.get_text() for t in ax.get_yticklabels()] == list(FLAG_CODES)
    assert [b.get_width() for b in ax.patches] == [by_code.get(c, 0) for c in FLAG_CODES]


def test_unknown_threshold_rejected():
    with pytest.raises(ValueError, match="unknown threshold"):
        flags_of(base_frames(), thresholds={"low_safty": 3})


def test_thresholds_documented_as_heuristics():
    from pathlib import Path

    import rm_analytics.metrics.safety as S

    assert "HEURISTICS, NOT VALIDATED CUT-OFFS" in Path(S.__file__).read_text()
    assert set(DEFAULT_THRESHOLDS) >= {"low_safety", "safety_drop", "divergence"}


# -- LOW_SAFETY --------------------------------------------------------------------------------
def test_low_safety_raised_below_midpoint():
    fr = base_frames()
    set_pulse(fr, "M1", "endpoint", [4, 4, 4, 4, 4, 4, 3])  # 27/7 = 3.857 < 4
    f = flags_of(fr)
    row = f[(f.pair_id == "P1") & (f.flag == "LOW_SAFETY")]
    assert len(row) == 1
    assert row.role.iloc[0] == "mentor" and row.wave.iloc[0] == "endpoint"
    assert row.action.iloc[0] == "pause" and row.severity.iloc[0] == "high"
    assert row.value.iloc[0] == pytest.approx(27 / 7)


def test_low_safety_not_raised_at_midpoint():
    fr = base_frames()
    set_pulse(fr, "M1", "endpoint", [4] * 7)  # exactly the midpoint
    assert "LOW_SAFETY" not in codes(flags_of(fr))


def test_low_safety_from_feedback_form_rating():
    fr = base_frames()
    sv = fr["surveys"]
    m = (sv.respondent_id == "S1") & (sv["item"] == "safety") & (sv.wave == "midpoint")
    sv.loc[m, "value"] = 2.0
    f = flags_of(fr)
    row = f[(f.pair_id == "P1") & (f.flag == "LOW_SAFETY")]
    assert len(row) == 1 and "feedback form" in row.evidence.iloc[0]
    sv.loc[m, "value"] = 3.0  # the midpoint of 1-5: not below
    assert "LOW_SAFETY" not in codes(flags_of(fr))
    sv.loc[m, "value"] = 2.0
    off = flags_of(fr, thresholds={"feedback_low_safety": False})
    assert "LOW_SAFETY" not in codes(off)


def test_low_safety_on_5_point_variant():
    fr = base_frames()
    sv = fr["surveys"]
    ps = sv.survey == "psych_safety"
    sv.loc[ps, "value"] = np.where(sv.loc[ps, "item"].isin(REV), 2.0, 4.0)  # score 4 of 5
    sv["scale_max"] = np.where(ps, 5.0, np.nan)
    m = ps & (sv.respondent_id == "M1") & (sv.wave == "midpoint")
    # 2.857 of 5 (< 3) for M1 at midpoint: items 3,3,3,3,3,3,2
    sv.loc[m, "value"] = sv.loc[m, "item"].map(
        {
            it: (6 - v if it in REV else v)
            for it, v in zip(ITEMS, [3, 3, 3, 3, 3, 3, 2], strict=True)
        }
    )
    f = flags_of(fr)
    low = f[(f.flag == "LOW_SAFETY") & (f.pair_id == "P1")]
    assert len(low) == 1 and "5-point" in low.evidence.iloc[0]
    assert low.threshold.iloc[0] == 3.0


# -- SAFETY_DROP -------------------------------------------------------------------------------
def test_safety_drop_raised_at_one_point():
    fr = base_frames()
    set_pulse(fr, "S1", "midpoint", [5] * 7)  # 6 -> 5: a fall of exactly 1
    f = flags_of(fr)
    row = f[(f.pair_id == "P1") & (f.flag == "SAFETY_DROP")]
    assert len(row) == 1
    assert row.wave.iloc[0] == "midpoint" and row.role.iloc[0] == "mentee"
    assert row.value.iloc[0] == pytest.approx(1.0)
    assert "baseline" in row.evidence.iloc[0]


def test_safety_drop_not_raised_just_under_one_point():
    fr = base_frames()
    set_pulse(fr, "S1", "midpoint", [5, 5, 5, 5, 5, 5, 6])  # 36/7: fall of 0.857
    assert "SAFETY_DROP" not in codes(flags_of(fr))


def test_safety_drop_skips_an_unanswered_wave():
    fr = base_frames()
    set_pulse(fr, "S1", "midpoint", None)
    set_pulse(fr, "S1", "endpoint", [4.5] * 7)  # baseline 6 -> endpoint 4.5
    f = flags_of(fr)
    row = f[(f.pair_id == "P1") & (f.flag == "SAFETY_DROP")]
    assert len(row) == 1 and "from 6 (baseline)" in row.evidence.iloc[0]


# -- DIVERGENCE --------------------------------------------------------------------------------
def test_divergence_raised_at_two_points():
    fr = base_frames()
    set_pulse(fr, "S1", "baseline", [4] * 7)  # mentor 6, mentee 4
    f = flags_of(fr)
    row = f[(f.pair_id == "P1") & (f.flag == "DIVERGENCE")]
    assert len(row) == 1 and row.role.iloc[0] == "mentee"
    assert row.value.iloc[0] == pytest.approx(2.0)


def test_divergence_not_raised_under_two_points():
    fr = base_frames()
    set_pulse(fr, "S1", "baseline", [4, 4, 4, 4, 4, 4, 5])  # 4.14: 1.86 apart
    assert "DIVERGENCE" not in codes(flags_of(fr))


# -- NO_RESPONSE -------------------------------------------------------------------------------
def test_no_response_raised_once_the_wave_is_due():
    fr = base_frames()
    set_pulse(fr, "S1", "endpoint", None)
    # endpoint opened 2025-03-26; due after the 7-day grace period
    f = flags_of(fr, as_of="2025-04-02")
    row = f[(f.pair_id == "P1") & (f.flag == "NO_RESPONSE")]
    assert len(row) == 1 and row.role.iloc[0] == "mentee" and row.wave.iloc[0] == "endpoint"


def test_no_response_not_raised_within_grace_or_after_the_pair_ended():
    fr = base_frames()
    set_pulse(fr, "S1", "endpoint", None)
    assert "NO_RESPONSE" not in codes(flags_of(fr, as_of="2025-04-01"))
    # the pair ended (withdrawn) before the endpoint pulse opened: not due
    fr["pairs"].loc[0, ["status", "end_date"]] = ["withdrawn", pd.Timestamp("2025-03-20")]
    fr["sessions"] = fr["sessions"][
        ~((fr["sessions"].pair_id == "P1") & (fr["sessions"].date > "2025-03-20"))
    ]
    assert "NO_RESPONSE" not in codes(flags_of(fr, as_of="2025-04-30"))


def test_no_response_not_raised_for_a_member_who_left():
    fr = base_frames()
    set_pulse(fr, "S1", "endpoint", None)
    emp = fr["employees"]
    emp.loc[emp.employee_id == "S1", ["termination_date", "termination_type"]] = [
        pd.Timestamp("2025-03-21"),
        "voluntary",
    ]
    assert "NO_RESPONSE" not in codes(flags_of(fr, as_of="2025-04-30"))


# -- REVERSE_ITEM_ALERT --------------------------------------------------------------------------
def test_reverse_item_alert_raised_on_agreement():
    fr = base_frames()
    sv = fr["surveys"]
    m = (sv.respondent_id == "M1") & (sv.wave == "midpoint") & (sv["item"] == "ps1")
    sv.loc[m, "value"] = 6.0  # agrees that mistakes are held against them
    f = flags_of(fr)
    row = f[(f.pair_id == "P1") & (f.flag == "REVERSE_ITEM_ALERT")]
    assert len(row) == 1 and "held against" in row.evidence.iloc[0]
    assert "LOW_SAFETY" not in codes(f)  # score 38/7 = 5.43 stays high


def test_reverse_item_alert_not_raised_on_slight_agreement():
    fr = base_frames()
    sv = fr["surveys"]
    m = (sv.respondent_id == "M1") & (sv.wave == "midpoint") & (sv["item"] == "ps1")
    sv.loc[m, "value"] = 5.0
    assert "REVERSE_ITEM_ALERT" not in codes(flags_of(fr))
    assert "REVERSE_ITEM_ALERT" in codes(flags_of(fr, thresholds={"reverse_item_agree": 5}))


# -- STALLED -----------------------------------------------------------------------------------
def _stop_after(fr, last: str, pair="P1"):
    s = fr["sessions"]
    fr["sessions"] = s[~((s.pair_id == pair) & (s.date > last))].reset_index(drop=True)


def test_stalled_raised_after_two_cadences_without_a_session():
    fr = base_frames()
    _stop_after(fr, "2025-03-10")
    f = flags_of(fr, as_of="2025-03-25")  # 15 days since 2025-03-10 > 14
    row = f[(f.pair_id == "P1") & (f.flag == "STALLED")]
    assert len(row) == 1
    assert row.action.iloc[0] == "reshuffle"  # past the cohort's mid-point
    assert row.value.iloc[0] == 15 and row.threshold.iloc[0] == 14


def test_stalled_not_raised_at_exactly_two_cadences():
    fr = base_frames()
    _stop_after(fr, "2025-03-10")
    assert "STALLED" not in codes(flags_of(fr, as_of="2025-03-24"))  # 14 days


def test_stalled_by_low_adherence_at_mid_pilot():
    fr = base_frames()
    s = fr["sessions"]
    # mid-point 2025-02-15: 5 sessions are due (one per completed week); of the 6 scheduled
    # by then (Jan 6 .. Feb 10) cancel Jan 20, Jan 27, Feb 3 and Feb 10: 2 held
    days = pd.to_datetime(["2025-01-20", "2025-01-27", "2025-02-03", "2025-02-10"])
    cancel = (s.pair_id == "P1") & s.date.isin(days)
    s.loc[cancel, ["status", "duration_minutes"]] = ["cancelled", np.nan]
    f = flags_of(fr)
    row = f[(f.pair_id == "P1") & (f.flag == "STALLED")]
    assert len(row) == 1 and "2 of 5 due sessions" in row.evidence.iloc[0]
    # at the boundary: 2/5 = 40% is not below a 40% threshold
    assert "STALLED" not in codes(flags_of(fr, thresholds={"stalled_min_adherence": 0.4}))
    # 3 of 5 held: 60%, not flagged
    s.loc[cancel & (s.date == "2025-02-03"), ["status", "duration_minutes"]] = ["held", 60.0]
    assert "STALLED" not in codes(flags_of(fr))


def test_stalled_before_mid_pilot_recommends_a_check_in():
    fr = base_frames()
    _stop_after(fr, "2025-01-13")
    f = flags_of(fr, as_of="2025-01-30")  # 17 days, before the 2025-02-15 mid-point
    row = f[(f.pair_id == "P1") & (f.flag == "STALLED")]
    assert row.action.tolist() == ["check in"]


def test_paused_pairs_are_not_flagged_stalled():
    fr = base_frames()
    _stop_after(fr, "2025-03-10")
    fr["pairs"].loc[0, "status"] = "paused"
    assert "STALLED" not in codes(flags_of(fr, as_of="2025-03-25"))


# -- GOAL_OFF_TRACK ------------------------------------------------------------------------------
def test_goal_off_track_raised_at_two():
    fr = base_frames()
    fr["checkpoints"].loc[0, "progress"] = 2
    f = flags_of(fr)
    row = f[(f.pair_id == "P1") & (f.flag == "GOAL_OFF_TRACK")]
    assert len(row) == 1 and row.wave.iloc[0] == "week6" and row.action.iloc[0] == "check in"


def test_goal_off_track_not_raised_at_three_or_before_the_check():
    fr = base_frames()
    fr["checkpoints"].loc[0, "progress"] = 3
    assert "GOAL_OFF_TRACK" not in codes(flags_of(fr))
    fr["checkpoints"].loc[0, "progress"] = 1
    assert "GOAL_OFF_TRACK" not in codes(flags_of(fr, as_of="2025-02-16"))  # check on 02-17


# -- CONFLICT_OF_INTEREST ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mentee, where",
    [("TL", "direct manager"), ("TH", "manager's manager")],
)
def test_conflict_of_interest_reporting_line(mentee, where):
    fr = base_frames()
    fr["pairs"].loc[0, "mentee_id"] = mentee
    fr["surveys"] = fr["surveys"][fr["surveys"].respondent_id != "S1"]
    f = flags_of(fr)
    row = f[(f.pair_id == "P1") & (f.flag == "CONFLICT_OF_INTEREST")]
    assert len(row) == 1 and where in row.evidence.iloc[0]
    assert row.action.iloc[0] == "rematch" and row.severity.iloc[0] == "high"


def test_conflict_of_interest_either_way_and_shared_manager():
    fr = base_frames()
    emp = fr["employees"]
    emp.loc[emp.employee_id == "M1", "manager_id"] = "S1"  # the mentee manages the mentor
    emp.loc[emp.employee_id == "S2", "manager_id"] = "M2"  # the mentor manages the mentee
    emp.loc[emp.employee_id == "S3", "manager_id"] = "TL"  # same manager as mentor M3
    f = flags_of(fr)
    c = f[f.flag == "CONFLICT_OF_INTEREST"].set_index("pair_id")
    assert set(c.index) == {"P1", "P2", "P3"}
    assert "the mentee is the mentor's direct manager" in c.loc["P1", "evidence"]
    assert "the mentor is the mentee's direct manager" in c.loc["P2", "evidence"]
    assert "share a manager" in c.loc["P3", "evidence"]


def test_no_conflict_for_peers_in_different_lines():
    fr = base_frames()
    emp = fr["employees"]
    # S1 reports to TH (the mentor's skip-level manager) but is not in the mentor's chain
    emp.loc[emp.employee_id == "S1", "manager_id"] = "TH"
    assert "CONFLICT_OF_INTEREST" not in codes(flags_of(fr))


# -- data handling -------------------------------------------------------------------------------
def test_answers_by_non_members_and_after_as_of_are_excluded_and_counted():
    fr = base_frames()
    sv = fr["surveys"]
    stray = sv[(sv.respondent_id == "M2") & (sv.survey == "psych_safety")].copy()
    stray["pair_id"] = "P1"  # M2 answering about P1: not a member
    stray["value"] = np.where(stray["item"].isin(REV), 7.0, 1.0)
    fr["surveys"] = pd.concat([sv, stray], ignore_index=True)
    pilot = pilot_of(fr)
    f = flag_pairs(pilot, as_of="2025-03-20").flags_  # the endpoint (03-26) is after as_of
    assert "LOW_SAFETY" not in set(f.flag)
    q = pilot.quality.set_index("check")
    assert q.loc["psych_safety answers by non-members", "rows"] == len(
        stray[stray.wave != "endpoint"]
    )
    assert q.loc["psych_safety answers after as_of", "rows"] > 0


def test_missing_tables_skip_checks_with_notes():
    fr = base_frames()
    del fr["sessions"], fr["checkpoints"]
    res = flag_pairs(pilot_of(fr), as_of="2025-03-31")
    assert len(res.flags_) == 0
    notes = " ".join(res.notes_with("missing_data"))
    assert "STALLED not checked" in notes and "GOAL_OFF_TRACK not checked" in notes
    # a check that did not run counts no pairs: its count is missing, not 0
    assert np.isnan(res.row(flag="STALLED").estimate) and not res.row(flag="STALLED").checked
    assert res.row(flag="LOW_SAFETY").estimate == 0 and res.row(flag="LOW_SAFETY").checked


# -- sponsor summary: privacy and suppression -----------------------------------------------------
def _all_text(res) -> str:
    """Everything a sponsor could see: summary cells, notes, dict, HTML, plot labels."""
    import json

    import matplotlib.pyplot as plt

    parts = [res.summary.to_csv(index=False), " ".join(res.notes), res._repr_html_(), repr(res)]
    parts.append(json.dumps(res.to_dict(), default=str))
    ax = res.plot()
    parts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    leg = ax.get_legend()
    if leg is not None:
        parts += [t.get_text() for t in leg.get_texts()]
    plt.close(ax.figure)
    return "\n".join(parts)


def _forbidden(pilot) -> set[str]:
    ids = set(pilot.pairs.pair_id) | set(pilot.employees.employee_id)
    text = set(pilot.surveys.text.dropna()) if "text" in pilot.surveys else set()
    if "goal" in pilot.pairs:
        text |= set(pilot.pairs.goal.dropna())
    if pilot.checkpoints is not None:
        for col in ("roadblocks", "wins"):
            if col in pilot.checkpoints:
                text |= set(pilot.checkpoints[col].dropna())
    return ids | text | set(FLAG_CODES)


def _contains_any(blob: str, words: set[str]) -> list[str]:
    import re

    hits = []
    for w in words:
        if re.search(r"(?<![A-Za-z0-9])" + re.escape(str(w)) + r"(?![A-Za-z0-9])", blob):
            hits.append(w)
    return hits


def test_summary_never_contains_ids_flags_or_free_text(sample_pilot):
    from rm_analytics.metrics.delivery import delivery_summary
    from rm_analytics.metrics.safety import safety_summary

    forbidden = _forbidden(sample_pilot)
    assert len(forbidden) > 1500  # ids, texts and codes are really checked
    for res in (safety_summary(sample_pilot), delivery_summary(sample_pilot)):
        blob = _all_text(res)
        assert _contains_any(blob, forbidden) == []
        # no attribute of the result holds a pair-level table
        for value in vars(res).values():
            if isinstance(value, pd.DataFrame):
                assert _contains_any(value.to_csv(), forbidden) == []


def test_summary_on_hand_pilot_values_and_no_text():
    from rm_analytics.metrics.safety import safety_summary

    fr = base_frames()
    set_pulse(fr, "M1", "midpoint", [3] * 7)  # P1 flagged (LOW_SAFETY, ...)
    pilot = pilot_of(fr)
    res = safety_summary(pilot, as_of="2025-03-31")
    assert _contains_any(_all_text(res), _forbidden(pilot) | {"SECRET TEXT"}) == []
    s = res.summary
    share = res.row(metric="pairs_any_flag")
    assert share.estimate == pytest.approx(1 / 6) and share.n == 6
    from rm_analytics.stats.intervals import wilson_ci

    assert (share.ci_low, share.ci_high) == pytest.approx(wilson_ci(1, 6))
    mid_all = res.row(metric="mean_safety", wave="midpoint", role="both")
    assert mid_all.estimate == pytest.approx((3 + 11 * 6) / 12) and mid_all.n == 12
    assert list(s[s.metric == "mean_safety"].wave.unique()) == ["baseline", "midpoint", "endpoint"]
    # all answers identical at baseline: alpha undefined (no variance) -> NaN, never made up
    assert np.isnan(res.row(metric="alpha", wave="baseline").estimate)


def test_small_groups_keep_their_numbers_and_the_report_hides_them():
    """The analysis keeps every figure with its n; the report's privacy policy hides a group
    of 4 mentors, and the 6 mentees too, because "all" minus the mentees would give them."""
    from rm_analytics.metrics.safety import safety_summary
    from rm_analytics.report.privacy import PrivacyPolicy

    fr = base_frames()
    # only 4 mentors answer the midpoint pulse; every mentee answers
    for m in ("M1", "M2"):
        set_pulse(fr, m, "midpoint", None, pair=f"P{m[1]}")
    for who, pair in (("M3", "P3"), ("S1", "P1")):  # answers that differ (else all equal)
        for wave in ("baseline", "midpoint", "endpoint"):
            set_pulse(fr, who, wave, [5, 5, 5, 4, 5, 5, 5], pair=pair)
    res = safety_summary(pilot_of(fr), as_of="2025-03-31")
    mentors_mid = res.row(metric="mean_safety", wave="midpoint", role="mentor")
    assert np.isfinite(mentors_mid.estimate) and mentors_mid.n == 4
    assert res.row(metric="mean_safety", wave="midpoint", role="mentee").n == 6
    s = res.summary[res.summary.metric == "mean_safety"]
    hidden = PrivacyPolicy(5).rows(
        "safety",
        s,
        id_cols=["wave", "role"],
        parts={"both": ["mentor", "mentee"]},
        part_col="role",
        line_cols=["wave"],
    )
    mid = s.wave == "midpoint"
    assert hidden[mid & (s.role == "mentor")].all() and hidden[mid & (s.role == "mentee")].all()
    assert not hidden[mid & (s.role == "both")].any()
    assert not hidden[~mid].any()  # every member answered the other pulses: 6 and 6
    with pytest.warns(DeprecationWarning, match="min_cell_size is deprecated"):
        safety_summary(pilot_of(fr), as_of="2025-03-31", min_cell_size=7)


def test_summary_plot_returns_axes():
    import matplotlib.pyplot as plt

    from rm_analytics.metrics.safety import safety_summary

    fig, ax = plt.subplots()
    res = safety_summary(pilot_of(base_frames()), as_of="2025-03-31")
    assert res.plot(ax=ax) is ax
    # one line with intervals per group (all, mentor, mentee), one point per pulse wave
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["all", "mentor", "mentee"]
    waves = list(dict.fromkeys(res.summary.loc[res.summary.metric == "mean_safety", "wave"]))
    assert len(waves) >= 2
    assert [t.get_text() for t in ax.get_xticklabels()] == waves
    assert len(ax.containers) == 3
    assert all(len(c.lines[0].get_xdata()) == len(waves) for c in ax.containers)
    assert ax.get_ylabel().startswith("mean safety")
    plt.close(fig)
