"""Flags on synthetic pilots with planted unsafe, stalled and conflicted pairs (known truth)."""

from __future__ import annotations

import pandas as pd
import pytest

from rm_analytics.safety import flag_pairs, safety_summary
from rm_analytics.synthetic import generate

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
            missing = codes - got
            assert not missing, f"{key} {pair}: expected {codes}, got {got}"


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
    flags = flag_pairs(pilot)
    _check_truth(synthetic_sample.truth, flags)
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
    flags = flag_pairs(pilot)
    _check_truth(data.truth, flags)
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
