"""Textbook data sets used by the docstring examples (numpy only).

Each function returns the data exactly as R ships it, so an example's printed values can be
compared with R's output on the same call.
"""

from __future__ import annotations

import numpy as np

__all__ = ["aml", "bcg", "six_teams"]

_AML_TIME = (9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45)
_AML_EVENT = (1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1)
_BCG = {  # dat.bcg: tpos, tneg, cpos, cneg per trial
    "tpos": (4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27),
    "tneg": (119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886),
    "cpos": (11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29),
    "cneg": (128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825),
}


def aml(maintained_only: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Acute myelogenous leukaemia remission times, R's ``survival::aml`` (23 patients).

    Parameters
    ----------
    maintained_only : bool
        Only the 11 patients whose chemotherapy was maintained (R:
        ``subset(aml, x == "Maintained")``).

    Returns
    -------
    time : ndarray of float
        Weeks to relapse or censoring.
    event : ndarray of int
        1 relapse, 0 censored (R's ``status``).
    maintained : ndarray of int
        1 maintained, 0 not maintained (R's ``x``).

    Examples
    --------
    >>> from rm_analytics.stats.datasets import aml
    >>> time, event, maintained = aml()
    >>> len(time), int(event.sum()), int(maintained.sum())
    (23, 18, 11)
    >>> time, event, _ = aml(maintained_only=True)
    >>> print(time[:5], event[:5])
    [ 9. 13. 13. 18. 23.] [1 1 0 1 1]
    """
    time = np.array(_AML_TIME, dtype=float)
    event = np.array(_AML_EVENT, dtype=int)
    maintained = np.repeat([1, 0], [11, 12])
    if maintained_only:
        keep = maintained == 1
        return time[keep], event[keep], maintained[keep]
    return time, event, maintained


def bcg() -> tuple[np.ndarray, np.ndarray]:
    """The 13 BCG vaccine trials, R's ``metafor::dat.bcg``, as log risk ratios.

    Log risk ratio and its sampling variance per trial, as ``escalc(measure = "RR", ai = tpos,
    bi = tneg, ci = cpos, di = cneg, data = dat.bcg)``.

    Returns
    -------
    yi : ndarray of float
        Log risk ratio of tuberculosis, vaccinated vs control.
    vi : ndarray of float
        Its sampling variance.

    Examples
    --------
    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import bcg
    >>> yi, vi = bcg()
    >>> print(np.round(yi[:3], 4), np.round(vi[:3], 4))
    [-0.8893 -1.5854 -1.3481] [0.3256 0.1946 0.4154]
    """
    t = {k: np.array(v, dtype=float) for k, v in _BCG.items()}
    tpos, tneg, cpos, cneg = t["tpos"], t["tneg"], t["cpos"], t["cneg"]
    yi = np.log(tpos / (tpos + tneg)) - np.log(cpos / (cpos + cneg))
    vi = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return yi, vi


def six_teams() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Six teams of three people, teams 0-2 mentored: a small clustered data set.

    The cluster-robust examples fit ``y ~ treated + tenure`` with ``treated = team < 3`` and
    compare with R's clubSandwich on the same data (``cluster = team``).

    Returns
    -------
    y : ndarray of float
        The outcome (e.g. an engagement score).
    tenure : ndarray of float
        Years in the organisation.
    team : ndarray of int
        Team 0 to 5.

    Examples
    --------
    >>> from rm_analytics.stats.datasets import six_teams
    >>> y, tenure, team = six_teams()
    >>> print(y[:3], tenure[:3], team[:6])
    [4.  5.  3.7] [2. 5. 1.] [0 0 0 1 1 1]
    """
    y = np.array(
        [4.0, 5.0, 3.7, 4.3, 4.5, 4.5, 4.3, 3.4, 4.4, 3.0, 2.4, 2.6, 2.2, 3.0, 2.1, 3.0, 2.2, 3.1]
    )
    tenure = np.array([2, 5, 1, 7, 3, 4, 6, 2, 8, 1, 5, 3, 4, 9, 2, 6, 3, 5], dtype=float)
    return y, tenure, np.repeat(np.arange(6), 3)
