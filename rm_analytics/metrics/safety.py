"""Psychological safety and pair health: scale scores, reliability, flags, sponsor aggregates.

The playbook's rule: pause pairs with low psychological-safety scores, reshuffle stagnant pairs
at mid-pilot, watch power dynamics. This module measures that and writes the program lead's
action list.

* :func:`scale_scores` scores Edmondson's (1999) psychological-safety scale (7 items, ps1, ps3
  and ps5 negatively worded and reverse-scored as ``(k + 1) - x``), its 5-point variant, or the
  one-item safety rating of the feedback form: the mean score per wave, and each
  respondent's score in ``scores_`` (:func:`scale_score_frame` gives that frame alone).
* :func:`cronbach_alpha` checks the reliability of the adapted pair-level wording, per wave,
  with Feldt's confidence interval.
* :func:`flag_pairs` returns the pairs flagged per code and, in ``flags_``, the confidential
  flag list for the program lead (stable codes, severity, evidence, recommended action).
* :func:`safety_summary` gives sponsors aggregates only: share of pairs with any flag, mean
  safety by wave, alpha by wave, with small groups suppressed and no ids, flags or text.

There are **no official cut-offs** for the scale: every threshold in
:data:`DEFAULT_THRESHOLDS` is a heuristic, not a validated cut-off, and can be changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..data import contract as C
from ..results import Note, Result, tidy
from ..stats.intervals import mean_ci, wilson_ci
from ._inputs import deprecated_min_cell_size
from .delivery import DEFAULT_HEALTH_RULES, delivery_core, delivery_inputs
from .pairs_check import reporting_conflicts

PS_ITEMS: tuple[str, ...] = C.PSYCH_SAFETY_ITEMS
PS_REVERSED: tuple[str, ...] = C.PSYCH_SAFETY_REVERSED

#: Short wording of the negatively worded items (for the evidence column).
REVERSE_ITEM_TEXT = {
    "ps1": "a mistake is often held against you",
    "ps3": "people are sometimes rejected for being different",
    "ps5": "it is difficult to ask for help",
}

#: Flag thresholds. HEURISTICS, NOT VALIDATED CUT-OFFS: the scale has no official cut-offs.
#:
#: - ``low_safety``: LOW_SAFETY when a member's score is strictly below this; None = the scale
#:   midpoint ((1 + k) / 2: 4 on the 7-point scale, 3 on the 5-point variant).
#: - ``feedback_low_safety``: LOW_SAFETY also when the feedback form's one-item safety rating
#:   (1-5) is strictly below this; None = its midpoint (3); False = ignore the feedback form.
#: - ``safety_drop``: SAFETY_DROP when a member's score falls by at least this many points
#:   between consecutive answered waves of the pair.
#: - ``divergence``: DIVERGENCE when mentor and mentee scores of one wave are at least this far
#:   apart.
#: - ``reverse_item_agree``: REVERSE_ITEM_ALERT when a member's raw answer to a negatively
#:   worded item is at or above this (agreement); None = the top two points of the scale
#:   (6 or 7 on 1-7, 4 or 5 on 1-5).
#: - ``no_response_grace_days``: a pulse wave counts as due for NO_RESPONSE once it opened this
#:   many days before ``as_of``.
#: - ``stalled_gap_cadences``: STALLED when no session was held for more than this many planned
#:   cadence periods (2: more than 14 days for a weekly plan).
#: - ``stalled_min_adherence``: STALLED when sessions held / due at the cohort's mid-point is
#:   below this.
#: - ``goal_progress_max``: GOAL_OFF_TRACK when week-6 progress (1-5) is at or below this.
#: - ``min_items``: answered items a scale score needs (fewer: no score).
#: - ``scale_points``: points of the psychological-safety scale; None = from the survey rows'
#:   ``scale_max`` when given, else 7.
DEFAULT_THRESHOLDS: dict[str, Any] = {
    "low_safety": None,
    "feedback_low_safety": None,
    "safety_drop": 1.0,
    "divergence": 2.0,
    "reverse_item_agree": None,
    "no_response_grace_days": 7,
    "stalled_gap_cadences": 2.0,
    "stalled_min_adherence": 0.5,
    "goal_progress_max": 2,
    "min_items": 5,
    "scale_points": None,
}

FLAG_CODES = (
    "LOW_SAFETY",
    "SAFETY_DROP",
    "DIVERGENCE",
    "NO_RESPONSE",
    "REVERSE_ITEM_ALERT",
    "STALLED",
    "GOAL_OFF_TRACK",
    "CONFLICT_OF_INTEREST",
)
SEVERITIES = ("low", "medium", "high")
ACTIONS = ("check in", "pause", "reshuffle", "rematch")
FLAG_COLUMNS = [
    "pair_id",
    "flag",
    "severity",
    "wave",
    "evidence",
    "action",
    "cohort_id",
    "role",
    "value",
    "threshold",
    "raised",
]
#: The playbook's default action of each flag code (STALLED: "check in" before the cohort's
#: mid-point).
_ACTION = {
    "LOW_SAFETY": "pause",
    "SAFETY_DROP": "check in",
    "DIVERGENCE": "check in",
    "NO_RESPONSE": "check in",
    "REVERSE_ITEM_ALERT": "check in",
    "STALLED": "reshuffle",
    "GOAL_OFF_TRACK": "check in",
    "CONFLICT_OF_INTEREST": "rematch",
}
_SEVERITY = {
    "LOW_SAFETY": "high",
    "SAFETY_DROP": "medium",
    "DIVERGENCE": "medium",
    "NO_RESPONSE": "low",
    "REVERSE_ITEM_ALERT": "medium",
    "STALLED": "medium",
    "GOAL_OFF_TRACK": "low",
    "CONFLICT_OF_INTEREST": "high",
}


# -- scale scores ---------------------------------------------------------------------------------
def _surveys_of(data: Any) -> pd.DataFrame:
    from ..data.pilot import Pilot

    if isinstance(data, Pilot):
        data.require("surveys", purpose="psychological-safety scores")
        return data.surveys
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"expected a survey DataFrame or a Pilot, not {type(data).__name__}")
    return data


def _check_scale_args(
    items: Sequence[str], reverse: Sequence[str], scale_points: int, min_items: int
) -> tuple[list[str], list[str]]:
    items = [items] if isinstance(items, str) else list(items)
    reverse = [reverse] if isinstance(reverse, str) else list(reverse)
    if not items:
        raise ValueError("items must name at least one survey item")
    if len(set(items)) != len(items):
        raise ValueError(f"items repeat: {items}")
    stray = [r for r in reverse if r not in items]
    if stray:
        raise ValueError(f"reverse items {stray} are not among items {items}")
    if not (isinstance(scale_points, (int, np.integer)) and scale_points >= 2):
        raise ValueError(f"scale_points must be a whole number >= 2, not {scale_points!r}")
    if not (1 <= int(min_items) <= len(items)):
        raise ValueError(f"min_items must be between 1 and {len(items)} (the number of items)")
    return items, reverse


def _select_items(
    surveys: pd.DataFrame, items: list[str], survey: str | None, scale_points: int
) -> pd.DataFrame:
    need = ["respondent_id", "wave", "item", "value"]
    missing = [c for c in need if c not in surveys.columns]
    if missing:
        raise ValueError(f"the survey table needs the column(s) {', '.join(missing)}")
    mask = surveys["item"].isin(items)
    if survey is not None and "survey" in surveys.columns:
        mask &= surveys["survey"] == survey
    sv = surveys[mask.fillna(False).to_numpy(dtype=bool)]
    for col, want in (("scale_min", 1.0), ("scale_max", float(scale_points))):
        if col in sv.columns:
            given = pd.to_numeric(sv[col], errors="coerce")
            bad = given.notna() & (given != want)
            if bad.any():
                raise ValueError(
                    f"{int(bad.sum())} answer(s) say {col}={given[bad].iloc[0]:g} but the scale "
                    f"is scored as 1-{scale_points}; pass scale_points={int(given[bad].iloc[0])}"
                    if col == "scale_max"
                    else f"{int(bad.sum())} answer(s) have {col}={given[bad].iloc[0]:g}; "
                    "scoring assumes scales that start at 1"
                )
    v = pd.to_numeric(sv["value"], errors="coerce")
    out_of_range = v.notna() & ((v < 1) | (v > scale_points))
    if out_of_range.any():
        ex = sv[out_of_range].iloc[0]
        raise ValueError(
            f"{int(out_of_range.sum())} answer(s) lie outside the 1-{scale_points} scale, e.g. "
            f"item {ex['item']!r} value {ex['value']!r} (row {ex.name}); check scale_points"
        )
    return sv


def _keys(sv: pd.DataFrame) -> list[str]:
    return ["respondent_id", "wave"] + (["pair_id"] if "pair_id" in sv.columns else [])


def scale_score_frame(
    surveys: Any,
    *,
    items: Sequence[str] = PS_ITEMS,
    reverse: Sequence[str] = PS_REVERSED,
    scale_points: int = 7,
    min_items: int = 5,
    survey: str | None = "psych_safety",
) -> pd.DataFrame:
    """Scale score per respondent and wave (and pair): mean of the answered items.

    The engine of :func:`scale_scores` (which adds the mean per wave): the same arguments,
    and the frame it keeps in ``scores_``.

    Negatively worded items are reverse-scored as ``(k + 1) - x`` on a 1..k scale, then the
    score is the mean of the answered items; with fewer than ``min_items`` answered items the
    score is NaN (the row stays, with its ``n_items``).

    Parameters
    ----------
    surveys
        Long survey table (``respondent_id, wave, item, value`` and optional ``survey``,
        ``pair_id``, ``scale_min``, ``scale_max``) or a Pilot.
    items, reverse
        Items of the scale and the negatively worded ones among them. Defaults: Edmondson's
        ``ps1..ps7`` with ``ps1, ps3, ps5`` reversed.
    scale_points
        k of the 1..k agreement scale: 7 (Edmondson) or 5 (the common 5-point variant).
    min_items
        Answered items needed for a score (default 5 of 7).
    survey
        Instrument to take the items from (None: any). For the feedback form's one-item
        rating use ``items=("safety",), reverse=(), scale_points=5, min_items=1,
        survey="feedback"``.

    Returns
    -------
    pandas.DataFrame
        ``respondent_id, wave, pair_id`` (when the table has pair_id), ``score`` (float, NaN
        below ``min_items``) and ``n_items`` (answered items). One row per respondent, wave
        and pair with at least one row for the items.

    Raises
    ------
    ValueError
        On answers outside 1..k, rows whose ``scale_max`` differs from ``scale_points``, an
        answer given twice, or inconsistent arguments.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> from rm_analytics.metrics.safety import scale_score_frame
    >>> scores = scale_score_frame(rm.load_sample().surveys)
    >>> print(scores.head(3).round(3).to_string(index=False))
    respondent_id     wave pair_id  score  n_items
          E000004 baseline C01-P11  6.143        7
          E000004 midpoint C01-P11  6.571        7
          E000004 endpoint C01-P11  6.286        7

    The negatively worded items (ps1, ps3, ps5) are reversed before averaging.
    """
    items, reverse = _check_scale_args(items, reverse, scale_points, min_items)
    sv = _select_items(_surveys_of(surveys), items, survey, scale_points)
    keys = _keys(sv)
    dup = sv.duplicated([*keys, "item"], keep=False)
    if dup.any():
        ex = sv[dup].iloc[0]
        raise ValueError(
            f"{int(dup.sum())} rows answer the same item twice for one respondent and wave, "
            f"e.g. respondent {ex['respondent_id']} item {ex['item']} wave {ex['wave']}"
        )
    v = pd.to_numeric(sv["value"], errors="coerce").to_numpy(dtype=float)
    rev = sv["item"].isin(reverse).to_numpy(dtype=bool)
    scored = np.where(rev, (scale_points + 1) - v, v)
    frame = sv[keys].assign(_v=scored)
    g = frame.groupby(keys, observed=True, dropna=False, sort=True)["_v"]
    out = pd.DataFrame({"_sum": g.sum(), "n_items": g.count()}).reset_index()
    out["score"] = np.where(
        out.n_items >= min_items, out._sum / out.n_items.where(out.n_items > 0), np.nan
    )
    out["n_items"] = out.n_items.astype(int)
    return out[[*keys, "score", "n_items"]]


class ScaleScores(Result):
    """Scale scores (see :func:`scale_scores`).

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per wave: ``metric`` (``mean_score``), ``wave``, ``estimate`` (mean score of
        the respondents with a score), ``ci_low, ci_high`` (t interval), ``p_value`` (NaN:
        descriptive), ``n`` (respondents with a score), ``n_no_score`` (respondents with fewer
        than ``min_items`` answered items).
    scores_ : pandas.DataFrame
        One row per respondent, wave (and pair): ``respondent_id, wave, pair_id, score,
        n_items`` (see :func:`scale_score_frame`).
    """

    title = "Scale scores"
    scores_: pd.DataFrame

    def plot(self, ax=None):
        """Mean score per wave with its interval, on the scale's range. Returns the axes."""
        import matplotlib.pyplot as plt

        from ..plotting.errorbars import error_bars

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        s = self.summary
        x = np.arange(len(s))
        est = s.estimate.to_numpy(dtype=float)
        ax.errorbar(x, est, yerr=error_bars(est, s.ci_low, s.ci_high), fmt="o-", capsize=3)
        k = self.arguments.get("scale_points", 7)
        ax.set_xticks(x, s.wave.astype(str).tolist())
        ax.set_ylim(1, k)
        ax.set_ylabel(f"mean score (1-{k}, 95% CI)")
        ax.set_title(self.title)
        return ax


def scale_scores(
    surveys: Any,
    *,
    items: Sequence[str] = PS_ITEMS,
    reverse: Sequence[str] = PS_REVERSED,
    scale_points: int = 7,
    min_items: int = 5,
    survey: str | None = "psych_safety",
    alpha: float = 0.05,
) -> ScaleScores:
    """Scale scores: each respondent's score per wave (and pair) and the mean per wave.

    Negatively worded items are reverse-scored as ``(k + 1) - x`` on a 1..k scale, then a
    respondent's score is the mean of the answered items; with fewer than ``min_items``
    answered items there is no score. The summary gives the mean score per wave with a t
    interval over respondents (the two members of a pair count as independent answers).

    Parameters
    ----------
    surveys
        Long survey table (``respondent_id, wave, item, value`` and optional ``survey``,
        ``pair_id``, ``scale_min``, ``scale_max``) or a Pilot.
    items, reverse, scale_points, min_items, survey
        As in :func:`scale_score_frame` (defaults: Edmondson's ``ps1..ps7`` on 1-7 with
        ``ps1, ps3, ps5`` reversed, 5 answered items needed, survey ``psych_safety``).
    alpha
        1 - confidence level of the intervals.

    Returns
    -------
    ScaleScores
        ``summary`` (``metric`` = ``mean_score``, ``wave``, ``estimate, ci_low, ci_high,
        p_value, n, n_no_score``) and ``scores_`` (one row per respondent and wave).

    Raises
    ------
    ValueError
        As :func:`scale_score_frame`.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.scale_scores(rm.load_sample())
    >>> cols = ["metric", "wave", "estimate", "ci_low", "ci_high", "n"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
        metric     wave  estimate  ci_low  ci_high  n
    mean_score baseline     5.578   5.451    5.704 69
    mean_score midpoint     5.527   5.391    5.662 64
    mean_score endpoint     5.652   5.519    5.784 41

    Psychological safety stays high (about 5.6 on the 1-7 scale) through the cohort.
    """
    scores = scale_score_frame(
        surveys,
        items=items,
        reverse=reverse,
        scale_points=scale_points,
        min_items=min_items,
        survey=survey,
    )
    rows = []
    for wave, g in scores.groupby("wave", observed=True, sort=True):
        m, lo, hi, n = mean_ci(g.score.dropna().to_numpy(dtype=float), alpha)
        rows.append(
            {
                "metric": "mean_score",
                "wave": wave,
                "estimate": m,
                "ci_low": lo,
                "ci_high": hi,
                "p_value": np.nan,
                "n": n,
                "n_no_score": int(g.score.isna().sum()),
            }
        )
    cols = ["metric", "wave", "estimate", "ci_low", "ci_high", "p_value", "n", "n_no_score"]
    notes = [
        Note(
            f"Score: mean of the answered items ({len(list(items))} items on 1-{scale_points}"
            + (f", {', '.join(reverse)} reverse-scored as (k + 1) - x" if len(reverse) else "")
            + f"); no score with fewer than {min_items} answered items. Mean per wave with a "
            "t interval over respondents.",
            "method",
        )
    ]
    n_none = int(scores.score.isna().sum())
    if n_none:
        notes.append(
            Note(
                f"{n_none} respondent-wave(s) answered fewer than {min_items} items: no score.",
                "excluded_rows",
            )
        )
    res = ScaleScores(
        pd.DataFrame(rows, columns=cols),
        notes,
        items=list(items),
        reverse=list(reverse),
        scale_points=scale_points,
        min_items=min_items,
        survey=survey,
        alpha=alpha,
    )
    res.scores_ = scores
    return res


# -- reliability ----------------------------------------------------------------------------------
def _alpha_from_matrix(x: np.ndarray) -> float:
    """Cronbach's alpha of complete rows x (n x k): k/(k-1) (1 - sum var_i / var_total)."""
    n, k = x.shape
    if n < 2 or k < 2:
        return float("nan")
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var <= 0:
        return float("nan")
    return float(k / (k - 1) * (1 - item_var / total_var))


def _negative_alpha_hint(x: np.ndarray, items: Sequence[str], reverse: Sequence[str]) -> str:
    """Why alpha may be negative: items correlating negatively with the rest of the scale."""
    rest = x.sum(axis=1, keepdims=True) - x
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.array([np.corrcoef(x[:, j], rest[:, j])[0, 1] for j in range(x.shape[1])])
    neg = [it for it, v in zip(items, r, strict=True) if np.isfinite(v) and v < 0]
    text = (
        "negative alpha: the items disagree with each other on average, which usually means "
        "mis-keyed items"
    )
    if neg:
        text += (
            f"; {', '.join(neg)} correlate negatively with the rest of the scale (check whether "
            "they should be reverse-scored"
            + (f"; reversed now: {', '.join(reverse)}" if reverse else "; none reversed now")
            + ")"
        )
    return text


def alpha_from_cov(cov: np.ndarray) -> float:
    """Cronbach's alpha from an item covariance matrix: k/(k-1) (1 - trace / sum).

    Examples
    --------
    >>> import numpy as np
    >>> from rm_analytics.metrics.safety import alpha_from_cov
    >>> cov = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]])
    >>> round(alpha_from_cov(cov), 3)
    0.75

    Three items with unit variances correlated 0.5 give alpha = 3/2 (1 - 3/6) = 0.75.
    """
    c = np.asarray(cov, dtype=float)
    k = c.shape[0]
    return float(k / (k - 1) * (1 - np.trace(c) / c.sum()))


def feldt_ci(alpha_hat: float, n: int, k: int, ci: float = 0.95) -> tuple[float, float]:
    """Feldt, Woodruff & Salih (1987) interval for Cronbach's alpha.

    ``1 - (1 - alpha) F_{1-c/2}`` and ``1 - (1 - alpha) F_{c/2}`` with F on ``n - 1`` and
    ``(n - 1)(k - 1)`` degrees of freedom (as R's ``cocron::cronbach.alpha.CI`` and
    pingouin).

    Examples
    --------
    >>> from rm_analytics.metrics.safety import feldt_ci
    >>> low, high = feldt_ci(0.8, n=60, k=7)
    >>> round(low, 3), round(high, 3)
    (0.712, 0.869)
    """
    if not np.isfinite(alpha_hat) or n < 2 or k < 2:
        return (float("nan"), float("nan"))
    a = 1 - ci
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1 - (1 - alpha_hat) * stats.f.isf(a / 2, df1, df2)
    upper = 1 - (1 - alpha_hat) * stats.f.isf(1 - a / 2, df1, df2)
    return (float(lower), float(upper))


def _to_wide(
    keys: pd.DataFrame, item: pd.Series, value: np.ndarray, items: list[str]
) -> pd.DataFrame:
    """One row per distinct key combination (missing keys allowed), one column per item."""
    code = np.zeros(len(keys), dtype=np.int64)
    for col in keys.columns:
        c, uniq = pd.factorize(keys[col], use_na_sentinel=False)
        code = code * (len(uniq) + 1) + c
    _, first, inv = np.unique(code, return_index=True, return_inverse=True)
    pos = pd.Index(items).get_indexer(item.astype("string").to_numpy())
    mat = np.full((len(first), len(items)), np.nan)
    ok = pos >= 0
    mat[inv[ok], pos[ok]] = value[ok]
    out = keys.iloc[first].reset_index(drop=True)
    return pd.concat([out, pd.DataFrame(mat, columns=items)], axis=1)


class AlphaResult(Result):
    """Cronbach's alpha per group (see :func:`cronbach_alpha`).

    ``summary`` columns: ``metric`` (``cronbach_alpha``), the ``by`` columns, ``estimate``
    (alpha), ``ci_low, ci_high`` (Feldt), ``p_value`` (NaN: no test), ``n`` (complete
    respondents), ``n_items``, ``n_excluded``, ``method`` and ``note`` (why an estimate is
    NaN, or which items make it negative; else empty).
    """

    title = "Reliability (Cronbach's alpha)"

    def plot(self, ax=None):
        """Alpha per group with its Feldt interval. Returns the axes."""
        import matplotlib.pyplot as plt

        from ..plotting.errorbars import error_bars

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3))
        s = self.summary
        by = self.arguments.get("by") or []
        labels = s[by].astype(str).agg(" / ".join, axis=1).tolist() if by else ["all"] * len(s)
        x = np.arange(len(s))
        est = s.estimate.to_numpy(dtype=float)
        ax.errorbar(x, est, yerr=error_bars(est, s.ci_low, s.ci_high), fmt="o", capsize=3)
        ax.set_xticks(x, labels)
        ax.set_ylabel("Cronbach's alpha (Feldt interval)")
        ax.set_title(self.title)
        return ax


def cronbach_alpha(
    data: Any,
    *,
    items: Sequence[str] = PS_ITEMS,
    reverse: Sequence[str] = PS_REVERSED,
    scale_points: int = 7,
    survey: str | None = "psych_safety",
    by: str | Sequence[str] | None = "wave",
    ci: float = 0.95,
) -> AlphaResult:
    """Cronbach's alpha with Feldt's confidence interval, per wave (or other groups).

    Negatively worded items are reverse-scored first (``(k + 1) - x``). Respondents with any
    item missing are left out (listwise deletion, as R's ``psych::alpha(use="complete.obs")``)
    and counted in ``n_excluded``. The interval is Feldt, Woodruff & Salih's (1987) F-based
    interval (see :func:`feldt_ci`), which assumes the usual normal-theory model.

    Parameters
    ----------
    data
        Long survey table (with an ``item`` column; pivoted to one row per respondent, wave and
        pair) or a Pilot, or a wide table with one column per item (``by`` columns optional).
    items, reverse, scale_points, survey
        As in :func:`scale_scores`.
    by
        Grouping column(s) (default ``wave``); None for one overall alpha.
    ci
        Confidence level of the interval.

    Returns
    -------
    AlphaResult
        ``summary`` with one row per group: ``metric`` (``cronbach_alpha``), the ``by``
        columns, ``estimate`` (alpha), ``ci_low``, ``ci_high``, ``p_value`` (NaN), ``n``
        (complete respondents), ``n_items`` (k), ``n_excluded`` (respondents with a missing
        item), ``method`` and ``note`` (why an estimate is NaN; for a negative alpha, the
        items that correlate negatively with the rest of the scale, the usual sign of
        mis-keyed items, as R's ``psych::alpha`` warns; else empty). The notes repeat each
        group's note with a code.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.cronbach_alpha(rm.load_sample())
    >>> cols = ["metric", "wave", "estimate", "ci_low", "ci_high", "n"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
            metric     wave  estimate  ci_low  ci_high  n
    cronbach_alpha baseline     0.717   0.602    0.809 69
    cronbach_alpha midpoint     0.743   0.634    0.829 64
    cronbach_alpha endpoint     0.540   0.287    0.726 41

    The scale is acceptably reliable at baseline and midpoint (about 0.7); at the endpoint,
    with 41 answers, alpha is lower and its interval wide.
    """
    items, reverse = _check_scale_args(items, reverse, scale_points, 1)
    if len(items) < 2:
        raise ValueError("Cronbach's alpha needs at least two items")
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if isinstance(data, pd.DataFrame) and "item" not in data.columns:
        missing = [c for c in [*items, *by_cols] if c not in data.columns]
        if missing:
            raise ValueError(f"wide data need the column(s) {', '.join(missing)}")
        wide = data[[*by_cols, *items]].copy()
        for r in reverse:
            wide[r] = (scale_points + 1) - pd.to_numeric(wide[r], errors="coerce")
    else:
        sv = _select_items(_surveys_of(data), items, survey, scale_points)
        keys = _keys(sv)
        missing = [c for c in by_cols if c not in keys and c not in sv.columns]
        if missing:
            raise ValueError(f"cannot group by {missing}: not a column of the survey table")
        v = pd.to_numeric(sv["value"], errors="coerce")
        v = v.where(~sv["item"].isin(reverse), (scale_points + 1) - v)
        idx = keys + [c for c in by_cols if c not in keys]
        wide = _to_wide(sv[idx], sv["item"], v.to_numpy(dtype=float), items)
        wide = wide.dropna(subset=items, how="all")
    groups = wide.groupby(by_cols, observed=True, sort=True) if by_cols else [((), wide)]
    rows = []
    for key, g in groups:
        x = g[items].to_numpy(dtype=float)
        complete = ~np.isnan(x).any(axis=1)
        xc = x[complete]
        a = _alpha_from_matrix(xc)
        lo, hi = feldt_ci(a, len(xc), len(items), ci)
        note = ""
        if len(xc) < 2:
            note = "fewer than two complete respondents"
        elif not np.isfinite(a):
            note = "no variation in total scores"
        elif a < 0:
            note = _negative_alpha_hint(xc, items, reverse)
        key = key if isinstance(key, tuple) else (key,)
        rows.append(
            dict(
                zip(by_cols, key, strict=True),
                estimate=a,
                ci_low=lo,
                ci_high=hi,
                n=int(complete.sum()),
                n_items=len(items),
                n_excluded=int((~complete).sum()),
                method="Cronbach's alpha, Feldt interval, listwise deletion",
                note=note,
            )
        )
    cols = [
        *by_cols,
        "estimate",
        "ci_low",
        "ci_high",
        "n",
        "n_items",
        "n_excluded",
        "method",
        "note",
    ]
    summary = pd.DataFrame(rows, columns=cols)
    summary.insert(0, "metric", "cronbach_alpha")
    summary["p_value"] = np.nan
    notes: list[Note] = [
        Note(
            "Cronbach's alpha of complete respondents (listwise deletion) with Feldt, Woodruff "
            f"& Salih's {ci:.0%} interval"
            + (f"; {', '.join(reverse)} reverse-scored first." if len(reverse) else "."),
            "method",
        )
    ]
    for r in summary.itertuples(index=False):
        if r.note:
            where = " / ".join(str(getattr(r, c)) for c in by_cols)
            code = "assumption" if np.isfinite(r.estimate) else "not_estimable"
            notes.append(Note(f"{where + ': ' if where else ''}{r.note}.", code))
    n_exc = int(summary.n_excluded.sum())
    if n_exc:
        notes.append(
            Note(
                f"{n_exc} respondent(s) with a missing item left out (listwise deletion).",
                "excluded_rows",
            )
        )
    return AlphaResult(
        tidy(summary, by_cols),
        notes,
        items=list(items),
        reverse=list(reverse),
        scale_points=scale_points,
        survey=survey,
        by=by_cols,
        ci=ci,
    )


# -- flags ----------------------------------------------------------------------------------------
def _thresholds(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    th = dict(DEFAULT_THRESHOLDS)
    for key, value in (overrides or {}).items():
        if key not in th:
            raise ValueError(
                f"unknown threshold {key!r}; known: {', '.join(sorted(DEFAULT_THRESHOLDS))}"
            )
        th[key] = value
    return th


def _scale_points(sv: pd.DataFrame, default: int) -> int:
    if "scale_max" in sv.columns:
        given = pd.to_numeric(sv["scale_max"], errors="coerce").dropna().unique()
        if len(given) == 1:
            return int(given[0])
        if len(given) > 1:
            raise ValueError(
                f"psych_safety answers use several scales (scale_max {sorted(given)}); score "
                "them separately"
            )
    return default


class _Pulse:
    """Pulse answers of pair members, up to as_of, with roles and per-cohort wave dates."""

    def __init__(self, pilot, th: dict[str, Any], as_of: pd.Timestamp) -> None:
        self.notes: list[str] = []
        self.ok = False
        sv = pilot.surveys
        members = pilot.participants("both")[["employee_id", "role", "pair_id", "cohort_id"]]
        self.members = members
        if sv is None or len(sv) == 0:
            self.notes.append("no survey table: safety flags (pulse and feedback) not checked")
            return
        ps = sv[(sv["survey"] == "psych_safety").fillna(False).to_numpy(dtype=bool)]
        self.fb = sv[
            ((sv["survey"] == "feedback") & (sv["item"] == "safety")).fillna(False).to_numpy(bool)
        ]
        self.fb = self._own(pilot, self._upto(pilot, self.fb, as_of, "feedback safety"), "feedback")
        self.fb_dates = _answer_dates(self.fb)
        if len(ps) == 0:
            self.notes.append("no psych_safety pulse answers: pulse-based flags not checked")
            return
        ps = self._upto(pilot, ps, as_of, "psych_safety")
        ps = self._own(pilot, ps, "psych_safety")
        self.k = th["scale_points"] or _scale_points(ps, 7)
        self.raw = ps
        self.dates = _answer_dates(ps)
        scores = scale_score_frame(
            ps, scale_points=self.k, min_items=int(th["min_items"]), survey="psych_safety"
        )
        scores = scores.merge(
            members.rename(columns={"employee_id": "respondent_id"}),
            on=["respondent_id", "pair_id"],
            how="inner",
        )
        scores["wave"] = scores["wave"].astype("string")
        # per-cohort wave dates: open (first answer), median, close (last answer)
        dated = ps[["pair_id", "wave", "response_date"]].assign(wave=ps["wave"].astype("string"))
        dated = dated.merge(members[["pair_id", "cohort_id"]].drop_duplicates(), on="pair_id")
        w = dated.groupby(["cohort_id", "wave"]).response_date.agg(["min", "median", "max"])
        w.columns = ["open", "median", "close"]
        w = w.reset_index()
        w["rank"] = w.groupby("cohort_id")["median"].rank(method="first")
        self.waves = w
        self.scores = scores.merge(w[["cohort_id", "wave", "rank"]], on=["cohort_id", "wave"])
        self.ok = True

    @staticmethod
    def _upto(pilot, df: pd.DataFrame, as_of: pd.Timestamp, label: str) -> pd.DataFrame:
        late = (df.response_date > as_of).to_numpy(dtype=bool)
        if late.any():
            pilot.log_quality(
                "surveys",
                "safety flags",
                f"{label} answers after as_of",
                int(late.sum()),
                "excluded",
                f"answered after {as_of:%Y-%m-%d}",
            )
        return df[~late]

    def _own(self, pilot, df: pd.DataFrame, label: str) -> pd.DataFrame:
        """Keep answers by a member of the pair they name; count the rest."""
        if "pair_id" not in df.columns:
            df = df.assign(pair_id=pd.NA)
        key = pd.MultiIndex.from_frame(
            self.members[["pair_id", "employee_id"]].astype("string")
        ).drop_duplicates()
        probe = pd.MultiIndex.from_arrays(
            [df.pair_id.astype("string"), df.respondent_id.astype("string")]
        )
        no_pair = df.pair_id.isna().to_numpy(dtype=bool)
        member = probe.isin(key)
        if no_pair.any():
            pilot.log_quality(
                "surveys",
                "safety flags",
                f"{label} answers without pair_id",
                int(no_pair.sum()),
                "excluded",
                "pair-level answers need the pair they are about",
            )
        stray = ~no_pair & ~member
        if stray.any():
            pilot.log_quality(
                "surveys",
                "safety flags",
                f"{label} answers by non-members",
                int(stray.sum()),
                "excluded",
                "respondent is not the mentor or mentee of the pair named",
            )
        return df[member]


def _answer_dates(sv: pd.DataFrame) -> pd.DataFrame:
    """Date of each member's answer per pair and wave (the latest of its items)."""
    cols = ["pair_id", "respondent_id", "wave"]
    if len(sv) == 0:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in cols}).assign(
            raised=pd.Series(dtype="datetime64[ns]")
        )
    d = sv[[*cols, "response_date"]].astype({c: "string" for c in cols})
    return d.groupby(cols, observed=True).response_date.max().rename("raised").reset_index()


def _flag_frame(
    df: pd.DataFrame, flag: str, action: str | Sequence[str], evidence: Sequence[str]
) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "pair_id": df["pair_id"].to_numpy(),
            "flag": flag,
            "severity": _SEVERITY[flag],
            "wave": df["wave"].to_numpy() if "wave" in df.columns else pd.NA,
            "evidence": list(evidence),
            "action": action if isinstance(action, str) else list(action),
            "cohort_id": df["cohort_id"].to_numpy() if "cohort_id" in df.columns else pd.NA,
            "role": df["role"].to_numpy() if "role" in df.columns else pd.NA,
            "value": df["value"].to_numpy(dtype=float) if "value" in df.columns else np.nan,
            "threshold": df["threshold"].to_numpy(dtype=float)
            if "threshold" in df.columns
            else np.nan,
            "raised": pd.to_datetime(df["raised"]).to_numpy(dtype="datetime64[ns]")
            if "raised" in df.columns
            else np.datetime64("NaT", "ns"),
        }
    )
    return out


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _pulse_flags(p: _Pulse, th: dict[str, Any], as_of: pd.Timestamp, pilot) -> list[pd.DataFrame]:
    out: list[pd.DataFrame] = []
    k = p.k
    mid = (1 + k) / 2
    s = p.scores[p.scores.score.notna()]
    s = s.merge(
        p.dates, on=["pair_id", "respondent_id", "wave"], how="left", validate="many_to_one"
    )
    # LOW_SAFETY
    low = float(th["low_safety"]) if th["low_safety"] is not None else mid
    hit = s[s.score < low].assign(value=lambda d: d.score, threshold=low)
    out.append(
        _flag_frame(
            hit,
            "LOW_SAFETY",
            "pause",
            [
                f"{r} scored {_fmt(v)} on the {k}-point safety scale ({n} items) at the {w} "
                f"pulse; flagged below {_fmt(low)} (heuristic)"
                for r, v, n, w in zip(hit.role, hit.score, hit.n_items, hit.wave, strict=True)
            ],
        )
    )
    # SAFETY_DROP: consecutive answered waves of a member in a pair
    srt = s.sort_values(["pair_id", "role", "rank"])
    grp = srt.groupby(["pair_id", "role"], sort=False)
    prev = grp.score.shift()
    prev_wave = grp.wave.shift()
    fall = prev - srt.score
    thr = float(th["safety_drop"])
    m = (fall >= thr - 1e-9).to_numpy(dtype=bool)
    hit = srt[m].assign(value=fall[m], threshold=thr)
    out.append(
        _flag_frame(
            hit,
            "SAFETY_DROP",
            "check in",
            [
                f"{r}'s score fell by {_fmt(f)} points, from {_fmt(a)} ({pw}) to {_fmt(b)} ({w}); "
                f"flagged at a fall of {_fmt(thr)} or more (heuristic)"
                for r, f, a, pw, b, w in zip(
                    hit.role, fall[m], prev[m], prev_wave[m], hit.score, hit.wave, strict=True
                )
            ],
        )
    )
    # DIVERGENCE
    wide = s.pivot_table(
        index=["pair_id", "cohort_id", "wave"], columns="role", values="score", aggfunc="first"
    )
    if {"mentor", "mentee"} <= set(wide.columns):
        wide = wide.dropna(subset=["mentor", "mentee"]).reset_index()
        latest = s.groupby(["pair_id", "wave"], observed=True).raised.max().rename("raised")
        wide = wide.join(latest, on=["pair_id", "wave"])
        gap = (wide.mentor - wide.mentee).abs()
        thr = float(th["divergence"])
        m = (gap >= thr - 1e-9).to_numpy(dtype=bool)
        hit = wide[m].assign(
            value=gap[m],
            threshold=thr,
            role=np.where(wide.mentor[m] < wide.mentee[m], "mentor", "mentee"),
        )
        out.append(
            _flag_frame(
                hit,
                "DIVERGENCE",
                "check in",
                [
                    f"mentor {_fmt(a)} vs mentee {_fmt(b)} at the {w} pulse ({_fmt(abs(a - b))} "
                    f"points apart; flagged at {_fmt(thr)} or more, heuristic); the lower score "
                    f"is the {r}'s"
                    for a, b, w, r in zip(hit.mentor, hit.mentee, hit.wave, hit.role, strict=True)
                ],
            )
        )
    # REVERSE_ITEM_ALERT (raw answers, before reverse-scoring)
    agree = float(th["reverse_item_agree"]) if th["reverse_item_agree"] is not None else k - 1.0
    raw = p.raw
    rv = raw[(raw["item"].isin(list(PS_REVERSED)) & (raw["value"] >= agree)).to_numpy(bool)]
    if len(rv):
        rv = rv.assign(
            item=rv["item"].astype("string"),
            wave=rv["wave"].astype("string"),
            desc=lambda d: (
                "'"
                + d["item"].map(REVERSE_ITEM_TEXT).fillna(d["item"])
                + "' ("
                + d["item"]
                + " = "
                + d["value"].map(_fmt)
                + ")"
            ),
        )
        agg = (
            rv.groupby(["pair_id", "respondent_id", "wave"], sort=True)
            .agg(desc=("desc", "; ".join), value=("value", "max"), raised=("response_date", "max"))
            .reset_index()
        )
        agg = agg.merge(
            p.members.rename(columns={"employee_id": "respondent_id"}),
            on=["pair_id", "respondent_id"],
        ).assign(threshold=agree)
        out.append(
            _flag_frame(
                agg,
                "REVERSE_ITEM_ALERT",
                "check in",
                [
                    f"{r} agreed with a negatively worded item at the {w} pulse: {d}; flagged at "
                    f"{_fmt(agree)} or more on the {k}-point scale (heuristic)"
                    for r, w, d in zip(agg.role, agg.wave, agg.desc, strict=True)
                ],
            )
        )
    # NO_RESPONSE
    out.append(_no_response(p, th, as_of, pilot))
    return out


def _no_response(p: _Pulse, th: dict[str, Any], as_of: pd.Timestamp, pilot) -> pd.DataFrame:
    grace = pd.Timedelta(days=float(th["no_response_grace_days"]))
    waves = p.waves[p.waves.open + grace <= as_of]
    pairs = pilot.pairs[["pair_id", "start_date", "end_date"]]
    due = p.members.merge(pairs, on="pair_id").merge(
        waves[["cohort_id", "wave", "open", "close"]], on="cohort_id"
    )
    stop = due.end_date.fillna(as_of).clip(upper=as_of)
    ok = (due.start_date <= due.close) & (due.open <= stop)
    emp = pilot.employees.set_index("employee_id")
    term = emp.termination_date.reindex(due.employee_id.to_numpy()).to_numpy()
    ok &= ~(pd.Series(term, index=due.index) <= due.open).fillna(False)
    due = due[ok.to_numpy(dtype=bool)]
    answered = pd.MultiIndex.from_arrays(
        [
            p.raw.pair_id.astype("string"),
            p.raw.respondent_id.astype("string"),
            p.raw.wave.astype("string"),
        ]
    ).unique()
    probe = pd.MultiIndex.from_arrays(
        [due.pair_id.astype("string"), due.employee_id.astype("string"), due.wave]
    )
    miss = due[~probe.isin(answered)]
    miss = miss.assign(raised=miss.open + grace)  # the day the missing answer became overdue
    return _flag_frame(
        miss,
        "NO_RESPONSE",
        "check in",
        [
            f"the {r} did not answer the {w} pulse (opened {o:%Y-%m-%d}, the pair was running)"
            for r, w, o in zip(miss.role, miss.wave, miss.open, strict=True)
        ],
    )


def _feedback_flags(p: _Pulse, th: dict[str, Any]) -> pd.DataFrame | None:
    if th["feedback_low_safety"] is False or len(p.fb) == 0:
        return None
    fb_points = _scale_points(p.fb, 5)
    sc = scale_score_frame(
        p.fb,
        items=("safety",),
        reverse=(),
        scale_points=fb_points,
        min_items=1,
        survey="feedback",
    ).dropna(subset=["score"])
    thr = (
        float(th["feedback_low_safety"])
        if th["feedback_low_safety"] is not None
        else (1 + fb_points) / 2
    )
    hit = sc[sc.score < thr].merge(
        p.members.rename(columns={"employee_id": "respondent_id"}), on=["respondent_id", "pair_id"]
    )
    hit = hit.assign(wave=hit.wave.astype("string"), value=hit.score, threshold=thr)
    hit = hit.astype({"pair_id": "string", "respondent_id": "string"}).merge(
        p.fb_dates, on=["pair_id", "respondent_id", "wave"], how="left"
    )
    return _flag_frame(
        hit,
        "LOW_SAFETY",
        "pause",
        [
            f"{r} rated safety in the relationship {_fmt(v)} of {fb_points} on the feedback form "
            f"({w}); flagged below {_fmt(thr)} (heuristic)"
            for r, v, w in zip(hit.role, hit.score, hit.wave, strict=True)
        ],
    )


def _stalled(pilot, th: dict[str, Any], as_of: pd.Timestamp) -> pd.DataFrame:
    info, sessions, _, _ = delivery_inputs(pilot)
    info = info.reset_index(drop=True)
    rules = dict(DEFAULT_HEALTH_RULES, gap_cadences=float(th["stalled_gap_cadences"]))
    n = len(info)
    now, excluded = delivery_core(info, sessions, pd.Series(as_of, index=range(n)), rules)
    for check, (rows, detail) in excluded.items():
        pilot.log_quality("sessions", "safety flags", check, rows, "excluded", detail)
    mid_date = (
        info.cohort_start_date + (info.cohort_end_date - info.cohort_start_date) / 2
    ).dt.normalize()
    at_mid, _ = delivery_core(info, sessions, mid_date.clip(upper=as_of), rules)
    past_mid = (mid_date <= as_of).to_numpy(dtype=bool)
    limit = now.cadence_days * float(th["stalled_gap_cadences"])
    gap_hit = (now.days_inactive > limit).to_numpy(dtype=bool)
    thr = float(th["stalled_min_adherence"])
    adh_hit = past_mid & (at_mid.adherence < thr).to_numpy(dtype=bool)
    status = info.status.astype("string")
    live = (status.isna() | status.isin(["active", "completed"])).to_numpy(dtype=bool)
    hit = (gap_hit | adh_hit) & live
    evidence = []
    for j in np.flatnonzero(hit):
        parts = []
        if gap_hit[j]:
            last = now.days_since_last_held[j]
            since = (
                f"{int(now.days_inactive[j])} days since the last held session"
                if np.isfinite(last)
                else f"no held session in the {int(now.days_inactive[j])} days since the start"
            )
            parts.append(
                f"{since} (more than {_fmt(limit[j])} days = "
                f"{_fmt(th['stalled_gap_cadences'])} x the {int(now.cadence_days[j])}-day cadence)"
            )
        if adh_hit[j]:
            parts.append(
                f"{int(at_mid.sessions_held[j])} of {int(at_mid.expected_by_now[j])} due sessions "
                f"held at mid-pilot ({mid_date[j]:%Y-%m-%d}; under {_fmt(thr * 100)}%)"
            )
        st = status.iloc[j] if pd.notna(status.iloc[j]) else "unknown"
        evidence.append(
            "; ".join(parts)
            + f"; as of {now.observed_until[j]:%Y-%m-%d}, pair status {st} (heuristic)"
        )
    # raised: the first day without a held session for more than the limit, or the mid-point
    anchor = now.observed_until - pd.to_timedelta(now.days_inactive.fillna(0), unit="D")
    crossed = anchor + pd.to_timedelta(np.floor(limit.fillna(0)) + 1, unit="D")
    raised = np.where(
        gap_hit & adh_hit,
        np.minimum(crossed.to_numpy(), mid_date.to_numpy()),
        np.where(gap_hit, crossed.to_numpy(), mid_date.to_numpy()),
    )
    df = pd.DataFrame(
        {
            "pair_id": info.pair_id.to_numpy()[hit],
            "cohort_id": info.cohort_id.to_numpy()[hit],
            "value": np.where(gap_hit, now.days_inactive, at_mid.adherence)[hit],
            "threshold": np.where(gap_hit, limit, thr)[hit],
            "raised": raised[hit],
        }
    )
    action = np.where(past_mid[hit], "reshuffle", "check in")
    return _flag_frame(df, "STALLED", action, evidence)


def _goal_flags(pilot, th: dict[str, Any], as_of: pd.Timestamp) -> pd.DataFrame | None:
    cp = pilot.checkpoints
    if cp is None or len(cp) == 0:
        return None
    thr = float(th["goal_progress_max"])
    wk6 = cp[(cp.checkpoint == "week6").fillna(False).to_numpy(dtype=bool)]
    if "date" in wk6.columns:
        wk6 = wk6[~(wk6.date > as_of).fillna(False).to_numpy(dtype=bool)]
    prog = pd.to_numeric(wk6.progress, errors="coerce").astype(float)
    hit = wk6[(prog <= thr).fillna(False).to_numpy(dtype=bool)]
    cohort = pilot.pairs.set_index("pair_id").cohort_id
    # raised: the date of the check; without one, six weeks after the pair's start
    start = pilot.pairs.set_index("pair_id").start_date.reindex(hit.pair_id.to_numpy())
    when = start.to_numpy() + np.timedelta64(42, "D")
    if "date" in hit.columns:
        when = hit.date.fillna(pd.Series(when, index=hit.index)).to_numpy()
    hit = pd.DataFrame(
        {
            "pair_id": hit.pair_id.to_numpy(),
            "cohort_id": cohort.reindex(hit.pair_id.to_numpy()).to_numpy(),
            "wave": "week6",
            "value": prog[hit.index].to_numpy(),
            "threshold": thr,
            "raised": when,
        }
    )
    return _flag_frame(
        hit,
        "GOAL_OFF_TRACK",
        "check in",
        [
            f"week-6 progress against the SMART goal rated {int(v)} of 5; flagged at "
            f"{_fmt(thr)} or less (heuristic)"
            for v in hit.value
        ],
    )


def _conflict_flags(pilot) -> pd.DataFrame | None:
    if "manager_id" not in pilot.employees.columns:
        return None
    c = reporting_conflicts(pilot.employees, pilot.pairs)
    cohort = pilot.pairs.set_index("pair_id").cohort_id
    start = pilot.pairs.set_index("pair_id").start_date
    c = c.assign(
        cohort_id=cohort.reindex(c.pair_id.to_numpy()).to_numpy(),
        value=c.levels.astype(float),
        role="both",
        raised=start.reindex(c.pair_id.to_numpy()).to_numpy(),  # there from the pair's start
    )
    evidence = (c.detail + " (from employees.manager_id as exported)").tolist()
    return _flag_frame(c, "CONFLICT_OF_INTEREST", "rematch", evidence)


class FlagResult(Result):
    """Pair-health flags (see :func:`flag_pairs`). Confidential: for the program lead.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row for any flag and one per flag code (in :data:`FLAG_CODES` order):
        ``metric`` (``pairs_flagged``), ``flag`` (the code; ``any`` for the first row),
        ``severity`` and ``action`` (the code's defaults), ``estimate`` (pairs with that flag;
        NaN when the check could not run), ``ci_low, ci_high, p_value`` (NaN: counts),
        ``n`` (pairs started by ``as_of``), ``flags`` (flags raised) and ``checked``.
    flags_ : pandas.DataFrame
        One row per raised flag (columns in :func:`flag_pairs`): names pairs, never for
        sponsors.
    thresholds_ : dict
        The thresholds used (defaults with the overrides).
    as_of_ : pandas.Timestamp
        The review date.
    """

    title = "Pair-health flags (confidential)"
    flags_: pd.DataFrame
    thresholds_: dict[str, Any]
    as_of_: pd.Timestamp

    def plot(self, ax=None):
        """Pairs per flag code (codes that were checked), most severe first. Returns the
        axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        s = self.summary[self.summary.flag.ne("any") & self.summary.checked]
        y = np.arange(len(s))
        colour = {"high": "#D55E00", "medium": "#E69F00", "low": "#0072B2"}
        ax.barh(y, s.estimate.to_numpy(dtype=float), color=[colour[v] for v in s.severity])
        ax.set_yticks(y, s.flag.tolist())
        ax.invert_yaxis()
        n = int(self.summary.n.iloc[0]) if len(self.summary) else 0
        ax.set_xlabel(f"pairs flagged (of {n} started)")
        ax.set_title(self.title)
        return ax


def flag_pairs(
    pilot,
    *,
    thresholds: Mapping[str, Any] | None = None,
    as_of: str | pd.Timestamp | None = None,
) -> FlagResult:
    """Confidential pair-health flags for the program lead: pairs flagged per code, and the
    flags themselves (one row per raised flag) in ``flags_``.

    Flag codes (stable), with default severity and the playbook's recommended action:

    ===================== ======== ========== ==================================================
    code                  severity action     raised when (thresholds in ``DEFAULT_THRESHOLDS``)
    ===================== ======== ========== ==================================================
    LOW_SAFETY            high     pause      a member's pulse score is below the scale midpoint,
                                              or their feedback-form safety rating is below 3/5
    SAFETY_DROP           medium   check in   a member's score falls >= 1 point between
                                              consecutive answered pulse waves
    DIVERGENCE            medium   check in   mentor and mentee scores >= 2 points apart in a wave
    NO_RESPONSE           low      check in   a member did not answer a pulse wave the pair was
                                              due for (the wave ran in the pair's cohort while
                                              the pair was running and the member employed)
    REVERSE_ITEM_ALERT    medium   check in   agreement (the top two points of the scale) with
                                              a negatively worded item (ps1, ps3, ps5)
    STALLED               medium   reshuffle  no held session for more than 2 cadence periods,
                                   / check in or under 50% of due sessions held at the cohort's
                                              mid-point; "reshuffle" from the cohort's mid-point
                                              on (the playbook's rule), "check in" before it.
                                              Pairs already paused, reshuffled or withdrawn are
                                              not flagged
    GOAL_OFF_TRACK        low      check in   week-6 progress against the SMART goal <= 2 of 5
    CONFLICT_OF_INTEREST  high     rematch    one member is in the other's reporting line (any
                                              number of levels) or both share a manager, from
                                              ``employees.manager_id``
    ===================== ======== ========== ==================================================

    Every threshold is a heuristic, not a validated cut-off (the scale has no official
    cut-offs). Roles come from the pairs table: a pulse answer counts only when its respondent
    is the mentor or mentee of the pair it names; other answers, answers without a pair and
    answers after ``as_of`` are excluded and counted in ``pilot.quality``. Pulse waves are
    ordered per cohort by their median response date. Checks whose table is absent are
    skipped; the notes say which (code ``missing_data``).

    Parameters
    ----------
    pilot
        A :class:`~rm_analytics.Pilot`.
    thresholds
        Overrides of :data:`DEFAULT_THRESHOLDS`.
    as_of
        Date of the review (default: the latest date in the data). Later answers, sessions
        and checkpoints are ignored.

    Returns
    -------
    FlagResult
        ``summary``: pairs flagged per code (see :class:`FlagResult`). ``flags_``: columns
        ``pair_id, flag, severity, wave, evidence, action`` then ``cohort_id, role``
        (member concerned: mentor or mentee; ``both`` for conflicts; NA for pair-level flags
        STALLED and GOAL_OFF_TRACK), ``value`` (the number compared with the threshold: score,
        fall, gap, raw answer, days, adherence, progress, reporting levels; NA for
        NO_RESPONSE), ``threshold`` and ``raised``, the date the flag was raised: the answer's
        response date (LOW_SAFETY, REVERSE_ITEM_ALERT; the later wave's for SAFETY_DROP, the
        later member's for DIVERGENCE), the day a missing pulse answer became overdue (the
        wave's first answer + ``no_response_grace_days``), the first day a STALLED pair had
        gone longer than the limit without a held session (the cohort's mid-point for the
        adherence rule), the week-6 check's date (the pair's start + 42 days when undated)
        and the pair's start for CONFLICT_OF_INTEREST. ``severity`` is an ordered categorical
        (low < medium < high); ``wave`` is the pulse or feedback wave, ``week6`` for goals, NA
        otherwise. Sorted by severity (high first), pair and flag. Confidential: it names
        pairs and must not reach sponsors.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.flag_pairs(rm.load_sample())
    >>> cols = ["flag", "severity", "estimate", "n"]
    >>> print(res.summary[cols].to_string(index=False))
                    flag severity  estimate    n
                     any     <NA>      19.0 36.0
              LOW_SAFETY     high       1.0 36.0
             SAFETY_DROP   medium       1.0 36.0
              DIVERGENCE   medium       1.0 36.0
             NO_RESPONSE      low      13.0 36.0
      REVERSE_ITEM_ALERT   medium       1.0 36.0
                 STALLED   medium       3.0 36.0
          GOAL_OFF_TRACK      low       6.0 36.0
    CONFLICT_OF_INTEREST     high       1.0 36.0

    The sample's planted problems are found: one pair whose safety dropped, stalled pairs and
    one mentor paired with a senior leader of their own reporting line.
    """
    th = _thresholds(thresholds)
    stamp = pilot.analysis_date(as_of)
    frames: list[pd.DataFrame] = []
    notes: list[Note] = []
    checked = dict.fromkeys(FLAG_CODES, True)
    pulse = _Pulse(pilot, th, stamp)
    notes += [Note(n, "missing_data") for n in pulse.notes]
    if pulse.ok:
        frames += _pulse_flags(pulse, th, stamp, pilot)
    else:
        checked.update(
            dict.fromkeys(("SAFETY_DROP", "DIVERGENCE", "NO_RESPONSE", "REVERSE_ITEM_ALERT"), False)
        )
    fb = None
    if pilot.surveys is not None and hasattr(pulse, "fb"):
        fb = _feedback_flags(pulse, th)
        if fb is not None:
            frames.append(fb)
    checked["LOW_SAFETY"] = bool(pulse.ok or fb is not None)
    if pilot.sessions is not None and len(pilot.sessions):
        frames.append(_stalled(pilot, th, stamp))
    else:
        checked["STALLED"] = False
        notes.append(
            Note("no sessions table (or no rows in it): STALLED not checked", "missing_data")
        )
    goal = _goal_flags(pilot, th, stamp)
    if goal is None:
        checked["GOAL_OFF_TRACK"] = False
        notes.append(Note("no checkpoints table: GOAL_OFF_TRACK not checked", "missing_data"))
    else:
        frames.append(goal)
    conflict = _conflict_flags(pilot)
    if conflict is None:
        checked["CONFLICT_OF_INTEREST"] = False
        notes.append(
            Note("employees has no manager_id: CONFLICT_OF_INTEREST not checked", "missing_data")
        )
    else:
        frames.append(conflict)
    frames = [f for f in frames if f is not None and len(f)]
    if frames:
        out = pd.concat(frames, ignore_index=True)
    else:
        out = _flag_frame(pd.DataFrame({"pair_id": []}), "LOW_SAFETY", "pause", []).iloc[:0]
    out = out.astype(
        {
            "pair_id": "string",
            "flag": "string",
            "wave": "string",
            "evidence": "string",
            "action": "string",
            "cohort_id": "string",
            "role": "string",
            "value": float,
            "threshold": float,
            "raised": "datetime64[ns]",
        }
    )
    out["severity"] = pd.Categorical(out.severity, categories=SEVERITIES, ordered=True)
    flag_order = pd.Categorical(out.flag, categories=FLAG_CODES, ordered=True)
    out = (
        out.assign(_f=flag_order)
        .sort_values(["severity", "pair_id", "_f", "wave"], ascending=[False, True, True, True])
        .drop(columns="_f")
        .reset_index(drop=True)[FLAG_COLUMNS]
    )
    started = set(pilot.pairs.pair_id[pilot.pairs.start_date <= stamp].astype(str))
    n_started = len(started)
    rows = [
        {
            "metric": "pairs_flagged",
            "flag": "any",
            "severity": pd.NA,
            "action": pd.NA,
            "estimate": float(out.pair_id.nunique()),
            "flags": len(out),
            "checked": all(checked.values()),
        }
    ]
    for code in FLAG_CODES:
        hit = out[out.flag.eq(code)]
        rows.append(
            {
                "metric": "pairs_flagged",
                "flag": code,
                "severity": _SEVERITY[code],
                "action": _ACTION[code],
                "estimate": float(hit.pair_id.nunique()) if checked[code] else np.nan,
                "flags": len(hit),
                "checked": checked[code],
            }
        )
    summary = pd.DataFrame(rows).assign(
        ci_low=np.nan, ci_high=np.nan, p_value=np.nan, n=float(n_started)
    )
    notes.append(
        Note(
            "Flags use heuristic thresholds (e.g. a score below the scale midpoint): the scale "
            "has no validated cut-offs; every threshold can be changed.",
            "assumption",
        )
    )
    res = FlagResult(
        tidy(summary, ["flag", "severity", "action"]),
        notes,
        thresholds=dict(thresholds or {}),
        as_of=f"{stamp:%Y-%m-%d}",
    )
    res.flags_ = out
    res.thresholds_ = th
    res.as_of_ = stamp
    return res


# -- sponsor summary --------------------------------------------------------------------------
class SafetySummary(Result):
    """Aggregates for sponsors: share of pairs with any flag, mean safety and alpha by wave.

    ``summary`` columns: ``metric, wave, role, estimate, ci_low, ci_high, p_value, n, method``
    (``role``: mentor, mentee or both; none for the pair-level ``pairs_any_flag``).
    Never holds ids, flags or free text; every figure carries its ``n`` (hiding small groups
    from sponsors is the report's privacy policy).
    """

    title = "Psychological safety in the pairs"

    def plot(self, ax=None, *, hidden=None):
        """Mean safety per pulse, for everyone and by role. ``hidden`` (booleans, one per row
        of ``summary``) draws those points as hidden (the report's privacy policy): a hatched
        band labelled "hidden", and no line through them."""
        import matplotlib.pyplot as plt

        from ..plotting.errorbars import error_bars
        from ..plotting.hidden import hidden_point

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        hide = np.zeros(len(self.summary), bool) if hidden is None else np.asarray(hidden, bool)
        is_mean = (self.summary.metric == "mean_safety").to_numpy()
        s = self.summary[is_mean].assign(_hidden=hide[is_mean])
        waves = list(dict.fromkeys(s.wave))
        x = np.arange(len(waves))
        for j, role in enumerate(["both", "mentor", "mentee"]):
            r = s[s.role == role].set_index("wave").reindex(waves)
            off = r._hidden.fillna(False).to_numpy(dtype=bool)
            est = np.where(off, np.nan, r.estimate.to_numpy(dtype=float))
            lo = np.where(off, np.nan, r.ci_low.to_numpy(dtype=float))
            hi = np.where(off, np.nan, r.ci_high.to_numpy(dtype=float))
            err = error_bars(est, lo, hi)
            xs = x + (j - 1) * 0.08
            label = "all" if role == "both" else role
            ax.errorbar(xs, est, yerr=err, fmt="o-", capsize=3, label=label)
            for xi in xs[off]:
                hidden_point(ax, xi, width=0.07)
        k = self.arguments.get("scale_points", 7)
        ax.set_xticks(x, waves)
        ax.set_ylim(1, k)
        ax.axhline((1 + k) / 2, color="grey", lw=0.8, ls=":")
        ax.set_ylabel(f"mean safety (1-{k}, 95% CI)")
        ax.set_title(self.title)
        ax.legend(frameon=False)
        return ax


def _wave_order(p: _Pulse) -> list[str]:
    w = p.waves.groupby("wave").agg(rank=("rank", "mean"), median=("median", "median"))
    return w.sort_values(["rank", "median"]).index.tolist()


def safety_summary(
    pilot,
    *,
    min_cell_size: int | None = None,
    thresholds: Mapping[str, Any] | None = None,
    as_of: str | pd.Timestamp | None = None,
    alpha: float = 0.05,
) -> SafetySummary:
    """Psychological-safety aggregates for sponsors (no ids, no flags, no text).

    Rows (``metric``):

    - ``pairs_any_flag``: share of pairs (started by ``as_of``) with at least one flag from
      :func:`flag_pairs`, Wilson score interval;
    - ``mean_safety``: mean pulse score per wave, for all members and by role (mentor,
      mentee), t interval over respondents (the two members of a pair are treated as
      independent, which makes the interval slightly narrow);
    - ``alpha``: Cronbach's alpha of the pulse items per wave, Feldt interval.

    Every figure carries its ``n`` (pairs or respondents); hiding small groups from sponsors
    is the report's privacy policy (``min_cell_size`` is deprecated and ignored).

    Returns
    -------
    SafetySummary
        ``summary`` columns ``metric, wave, role, estimate, ci_low, ci_high, p_value, n,
        method`` (``p_value`` is NaN: descriptive estimates).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.safety_summary(rm.load_sample())
    >>> cols = ["metric", "wave", "role", "estimate", "ci_low", "ci_high", "n"]
    >>> print(res.summary[cols].head(6).round(3).to_string(index=False))
            metric     wave   role  estimate  ci_low  ci_high    n
    pairs_any_flag     None   None     0.528   0.370    0.680 36.0
       mean_safety baseline   both     5.578   5.451    5.704 69.0
       mean_safety baseline mentor     5.588   5.397    5.778 35.0
       mean_safety baseline mentee     5.567   5.392    5.742 34.0
       mean_safety midpoint   both     5.527   5.391    5.662 64.0
       mean_safety midpoint mentor     5.437   5.233    5.641 33.0

    Sponsors see aggregates only: 53% of the pairs raised some flag, and the mean safety score
    of mentors and mentees, with no pair named.
    """
    deprecated_min_cell_size(min_cell_size, "safety_summary")
    th = _thresholds(thresholds)
    stamp = pilot.analysis_date(as_of)
    flags = flag_pairs(pilot, thresholds=thresholds, as_of=stamp).flags_
    started = pilot.pairs[pilot.pairs.start_date <= stamp].pair_id
    n_pairs = int(started.nunique())
    flagged = int(flags.pair_id[flags.pair_id.isin(started)].nunique())
    rows: list[dict[str, Any]] = []
    res = SafetySummary(as_of=f"{stamp:%Y-%m-%d}", alpha=alpha)

    def add(metric, wave, role, est, lo, hi, n, method):
        rows.append(
            dict(
                metric=metric,
                wave=wave,
                role=role,
                estimate=est,
                ci_low=lo,
                ci_high=hi,
                p_value=np.nan,
                n=n,
                method=method,
            )
        )

    lo, hi = wilson_ci(flagged, n_pairs, alpha)
    add(
        "pairs_any_flag",
        None,
        None,
        flagged / n_pairs if n_pairs else np.nan,
        lo,
        hi,
        n_pairs,
        "share of pairs, Wilson score interval",
    )
    pulse = _Pulse(pilot, th, stamp)
    if pulse.ok:
        res.arguments["scale_points"] = pulse.k
        order = _wave_order(pulse)
        sc = pulse.scores
        for wave in order:
            for role in ("both", "mentor", "mentee"):
                x = sc[(sc.wave == wave) & ((sc.role == role) | (role == "both"))].score
                m, lo, hi, n = mean_ci(x, alpha)
                add("mean_safety", wave, role, m, lo, hi, n, "mean score, t interval")
        al = cronbach_alpha(
            pulse.raw, scale_points=pulse.k, survey="psych_safety", by="wave", ci=1 - alpha
        ).summary
        al["wave"] = al.wave.astype("string")
        al = al.set_index("wave")
        for wave in order:
            if wave not in al.index:
                continue
            r = al.loc[wave]
            add(
                "alpha",
                wave,
                "both",
                r.estimate,
                r.ci_low,
                r.ci_high,
                int(r.n),
                "Cronbach's alpha, Feldt interval",
            )
    else:
        res.note(
            "No psychological-safety pulse answers: mean safety and alpha not estimated.",
            "missing_data",
        )
    summary = pd.DataFrame(rows)
    summary["n"] = summary["n"].astype(float)
    res.summary = summary
    res.note(
        "Flags use heuristic thresholds (e.g. a score below the scale midpoint); the scale has "
        "no validated cut-offs. Pair-level flags go to the program lead only.",
        "assumption",
    )
    return res
