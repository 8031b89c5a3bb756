"""Error bars from interval bounds, in the form matplotlib's ``errorbar`` accepts."""

from __future__ import annotations

import numpy as np


def error_bars(estimate, ci_low, ci_high) -> np.ndarray:
    """Lengths of the bars below and above each estimate: a 2 x n array for ``xerr``/``yerr``.

    ``estimate - ci_low`` and ``ci_high - estimate``; a missing bound draws no bar (0) and a
    bound on the wrong side of its estimate by floating-point rounding (e.g. an upper bound
    of 0.9999999999999999 for an estimate of 1.0) draws none either, instead of the negative
    length matplotlib rejects with ``ValueError``.

    >>> error_bars([1.0, 0.5], [0.8, float("nan")], [0.9999999999999999, 0.7]).tolist()
    [[0.19999999999999996, 0.0], [0.0, 0.19999999999999996]]
    """
    est = np.asarray(estimate, dtype=float)
    below = est - np.asarray(ci_low, dtype=float)
    above = np.asarray(ci_high, dtype=float) - est
    bars = np.vstack([np.atleast_1d(below), np.atleast_1d(above)])
    return np.clip(np.nan_to_num(bars, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)
