"""Sums within strata of sorted data (numpy only), shared by the survival and Cox kernels."""

from __future__ import annotations

import numpy as np


def group_codes(x) -> np.ndarray:
    if x is None:
        return None
    return np.unique(np.asarray(x), return_inverse=True)[1].astype(np.int64)


def suffix_sum_by(x: np.ndarray, stratum_end: np.ndarray) -> np.ndarray:
    """Sum of x[i:end_of_stratum] for every i (x sorted by stratum, then time)."""
    c = np.concatenate([np.cumsum(x[::-1], axis=0)[::-1], np.zeros((1,) + x.shape[1:])])
    return c[:-1] - c[stratum_end]


def prefix_sum_by(x: np.ndarray, stratum_start: np.ndarray) -> np.ndarray:
    """Sum of x[start_of_stratum:i+1] for every i."""
    c = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)])
    return c[1:] - c[stratum_start]


def stratum_bounds(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row index of the first row and one past the last row of its stratum (s sorted)."""
    n = s.size
    change = np.flatnonzero(np.diff(s)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n]])
    k = np.repeat(np.arange(starts.size), ends - starts)
    return starts[k], ends[k]
