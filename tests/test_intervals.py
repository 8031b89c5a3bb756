"""Interval kernels against R, and the bounds always contain the estimate."""

from __future__ import annotations

import numpy as np
import pytest

from rm_analytics.stats.intervals import mean_ci, wilson_ci

# R 4.x: for (a in list(c(0,24), c(24,24), ...)) prop.test(a[1], a[2], correct=FALSE)$conf.int
R_WILSON = [
    (0, 24, 0.0, 0.13797620467498),
    (24, 24, 0.86202379532502, 1.0),
    (7, 10, 0.396778147461145, 0.892208732593699),
    (1, 6, 0.0300533697483067, 0.56350282218647),
    (25, 25, 0.866807749060952, 1.0),
    (1000, 1000, 0.996173241514445, 1.0),
    (3, 1000, 0.00102078388113862, 0.00878301405350317),
]


@pytest.mark.parametrize(("k", "n", "lo", "hi"), R_WILSON)
def test_wilson_matches_r_prop_test(k, n, lo, hi):
    got = wilson_ci(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-12)


def test_wilson_all_or_none_are_exact_bounds():
    # the closed form gave 0.9999999999999999 for 10/10 and 5.6e-17 for 0/3: a negative
    # error bar that made matplotlib refuse the figure and failed whole reports
    for n in range(1, 400):
        assert wilson_ci(n, n)[1] == 1.0
        assert wilson_ci(0, n)[0] == 0.0


def test_wilson_bounds_contain_the_estimate():
    for n in range(1, 150):
        for k in range(n + 1):
            lo, hi = wilson_ci(k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0, (k, n)


def test_wilson_empty_is_nan():
    assert all(np.isnan(wilson_ci(0, 0)))


def test_mean_ci_constant_values_contain_the_mean():
    m, lo, hi, n = mean_ci([4.0, 4.0, 4.0, 4.0, 4.0])
    assert (m, n) == (4.0, 5)
    assert lo <= m <= hi


def test_error_bars_never_negative_and_plot_draws():
    import matplotlib.pyplot as plt
    import pandas as pd

    from rm_analytics.metrics.delivery import DeliverySummary
    from rm_analytics.plotting.errorbars import error_bars

    bars = error_bars([1.0, 0.0, 0.5], [0.8, 1.4e-17, np.nan], [0.9999999999999999, 0.14, 0.7])
    assert bars.shape == (2, 3) and (bars >= 0).all()
    assert bars[:, 2].tolist() == [0.0, pytest.approx(0.2)]
    # a summary whose intervals carry the rounding that failed whole reports
    res = DeliverySummary(
        pd.DataFrame(
            {
                "metric": ["pairs_3plus_held", "adherence", "no_show_rate", "cancel_rate"],
                "estimate": [1.0, 0.0, 0.1, 0.2],
                "ci_low": [0.72, 1.4e-17, 0.0, 0.1],
                "ci_high": [0.9999999999999999, 0.3, 0.3, 0.4],
            }
        )
    )
    ax = res.plot()
    assert len(ax.containers) == 1  # the error bars were drawn
    plt.close(ax.figure)
