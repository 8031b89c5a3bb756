"""Flags on synthetic pilots with planted unsafe, stalled and conflicted pairs (known truth)."""

from __future__ import annotations

import pandas as pd
import pytest

from rm_analytics.data.synthetic import generate
from rm_analytics.metrics.safety import flag_pairs, safety_summary

EXPECTED = {
    "unsafe_pairs": {"LOW_SAFETY", "SAFETY_DROP"},
    "stalled_pairs": {"STALLED"},
    "conflict_pairs": {"CONFLICT_OF_INTEREST"},
}


def _check_truth(truth: dict, flags: pd.DataFrame) -> None:
    for key, codes in EXPECTED.items():
        planted = set(truth[key])
        assert planted, f"the generator planted no {key}"
        for pair in planted:
            got = set(flags[flags.pair_id == pair].flag)
            assert codes & got, f"{key} {pair}: expected one of {codes}, got {got}"


def _check_drops(truth: dict, pilot, flags: pd.DataFrame) -> None:
    """An unsafe pair whose mentor answered the baseline and a later pulse shows the drop."""
    from rm_analytics.metrics.safety import scale_scores

    sv = pilot.surveys[pilot.surveys.pair_id.isin(truth["unsafe_pairs"])]
    sc = scale_scores(sv).scores_.dropna(subset=["score"])
    mentors = pilot.pairs.set_index("pair_id").mentor_id
    checked = 0
    for pair in truth["unsafe_pairs"]:
        mine = sc[(sc.pair_id == pair) & (sc.respondent_id == mentors[pair])]
        waves = set(mine.wave.astype(str))
        if "baseline" in waves and waves & {"midpoint", "endpoint"}:
            checked += 1
            got = set(flags[flags.pair_id == pair].flag)
            assert "SAFETY_DROP" in got, f"{pair}: {got}"
    assert checked >= 1


def false_positive_rates(truth: dict, flags: pd.DataFrame, pair_ids) -> dict[str, float]:
    """Per code group: share of the *other* pairs that get the planted pairs' codes."""
    out = {}
    for key, codes in EXPECTED.items():
        others = set(pair_ids) - set(truth[key])
        hit = set(flags[flags.flag.isin(codes)].pair_id) & others
        out[key] = len(hit) / len(others)
    planted = set().union(*(truth[k] for k in EXPECTED))
    others = set(pair_ids) - planted
    out["any_flag"] = len(set(flags.pair_id) & others) / len(others)
    return out


def test_sample_truth_pairs_are_flagged(synthetic_sample):
    pilot = synthetic_sample.to_pilot()
    flags = flag_pairs(pilot).flags_
    _check_truth(synthetic_sample.truth, flags)
    _check_drops(synthetic_sample.truth, pilot, flags)
    for pair in synthetic_sample.truth["unsafe_pairs"]:
        assert {"LOW_SAFETY", "SAFETY_DROP"} <= set(flags[flags.pair_id == pair].flag)
    # the conflict-of-interest check has no false positives here: no other pair shares a
    # reporting line or a manager
    assert set(flags[flags.flag == "CONFLICT_OF_INTEREST"].pair_id) == set(
        synthetic_sample.truth["conflict_pairs"]
    )


@pytest.mark.slow
def test_many_planted_pairs_are_flagged_and_false_positives_are_rare():
    data = generate(
        n_employees=4000,
        n_cohorts=8,
        pairs_per_cohort=12,
        unsafe_pairs=6,
        stalled_pairs=6,
        conflict_pairs=4,
        seed=11,
    )
    pilot = data.to_pilot()
    flags = flag_pairs(pilot).flags_
    _check_truth(data.truth, flags)
    _check_drops(data.truth, pilot, flags)
    fp = false_positive_rates(data.truth, flags, pilot.pairs.pair_id)
    print("false-positive rates:", fp)
    assert fp["conflict_pairs"] == 0
    # safety flags on pairs without a planted drop come from item noise only
    assert fp["unsafe_pairs"] < 0.1
    assert fp["stalled_pairs"] < 0.15
    res = safety_summary(pilot)
    assert res.row(metric="pairs_any_flag").estimate == pytest.approx(
        flags.pair_id.nunique() / len(pilot.pairs)
    )


@pytest.mark.slow
def test_feldt_interval_covers_the_true_alpha_at_the_nominal_rate():
    """Parallel items (compound symmetry, rho = 0.4, k = 7): alpha = k rho / (1 + (k-1) rho).

    With normal data Feldt's interval is exact, so 95% intervals from n = 30 respondents
    should cover the true alpha in about 95% of 2,000 samples.
    """
    import numpy as np

    from rm_analytics.metrics.safety import _alpha_from_matrix, feldt_ci

    rng = np.random.default_rng(2025)
    k, rho, n, reps = 7, 0.4, 30, 2000
    true = k * rho / (1 + (k - 1) * rho)
    common = rng.normal(0, np.sqrt(rho), (reps, n, 1))
    x = common + rng.normal(0, np.sqrt(1 - rho), (reps, n, k))
    covered = 0
    for r in range(reps):
        a = _alpha_from_matrix(x[r])
        lo, hi = feldt_ci(a, n, k)
        covered += lo <= true <= hi
    coverage = covered / reps
    # binomial SE at 0.95 with 2,000 samples is 0.005
    assert 0.935 <= coverage <= 0.965, coverage
