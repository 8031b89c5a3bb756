"""Delivery and relationship engagement: did the pairs meet as planned?

:func:`pair_delivery` gives the pairs per health label and, in ``pairs_``, one row per pair
(sessions held against the plan, cadence, gaps, a health label) for the program lead;
:func:`delivery_summary` aggregates it for sponsors (no pair ids, small cells suppressed).

Conventions
-----------
* **Observation window** of a pair: from its ``start_date`` to ``observed_until`` =
  the earlier of ``as_of`` and the pair's ``end_date`` (blank end: ``as_of``).
* **The plan**: the cohort's sessions are due at ``cohort start + j * cadence_days`` for
  ``j = 0 .. planned_sessions - 1``. A pair that started later than the cohort (e.g. after a
  reshuffle) owns only the slots on or after its start: that count is its
  ``planned_sessions``.
* **Due by now** (``expected_by_now``): one session per *completed* cadence period of the
  plan since the pair's start, up to ``observed_until``; the pair's whole plan once
  ``observed_until`` reaches the cohort's end date. A session counts as due only after its
  period is over, so a pair is never behind on the day a session is scheduled.
* **Adherence** = ``sessions_held / expected_by_now`` (NaN when nothing is due yet). It is not
  capped: extra sessions give values above 1.
* **Gaps** are in days between consecutive held sessions; ``cadence_adherence`` is the share of
  those gaps no longer than ``gap_tolerance x cadence_days`` (default 1.5: 10 days for a
  weekly plan), NaN with fewer than two held sessions. ``longest_gap_days`` also counts the
  stretch from the pair's start to its first held session and from the last held session (or
  the start, when none was held) to ``observed_until``; the latter is ``days_inactive``.
* **Health** (rules, heuristics, not validated cut-offs; practitioner platforms use the same
  three labels):

  - ``too_early_to_tell``: fewer than two sessions due so far (``expected_by_now < 2``);
  - ``needs_check_in``: no held session for more than ``gap_cadences x cadence_days`` days
    (default 2: two weeks for a weekly plan), or adherence below ``min_adherence``
    (default 0.5);
  - ``on_track``: otherwise.

Sessions dated after ``as_of``, outside the pair's own dates, or for pairs not in the pairs
table are excluded and counted in ``pilot.quality`` (stage ``delivery``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InsufficientDataError
from ..results import Note, Result
from ..stats.intervals import mean_ci, wilson_ci
from ._inputs import deprecated_min_cell_size

HEALTH_LEVELS = ("on_track", "needs_check_in", "too_early_to_tell")

#: Default health rules (heuristics, not validated cut-offs).
DEFAULT_HEALTH_RULES: dict[str, float] = {
    "gap_cadences": 2.0,
    "min_adherence": 0.5,
    "gap_tolerance": 1.5,
}

DELIVERY_COLUMNS = [
    "pair_id",
    "cohort_id",
    "status",
    "planned_sessions",
    "expected_by_now",
    "sessions_held",
    "sessions_cancelled",
    "sessions_no_show",
    "held_minutes",
    "adherence",
    "cadence_adherence",
    "n_gaps",
    "median_gap_days",
    "days_since_last_held",
    "days_inactive",
    "longest_gap_days",
    "health",
    "cadence_days",
    "observed_until",
]

_DAY = np.timedelta64(1, "D")


# -- inputs -------------------------------------------------------------------------------------
def delivery_inputs(pilot_or_frames: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Any]:
    """(pairs with cohort columns, sessions, cohorts, pilot or None) from a Pilot or frames.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> from rm_analytics.metrics.delivery import delivery_inputs
    >>> info, sessions, cohorts, pilot = delivery_inputs(rm.load_sample())
    >>> len(info), len(sessions), len(cohorts)
    (36, 383, 3)
    >>> print(info[["pair_id", "start_date", "cohort_planned_sessions"]].head(2)
    ...       .to_string(index=False))
    pair_id start_date  cohort_planned_sessions
    C01-P01 2024-12-23                       12
    C01-P02 2024-12-23                       12

    The pairs carry their cohort's dates and plan (``cohort_*`` columns).
    """
    from ..data.pilot import Pilot

    if isinstance(pilot_or_frames, Pilot):
        pilot = pilot_or_frames
        pilot.require("sessions", purpose="the delivery analysis")
        pairs, cohorts, sessions = pilot.pairs, pilot.cohorts, pilot.sessions
    elif isinstance(pilot_or_frames, Mapping):
        pilot = None
        missing = [t for t in ("pairs", "sessions") if pilot_or_frames.get(t) is None]
        if missing:
            raise InsufficientDataError(
                "delivery metrics need the frames 'pairs' and 'sessions' (and 'cohorts' unless "
                f"pairs carry the cohort columns); missing: {', '.join(missing)}"
            )
        pairs = _coerce(pilot_or_frames["pairs"], "pairs", ("start_date", "end_date"))
        sessions = _coerce(pilot_or_frames["sessions"], "sessions", ("date",))
        cohorts = pilot_or_frames.get("cohorts")
        if cohorts is not None:
            cohorts = _coerce(cohorts, "cohorts", ("start_date", "end_date"))
    else:
        raise TypeError(
            "pair_delivery takes a Pilot or a dict of DataFrames {'pairs', 'sessions', "
            f"'cohorts'}}, not {type(pilot_or_frames).__name__}"
        )
    _need(pairs, "pairs", ("pair_id", "cohort_id", "start_date"))
    _need(sessions, "sessions", ("pair_id", "date", "status"))
    cohort_cols = ("start_date", "end_date", "cadence_days", "planned_sessions")
    if cohorts is not None:
        _need(cohorts, "cohorts", ("cohort_id", *cohort_cols))
        c = cohorts.drop_duplicates("cohort_id").set_index("cohort_id")[list(cohort_cols)]
        info = pairs.join(c.add_prefix("cohort_"), on="cohort_id")
        unknown = info.cohort_start_date.isna() & info.cohort_id.notna()
        if unknown.any():
            raise ValueError(
                "pairs.cohort_id has values missing from cohorts.cohort_id: "
                + ", ".join(sorted(map(str, info.cohort_id[unknown].unique()))[:10])
            )
    else:
        _need(
            pairs,
            "pairs (no cohorts frame given)",
            (
                "cohort_start_date",
                "cohort_end_date",
                "cohort_cadence_days",
                "cohort_planned_sessions",
            ),
        )
        info = pairs
    if "status" not in info.columns:
        info = info.assign(status=pd.NA)
    if "end_date" not in info.columns:
        info = info.assign(end_date=pd.NaT)
    bad = ~(pd.to_numeric(info.cohort_cadence_days, errors="coerce") >= 1)
    if bad.any():
        raise ValueError(
            "cadence_days must be a whole number of days >= 1; bad for cohort(s) "
            + ", ".join(sorted(map(str, info.cohort_id[bad].unique()))[:10])
        )
    return info, sessions, cohorts, pilot


def _coerce(df: pd.DataFrame, name: str, dates: tuple[str, ...]) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"frame {name!r} must be a pandas DataFrame, not {type(df).__name__}")
    out = df.copy()
    for col in dates:
        if col in out.columns and not pd.api.types.is_datetime64_any_dtype(out[col]):
            try:
                out[col] = pd.to_datetime(out[col])
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{name}.{col} must hold dates: {exc}") from None
    for col in ("pair_id", "cohort_id", "mentor_id", "mentee_id", "employee_id"):
        if col in out.columns:
            out[col] = out[col].astype("string")
    return out


def _need(df: pd.DataFrame, name: str, cols: tuple[str, ...]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{name} needs the column(s) {', '.join(missing)}")


def _analysis_date(pilot_or_frames: Any, as_of) -> pd.Timestamp:
    """:meth:`Pilot.analysis_date <rm_analytics.Pilot.analysis_date>` of a pilot, or of a dict
    of frames (the same rule: ``as_of`` when given, else the latest recorded date)."""
    from ..data.pilot import Pilot, analysis_date

    if isinstance(pilot_or_frames, Pilot):
        return pilot_or_frames.analysis_date(as_of)
    return analysis_date(dict(pilot_or_frames), as_of)


# -- core ---------------------------------------------------------------------------------------
def delivery_core(
    info: pd.DataFrame,
    sessions: pd.DataFrame,
    as_of: pd.Series,
    rules: Mapping[str, float],
) -> tuple[pd.DataFrame, dict[str, tuple[int, str]]]:
    """Per-pair delivery metrics with a per-pair as-of date (aligned to ``info``'s rows).

    Returns the frame and the exclusions {check: (rows, detail)}.

    Examples
    --------
    >>> import pandas as pd
    >>> import rm_analytics as rm
    >>> from rm_analytics.metrics import delivery
    >>> info, sessions, cohorts, _ = delivery.delivery_inputs(rm.load_sample())
    >>> as_of = pd.Series(pd.Timestamp("2026-09-30"), index=info.index)
    >>> per_pair, excluded = delivery.delivery_core(info, sessions, as_of,
    ...                                             delivery.DEFAULT_HEALTH_RULES)
    >>> cols = ["pair_id", "sessions_held", "adherence", "longest_gap_days", "health"]
    >>> print(per_pair[cols].head(3).round(3).to_string(index=False))
    pair_id  sessions_held  adherence  longest_gap_days         health
    C01-P01              7      0.583              32.0 needs_check_in
    C01-P02             10      0.833              14.0       on_track
    C01-P03             10      0.833              16.0       on_track
    >>> excluded
    {}
    """
    n = len(info)
    pair_id = info.pair_id.astype("string").to_numpy()
    start = info.start_date.to_numpy(dtype="datetime64[ns]")
    end = info.end_date.to_numpy(dtype="datetime64[ns]")
    as_of_arr = pd.to_datetime(as_of).to_numpy(dtype="datetime64[ns]")
    obs_end = np.where(np.isnat(end), as_of_arr, np.minimum(end, as_of_arr))
    c_start = info.cohort_start_date.to_numpy(dtype="datetime64[ns]")
    c_end = info.cohort_end_date.to_numpy(dtype="datetime64[ns]")
    cadence = pd.to_numeric(info.cohort_cadence_days).to_numpy(dtype=float)
    planned_c = pd.to_numeric(info.cohort_planned_sessions).to_numpy(dtype=float)

    # the plan
    offset = (start - c_start) / _DAY
    k_lo = np.maximum(0.0, np.ceil(offset / cadence))
    planned = np.maximum(0.0, planned_c - k_lo)
    elapsed = (obs_end - c_start) / _DAY
    k_hi = np.floor(elapsed / cadence) - 1
    expected = np.clip(np.minimum(k_hi, planned_c - 1) - k_lo + 1, 0, planned)
    expected = np.where(obs_end >= c_end, planned, expected)
    expected = np.where(obs_end < start, 0.0, expected)

    # sessions: keep those inside each pair's window
    excluded: dict[str, tuple[int, str]] = {}
    pos = pd.Series(np.arange(n), index=pd.Index(pair_id))
    s = sessions[["pair_id", "date", "status"]].copy()
    if "duration_minutes" in sessions.columns:
        s["minutes"] = pd.to_numeric(sessions.duration_minutes, errors="coerce")
    else:
        s["minutes"] = np.nan
    idx = pos.reindex(s.pair_id.astype("string").to_numpy()).to_numpy()
    unknown = np.isnan(idx)
    if unknown.any():
        excluded["session of an unknown pair"] = (
            int(unknown.sum()),
            "pair_id not in the pairs table (or not in the selected cohorts)",
        )
    s = s[~unknown]
    i = idx[~unknown].astype(int)
    d = s.date.to_numpy(dtype="datetime64[ns]")
    late = d > as_of_arr[i]
    if late.any():
        excluded["session after as_of"] = (
            int(late.sum()),
            "dated after the as-of date of the analysis",
        )
    outside = ~late & ((d < start[i]) | (~np.isnat(end[i]) & (d > end[i])))
    if outside.any():
        excluded["session outside the pair's dates"] = (
            int(outside.sum()),
            "dated before the pair's start_date or after its end_date",
        )
    status = s.status.astype("string").to_numpy()
    known = np.isin(status, ["held", "cancelled", "no_show"])
    if (~known & ~late & ~outside).any():
        excluded["session with an unknown status"] = (
            int((~known & ~late & ~outside).sum()),
            "status is not held, cancelled or no_show",
        )
    keep = ~late & ~outside & known
    i, d, status = i[keep], d[keep], status[keep]
    minutes = s.minutes.to_numpy()[keep]
    held = status == "held"
    n_held = np.bincount(i[held], minlength=n).astype(float)
    n_cancel = np.bincount(i[status == "cancelled"], minlength=n).astype(float)
    n_noshow = np.bincount(i[status == "no_show"], minlength=n).astype(float)
    held_min = np.bincount(i[held], weights=np.nan_to_num(minutes[held]), minlength=n)

    # gaps between held sessions (vectorised over all pairs)
    hi, hd = i[held], d[held]
    order = np.lexsort((hd, hi))
    hi, hd = hi[order], hd[order]
    same = np.r_[False, hi[1:] == hi[:-1]][: len(hi)]
    gaps = np.r_[np.nan, np.diff(hd) / _DAY][: len(hi)]
    gap_i, gap = hi[same], gaps[same]
    n_gaps = np.bincount(gap_i, minlength=n).astype(float)
    tol = rules["gap_tolerance"] * cadence
    within = np.bincount(gap_i, weights=(gap <= tol[gap_i]).astype(float), minlength=n)
    cadence_adh = np.where(n_gaps > 0, within / np.where(n_gaps > 0, n_gaps, 1), np.nan)
    median_gap = (
        pd.Series(gap).groupby(gap_i).median().reindex(np.arange(n)).to_numpy()
        if len(gap)
        else np.full(n, np.nan)
    )
    max_between = (
        pd.Series(gap).groupby(gap_i).max().reindex(np.arange(n)).to_numpy()
        if len(gap)
        else np.full(n, np.nan)
    )
    first_held = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    last_held = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if len(hi):
        firsts = ~same
        first_held[hi[firsts]] = hd[firsts]
        lasts = np.r_[hi[1:] != hi[:-1], True]
        last_held[hi[lasts]] = hd[lasts]
    started = obs_end >= start
    since_last = np.where(np.isnat(last_held), np.nan, (obs_end - last_held) / _DAY)
    anchor = np.where(np.isnat(last_held), start, last_held)
    inactive = np.where(started, (obs_end - anchor) / _DAY, np.nan)
    lead_in = np.where(np.isnat(first_held), np.nan, (first_held - start) / _DAY)
    longest = np.fmax(np.fmax(lead_in, max_between), inactive)
    adherence = np.where(expected > 0, n_held / np.where(expected > 0, expected, 1), np.nan)

    gap_limit = rules["gap_cadences"] * cadence
    needs = (inactive > gap_limit) | (adherence < rules["min_adherence"])
    health = np.where(
        (expected < 2) | ~started,
        "too_early_to_tell",
        np.where(needs, "needs_check_in", "on_track"),
    )
    out = pd.DataFrame(
        {
            "pair_id": pd.array(pair_id, dtype="string"),
            "cohort_id": info.cohort_id.astype("string").to_numpy(),
            "status": info.status.to_numpy(),
            "planned_sessions": planned.astype(int),
            "expected_by_now": expected.astype(int),
            "sessions_held": n_held.astype(int),
            "sessions_cancelled": n_cancel.astype(int),
            "sessions_no_show": n_noshow.astype(int),
            "held_minutes": held_min,
            "adherence": adherence,
            "cadence_adherence": cadence_adh,
            "n_gaps": n_gaps.astype(int),
            "median_gap_days": median_gap,
            "days_since_last_held": since_last,
            "days_inactive": inactive,
            "longest_gap_days": longest,
            "health": pd.Categorical(health, categories=HEALTH_LEVELS),
            "cadence_days": cadence,
            "observed_until": pd.to_datetime(obs_end),
        }
    )
    if isinstance(info.status.dtype, pd.CategoricalDtype):
        out["status"] = pd.Categorical(info.status.to_numpy(), dtype=info.status.dtype)
    return out, excluded


def _rules(overrides: Mapping[str, float] | None) -> dict[str, float]:
    rules = dict(DEFAULT_HEALTH_RULES)
    for key, value in (overrides or {}).items():
        if key not in rules:
            raise ValueError(
                f"unknown delivery rule {key!r}; known: {', '.join(sorted(DEFAULT_HEALTH_RULES))}"
            )
        rules[key] = float(value)
    return rules


class PairDelivery(Result):
    """Delivery of each pair (see :func:`pair_delivery`). ``pairs_`` names pairs: it is for
    the program lead.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per health label: ``metric`` (``pairs``), ``health`` (``on_track``,
        ``needs_check_in``, ``too_early_to_tell``), ``estimate`` (pairs with that label),
        ``ci_low, ci_high, p_value`` (NaN: counts), ``n`` (pairs), ``share`` (estimate / n).
    pairs_ : pandas.DataFrame
        One row per pair (columns in :func:`pair_delivery`).
    as_of_ : pandas.Timestamp
        The date the pairs are judged at.
    """

    title = "Delivery per pair"
    pairs_: pd.DataFrame
    as_of_: pd.Timestamp

    def plot(self, ax=None):
        """Pairs per health label. Returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 2.5))
        s = self.summary
        y = np.arange(len(s))
        colour = {"on_track": "#009E73", "needs_check_in": "#D55E00", "too_early_to_tell": "grey"}
        ax.barh(y, s.estimate.to_numpy(dtype=float), color=[colour[h] for h in s.health])
        ax.set_yticks(y, [h.replace("_", " ") for h in s.health])
        ax.invert_yaxis()
        ax.set_xlabel(f"pairs (of {int(s.n.iloc[0]) if len(s) else 0})")
        ax.set_title(self.title)
        return ax


def pair_delivery(
    pilot_or_frames: Any,
    *,
    as_of: str | pd.Timestamp | None = None,
    rules: Mapping[str, float] | None = None,
) -> PairDelivery:
    """Sessions held against the plan, cadence and a health label for every pair.

    For the program lead (``pairs_`` holds pair ids); see :func:`delivery_summary` for
    sponsors.

    Parameters
    ----------
    pilot_or_frames
        A :class:`~rm_analytics.Pilot` with a ``sessions`` table, or a dict of DataFrames
        ``{"pairs", "sessions", "cohorts"}`` with the data contract's columns (``cohorts`` may
        be left out when ``pairs`` carries ``cohort_start_date``, ``cohort_end_date``,
        ``cohort_cadence_days`` and ``cohort_planned_sessions``).
    as_of
        Date the pairs are judged at (default: the latest date in the data, see
        :meth:`Pilot.analysis_date <rm_analytics.Pilot.analysis_date>`). Sessions after it are
        ignored and counted.
    rules
        Overrides of :data:`DEFAULT_HEALTH_RULES` (``gap_cadences``, ``min_adherence``,
        ``gap_tolerance``). Heuristics, not validated cut-offs.

    Returns
    -------
    PairDelivery
        ``summary``: pairs per health label (see :class:`PairDelivery`); ``pairs_``: one row
        per pair, columns:

        - ``pair_id``, ``cohort_id``, ``status`` (the pair's status);
        - ``planned_sessions``: the pair's slots in the cohort's plan;
        - ``expected_by_now``: planned sessions due by ``observed_until`` (module docstring);
        - ``sessions_held``, ``sessions_cancelled``, ``sessions_no_show``, ``held_minutes``;
        - ``adherence``: held / expected_by_now (NaN when nothing is due);
        - ``cadence_adherence``: share of gaps between held sessions within
          ``gap_tolerance x cadence_days``; ``n_gaps``; ``median_gap_days``;
        - ``days_since_last_held`` (NaN when none held), ``days_inactive`` (days since the last
          held session or, when none was held, since the start), ``longest_gap_days``;
        - ``health``: ``on_track``, ``needs_check_in`` or ``too_early_to_tell``;
        - ``cadence_days``, ``observed_until``.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.pair_delivery(rm.load_sample())
    >>> cols = ["metric", "health", "estimate", "n", "share"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
    metric            health  estimate    n  share
     pairs          on_track      34.0 36.0  0.944
     pairs    needs_check_in       2.0 36.0  0.056
     pairs too_early_to_tell       0.0 36.0  0.000
    >>> cols = ["pair_id", "sessions_held", "expected_by_now", "adherence", "health"]
    >>> print(res.pairs_[cols].head(3).round(3).to_string(index=False))
    pair_id  sessions_held  expected_by_now  adherence         health
    C01-P01              7               12      0.583 needs_check_in
    C01-P02             10               12      0.833       on_track
    C01-P03             10               12      0.833       on_track

    34 of the 36 pairs are on track; two need a check-in.
    """
    info, sessions, _, pilot = delivery_inputs(pilot_or_frames)
    stamp = _analysis_date(pilot_or_frames, as_of)
    out, excluded = delivery_core(
        info.reset_index(drop=True),
        sessions,
        pd.Series(stamp, index=range(len(info))),
        _rules(rules),
    )
    if pilot is not None:
        _log(pilot, excluded, len(sessions))
    counts = out.health.value_counts().reindex(list(HEALTH_LEVELS), fill_value=0)
    n = len(out)
    summary = pd.DataFrame(
        {
            "metric": "pairs",
            "health": list(HEALTH_LEVELS),
            "estimate": counts.to_numpy(dtype=float),
            "ci_low": np.nan,
            "ci_high": np.nan,
            "p_value": np.nan,
            "n": float(n),
            "share": counts.to_numpy(dtype=float) / n if n else np.nan,
        }
    )
    notes = [
        Note(
            "Health labels follow documented rules (two missed cadence periods or under half "
            "the due sessions held = needs check-in; fewer than two sessions due = too early "
            "to tell); they are heuristics, not validated cut-offs.",
            "assumption",
        )
    ]
    notes += [
        Note(f"{rows} session(s) excluded: {check} ({detail}).", "excluded_rows")
        for check, (rows, detail) in excluded.items()
        if rows
    ]
    res = PairDelivery(summary, notes, as_of=f"{stamp:%Y-%m-%d}", rules=_rules(rules))
    res.pairs_ = out
    res.as_of_ = stamp
    return res


def _log(pilot, excluded: dict[str, tuple[int, str]], total: int) -> None:
    kept = total - sum(r for r, _ in excluded.values())
    pilot.log_quality("sessions", "delivery", "sessions used", kept, "kept", "")
    for check, (rows, detail) in excluded.items():
        pilot.log_quality("sessions", "delivery", check, rows, "excluded", detail)


# -- sponsor summary -----------------------------------------------------------------------------
class DeliverySummary(Result):
    """Aggregate delivery metrics (no pair ids; every figure with its number of pairs).

    ``summary`` columns: ``metric, estimate, ci_low, ci_high, p_value, n, method``. It keeps
    no per-pair table (use :func:`pair_delivery` for the program lead's view).
    """

    title = "Delivery: did the pairs meet?"

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        from ..plotting.errorbars import error_bars

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3))
        s = self.summary
        shares = s[s.metric.isin(["pairs_3plus_held", "adherence", "no_show_rate", "cancel_rate"])]
        labels = {
            "pairs_3plus_held": "pairs with 3+ sessions",
            "adherence": "sessions held / due",
            "no_show_rate": "no-show rate",
            "cancel_rate": "cancellation rate",
        }
        y = np.arange(len(shares))
        est = shares.estimate.to_numpy(dtype=float)
        err = error_bars(est, shares.ci_low, shares.ci_high)
        ax.errorbar(est, y, xerr=err, fmt="o", capsize=3)
        ax.set_yticks(y, [labels[m] for m in shares.metric])
        ax.set_xlim(0, max(1.0, float(np.nanmax(np.r_[shares.ci_high.to_numpy(float), 1.0]))))
        ax.set_xlabel("share (95% CI)")
        ax.set_title(self.title)
        ax.invert_yaxis()
        return ax


def _ratio_ci(num: np.ndarray, den: np.ndarray, alpha: float) -> tuple[float, float, float, int]:
    """Ratio of sums with a cluster (pair) linearisation CI and t with n-1 df."""
    keep = den > 0
    num, den = num[keep].astype(float), den[keep].astype(float)
    n = int(len(den))
    if n == 0 or den.sum() == 0:
        return (float("nan"), float("nan"), float("nan"), n)
    r = num.sum() / den.sum()
    if n < 2:
        return (float(r), float("nan"), float("nan"), n)
    resid = num - r * den
    se = np.sqrt(n / (n - 1) * np.sum(resid**2)) / den.sum()
    t = stats.t.ppf(1 - alpha / 2, n - 1)
    return (float(r), float(max(0.0, r - t * se)), float(min(1.0, r + t * se)), n)


def delivery_summary(
    pilot_or_frames: Any,
    *,
    as_of: str | pd.Timestamp | None = None,
    rules: Mapping[str, float] | None = None,
    min_cell_size: int | None = None,
    alpha: float = 0.05,
) -> DeliverySummary:
    """Aggregate delivery metrics with uncertainty, for sponsors.

    Rows (``metric``):

    - ``pairs_3plus_held``: share of pairs with 3 or more held sessions (the practitioner
      benchmark of an engaged pair), Wilson score interval;
    - ``sessions_held``: mean held sessions per pair, t interval; ``sessions_planned``: mean
      planned sessions per pair (a fixed quantity, no interval);
    - ``adherence``: mean over pairs of held / due (pairs with something due), t interval;
    - ``no_show_rate``, ``cancel_rate``: no-shows (cancellations) over scheduled sessions, a
      ratio of sums with pairs as clusters (linearisation standard error, t with n_pairs - 1
      df), because sessions of one pair are not independent;
    - ``health_on_track``, ``health_needs_check_in``, ``health_too_early_to_tell``: pair counts
      (``estimate``) out of ``n`` pairs.

    Privacy: no pair or employee ids; every figure carries its number of pairs. Hiding small
    groups (and the cells they could be worked out from) from sponsors is the report's
    privacy policy (``min_cell_size`` is deprecated and ignored).

    Returns
    -------
    DeliverySummary
        ``summary`` columns: ``metric, estimate, ci_low, ci_high, p_value, n, method``
        (``p_value`` is NaN: these are descriptive estimates, no test).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.delivery_summary(rm.load_sample())
    >>> cols = ["metric", "estimate", "ci_low", "ci_high", "n"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
                      metric  estimate  ci_low  ci_high    n
            pairs_3plus_held     1.000   0.904    1.000 36.0
               sessions_held     8.500   7.831    9.169 36.0
            sessions_planned    12.000     NaN      NaN 36.0
                   adherence     0.826   0.771    0.882 36.0
                no_show_rate     0.055   0.032    0.077 36.0
                 cancel_rate     0.146   0.110    0.183 36.0
             health_on_track    34.000     NaN      NaN 36.0
       health_needs_check_in     2.000     NaN      NaN 36.0
    health_too_early_to_tell     0.000     NaN      NaN 36.0

    Every pair held at least three sessions; on average 8.5 of the 12 planned sessions were
    held, and 15% were cancelled.
    """
    deprecated_min_cell_size(min_cell_size, "delivery_summary")
    delivered = pair_delivery(pilot_or_frames, as_of=as_of, rules=rules)
    pairs = delivered.pairs_
    n = len(pairs)
    rows: list[dict[str, Any]] = []
    res = DeliverySummary(as_of=f"{delivered.as_of_:%Y-%m-%d}", alpha=alpha)

    def add(metric, est, lo, hi, k, method):
        rows.append(
            dict(
                metric=metric,
                estimate=est,
                ci_low=lo,
                ci_high=hi,
                p_value=np.nan,
                n=k,
                method=method,
            )
        )

    engaged = int((pairs.sessions_held >= 3).sum())
    lo, hi = wilson_ci(engaged, n, alpha)
    add("pairs_3plus_held", engaged / n if n else np.nan, lo, hi, n, "Wilson score interval")
    m, lo, hi, k = mean_ci(pairs.sessions_held, alpha)
    add("sessions_held", m, lo, hi, k, "mean, t interval")
    add(
        "sessions_planned",
        float(pairs.planned_sessions.mean()) if n else np.nan,
        np.nan,
        np.nan,
        n,
        "mean of the plan",
    )
    m, lo, hi, k = mean_ci(pairs.adherence, alpha)
    add("adherence", m, lo, hi, k, "mean over pairs with sessions due, t interval")
    scheduled = (pairs.sessions_held + pairs.sessions_cancelled + pairs.sessions_no_show).to_numpy()
    method = "ratio of sums, pairs as clusters, t interval"
    r, lo, hi, k = _ratio_ci(pairs.sessions_no_show.to_numpy(), scheduled, alpha)
    add("no_show_rate", r, lo, hi, k, method)
    r, lo, hi, k = _ratio_ci(pairs.sessions_cancelled.to_numpy(), scheduled, alpha)
    add("cancel_rate", r, lo, hi, k, method)
    counts = pairs.health.value_counts().reindex(list(HEALTH_LEVELS), fill_value=0)
    for level, c in zip(HEALTH_LEVELS, counts.to_numpy(dtype=float), strict=True):
        add(f"health_{level}", c, np.nan, np.nan, n, "count of pairs")
    summary = pd.DataFrame(rows)
    summary["n"] = summary["n"].astype(float)
    res.summary = summary
    res.note(
        "Health labels follow documented rules (two missed cadence periods or under half the "
        "due sessions held = needs check-in); they are heuristics, not validated cut-offs.",
        "assumption",
    )
    return res
