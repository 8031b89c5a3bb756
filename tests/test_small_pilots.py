"""Small pilots, honest numbers: retention inference at a dozen pairs, zero exits, few events.

Each test builds its own case. Reference values come from R where R has the method (the R call
that printed them is in a comment next to them); where R has no such method the test checks
the property itself (exact enumeration of a test's size, consistency of an interval with its
p-value). The null simulations are in ``tests/test_null_simulations.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rm_analytics.retention import compare_retention, exact_attrition_p


# -- item 1: exact test on attrition by the horizon ------------------------------------------
def _exact_size(n_t: int, n_c: int, alpha: float = 0.05, method: str = "boschloo") -> float:
    """Size of the level-alpha test: P(p <= alpha) maximised over the common leaving
    probability (fine grid), every 2x2 table enumerated."""
    p = np.array(
        [[exact_attrition_p(a, n_t, c, n_c, method) for c in range(n_c + 1)]
         for a in range(n_t + 1)]
    )  # fmt: skip
    grid = np.linspace(0, 1, 2001)
    b_t = stats.binom.pmf(np.arange(n_t + 1)[:, None], n_t, grid)
    b_c = stats.binom.pmf(np.arange(n_c + 1)[:, None], n_c, grid)
    size = np.einsum("ag,cg,ac->g", b_t, b_c, (p <= alpha).astype(float))
    return float(size.max())


def test_exact_test_takes_the_groups_as_columns():
    """scipy's boschloo_exact compares the two columns of the table (its docs: the samples are
    the columns). 0 of 12 participants vs 6 of 24 controls left."""
    p = exact_attrition_p(0, 12, 6, 24, "boschloo")
    assert p == pytest.approx(stats.boschloo_exact([[0, 6], [12, 18]]).pvalue, rel=1e-9)
    assert p == pytest.approx(0.0768, abs=1e-4)
    # the transposed table (passed until this fix) tests another design: p = 0.0643
    assert stats.boschloo_exact([[0, 12], [6, 18]]).pvalue == pytest.approx(0.0643, abs=1e-4)
    # Fisher's test is symmetric in the two margins:
    # R: fisher.test(matrix(c(0, 12, 6, 6), 2))$p.value  -> 0.01372997712
    assert exact_attrition_p(0, 12, 6, 12, "fisher") == pytest.approx(0.01372997712, abs=1e-10)
    assert exact_attrition_p(0, 12, 0, 24) == 1.0
    assert np.isnan(exact_attrition_p(0, 0, 3, 24))


@pytest.mark.slow
@pytest.mark.parametrize("n_t, n_c", [(12, 12), (12, 24), (5, 18)])
def test_exact_test_is_exact_by_enumeration(n_t, n_c):
    """The size of the 5% test, over every table and leaving probability, is at most 5%.
    With the table transposed a 12-vs-12 pilot was rejected 6.4% of the time."""
    assert _exact_size(n_t, n_c) <= 0.05
    assert _exact_size(n_t, n_c, method="fisher") <= 0.05


def test_exact_test_row_uses_known_status():
    """The summary's exact-test row: 0 of 12 participants vs 6 of 12 controls left by 12 months,
    everyone followed to 12 months."""
    t = np.r_[np.full(12, 20.0), np.full(6, 5.0), np.full(6, 20.0)]
    e = np.r_[np.zeros(12), np.ones(6), np.zeros(6)]
    g = np.r_[np.ones(12), np.zeros(12)]
    res = compare_retention(pd.DataFrame({"t": t, "e": e, "g": g}), duration="t", event="e",
                            group="g", horizons=[12], ph_check=False)  # fmt: skip
    row = res.row(metric="exact_test", horizon=12)
    assert row.estimate == pytest.approx(0 - 6 / 12)
    assert row.p_value == pytest.approx(stats.boschloo_exact([[0, 6], [12, 6]]).pvalue)
    assert row.n == 24 and row.n_events == 6
