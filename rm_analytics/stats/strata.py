"""Sums within strata of sorted data (numpy only), shared by the survival and Cox kernels."""

from __future__ import annotations

import numpy as np


def group_codes(x) -> np.ndarray:
    """Integer codes 0, 1, ... of the sorted distinct values of ``x`` (None stays None).

    Examples
    --------
    >>> from rm_analytics.stats.strata import group_codes
    >>> print(group_codes(["north", "east", "north", "west"]))
    [1 0 1 2]
    >>> group_codes(None) is None
    True
    """

    if x is None:
        return None
    return np.unique(np.asarray(x), return_inverse=True)[1].astype(np.int64)


def suffix_sum_by(x: np.ndarray, stratum_end: np.ndarray) -> np.ndarray:
    """Sum of x[i:end_of_stratum] for every i (x sorted by stratum, then time).

    Examples
    --------
    Two strata (rows 0-2 and 3-4), each summed from the row to the stratum's end (the number at
    risk, when x is 1 per person):

    >>> import numpy as np
    >>> from rm_analytics.stats.strata import stratum_bounds, suffix_sum_by
    >>> start, end = stratum_bounds(np.array([0, 0, 0, 1, 1]))
    >>> print(suffix_sum_by(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), end))
    [6. 5. 3. 9. 5.]
    """
    c = np.concatenate([np.cumsum(x[::-1], axis=0)[::-1], np.zeros((1,) + x.shape[1:])])
    return c[:-1] - c[stratum_end]


def prefix_sum_by(x: np.ndarray, stratum_start: np.ndarray) -> np.ndarray:
    """Sum of x[start_of_stratum:i+1] for every i.

    Examples
    --------
    >>> import numpy as np
    >>> from rm_analytics.stats.strata import prefix_sum_by, stratum_bounds
    >>> start, end = stratum_bounds(np.array([0, 0, 0, 1, 1]))
    >>> print(prefix_sum_by(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), start))
    [1. 3. 6. 4. 9.]
    """
    c = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)])
    return c[1:] - c[stratum_start]


def stratum_bounds(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row index of the first row and one past the last row of its stratum (s sorted).

    Examples
    --------
    >>> import numpy as np
    >>> from rm_analytics.stats.strata import stratum_bounds
    >>> start, end = stratum_bounds(np.array([0, 0, 0, 1, 1, 2]))
    >>> print(start, end)
    [0 0 0 3 3 5] [3 3 3 5 5 6]
    """
    n = s.size
    change = np.flatnonzero(np.diff(s)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n]])
    k = np.repeat(np.arange(starts.size), ends - starts)
    return starts[k], ends[k]
