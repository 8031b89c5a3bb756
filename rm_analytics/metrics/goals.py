"""SMART-goal milestones (Kirkpatrick level 3): progress at week 6 and the endpoint.

The aggregates (``summary``, ``distribution_``) carry their number of pairs (hiding small
groups from sponsors is the report's privacy policy); the pair-level frame for the program
lead (``pairs_``) holds pair ids and is never part of ``summary``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..results import Note, Result
from ..stats.intervals import mean_ci, wilson_ci
from ._inputs import as_frame, deprecated_min_cell_size, need_columns

SUMMARY_COLUMNS = ["metric", "checkpoint", "estimate", "ci_low", "ci_high", "p_value", "n"]


class GoalsResult(Result):
    """SMART-goal progress.

    Attributes
    ----------
    summary : DataFrame
        Rows ``metric`` = ``mean_progress`` (week6, endpoint; 1-5, t interval),
        ``share_goal_met`` (endpoint; Wilson interval), ``share_off_track`` (week6: progress at
        or below ``off_track_at``; Wilson interval); columns ``metric, checkpoint, estimate,
        ci_low, ci_high, p_value`` (always NaN: descriptive), ``n`` (pairs).
    distribution_ : DataFrame
        ``checkpoint, progress, n_pairs, share``.
    pairs_ : DataFrame
        Program lead only: ``pair_id`` (and ``cohort_id``), ``progress_week6``,
        ``progress_endpoint``, ``goal_met``, ``off_track_week6``.
    """

    title = "SMART-goal progress"

    def plot(self, ax=None, *, hidden=None):
        """Share of pairs at each progress rating, per checkpoint. ``hidden`` (booleans, one
        per row of ``distribution_``) draws those cells as hidden: a hatched frame labelled
        "hidden", never a bar (the report's privacy policy decides which)."""
        import matplotlib.pyplot as plt

        from ..plotting.hidden import hidden_bar

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        d = self.distribution_
        width = 0.4
        hide = (
            pd.Series(np.asarray(hidden, dtype=bool), index=d.index)
            if hidden is not None
            else pd.Series(False, index=d.index)
        )
        shown_share = d.share[~hide]
        shown_max = float(shown_share.max()) if shown_share.notna().any() else 0.0
        top = shown_max if shown_max > 0 else 1.0  # height of a hidden cell's frame
        for k, (cp, sub) in enumerate(d.groupby("checkpoint", sort=False)):
            x = sub.progress + (k - 0.5) * width
            shown = ~hide[sub.index]
            bars = ax.bar(x[shown], sub.share[shown], width, label=cp)
            colour = bars.patches[0].get_facecolor() if bars.patches else None
            for xi in x[~shown]:
                hidden_bar(ax, xi, width, top, colour=colour)
        ax.set_xlabel("progress against the SMART goal (1 = none, 5 = achieved)")
        ax.set_ylabel("share of pairs")
        ax.set_xticks([1, 2, 3, 4, 5])
        if hide.any():  # room above the frames for the legend
            ax.set_ylim(0, top * 1.3)
            ax.legend(fontsize="small", loc="upper center", ncol=2)
        else:
            ax.legend(fontsize="small")
        ax.set_title(self.title)
        return ax

    def pair_view(self) -> pd.DataFrame:
        """The confidential pair-level frame (program lead only)."""
        return self.pairs_.copy()


def goal_progress(
    data: pd.DataFrame,
    *,
    pair: str = "pair_id",
    checkpoint: str = "checkpoint",
    progress: str = "progress",
    goal_met: str = "goal_met",
    week6: str = "week6",
    endpoint: str = "endpoint",
    off_track_at: int = 2,
    alpha: float = 0.05,
    min_cell_size: int | None = None,
) -> GoalsResult:
    """Progress against the SMART goal at the week-6 check and the endpoint.

    Parameters
    ----------
    data
        One row per pair and checkpoint (the ``checkpoints`` table layout).
    pair, checkpoint, progress, goal_met
        Column names; ``progress`` is 1-5, ``goal_met`` yes/no (bool or 1/0) at the endpoint.
    week6, endpoint
        Checkpoint labels.
    off_track_at
        A pair is off track when its week-6 progress is at or below this (default 2).
    alpha
        1 - confidence level (t interval for mean progress, Wilson for shares).
    min_cell_size
        Deprecated and ignored (every aggregate carries its number of pairs).

    Returns
    -------
    GoalsResult

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.goal_progress(rm.load_sample().checkpoints)
    >>> cols = ["metric", "checkpoint", "estimate", "ci_low", "ci_high", "n"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
             metric checkpoint  estimate  ci_low  ci_high  n
      mean_progress      week6     3.143   2.865    3.421 35
      mean_progress   endpoint     3.913   3.546    4.280 23
     share_goal_met   endpoint     0.478   0.292    0.670 23
    share_off_track      week6     0.171   0.081    0.327 35

    Progress (1-5) rose from 3.1 at week 6 to 3.9 at the end; about half the pairs met their
    goal, and one in six was off track at week 6 (progress 2 or less).
    """
    deprecated_min_cell_size(min_cell_size, "goal_progress")
    need_columns(as_frame(data), (pair, checkpoint, progress, goal_met))
    cp = data[checkpoint].astype(str)
    unknown = sorted(set(cp) - {week6, endpoint})
    if unknown:
        raise ValueError(f"column {checkpoint!r} has unknown checkpoint(s): {', '.join(unknown)}")
    prog = pd.to_numeric(data[progress], errors="coerce")
    bad = prog.notna() & ~prog.between(1, 5)
    if bad.any():
        raise ValueError(f"column {progress!r} must be 1-5; found {prog[bad].iloc[0]}")
    notes: list[str] = []
    w6 = prog[cp.eq(week6).to_numpy()]
    ep = prog[cp.eq(endpoint).to_numpy()]
    met = data.loc[cp.eq(endpoint).to_numpy(), goal_met]
    met = pd.to_numeric(met.astype("boolean").astype("Float64"), errors="coerce").dropna()
    rows = []
    for label, x in ((week6, w6), (endpoint, ep)):
        m, lo, hi, n = mean_ci(x.dropna().to_numpy(float), alpha=alpha)
        rows.append(["mean_progress", label, m, lo, hi, np.nan, n])
    k, n = float(met.sum()), len(met)
    lo, hi = wilson_ci(k, n, alpha)
    rows.append(["share_goal_met", endpoint, k / n if n else np.nan, lo, hi, np.nan, n])
    w6n = w6.dropna()
    k, n = float((w6n <= off_track_at).sum()), len(w6n)
    lo, hi = wilson_ci(k, n, alpha)
    rows.append(["share_off_track", week6, k / n if n else np.nan, lo, hi, np.nan, n])
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    dist = []
    for label, x in ((week6, w6), (endpoint, ep)):
        counts = x.dropna().astype(int).value_counts().reindex(range(1, 6), fill_value=0)
        total = int(counts.sum())
        for level, c in counts.items():
            dist.append([label, level, float(c), c / total if total else np.nan])
    distribution = pd.DataFrame(dist, columns=["checkpoint", "progress", "n_pairs", "share"])
    # pair-level frame (program lead)
    d = data.assign(_cp=cp.to_numpy(), _prog=prog.to_numpy())
    wide = d.pivot_table(index=pair, columns="_cp", values="_prog", aggfunc="first", observed=True)
    wide = wide.reindex(columns=[week6, endpoint])
    wide.columns = ["progress_week6", "progress_endpoint"]
    gm = d[d._cp.eq(endpoint)].set_index(pair)[goal_met]
    wide["goal_met"] = gm.reindex(wide.index).astype("boolean")
    wide["off_track_week6"] = (wide.progress_week6 <= off_track_at).astype("boolean")
    wide.loc[wide.progress_week6.isna(), "off_track_week6"] = pd.NA
    notes.insert(
        0,
        Note(
            "Progress against the SMART goal (1-5) with t intervals; shares with Wilson "
            f"intervals. Off track = week-6 progress at or below {off_track_at}.",
            "method",
        ),
    )
    res = GoalsResult(summary, notes, off_track_at=off_track_at, alpha=alpha)
    res.distribution_ = distribution
    res.pairs_ = wide.reset_index()
    return res


def pilot_goals(pilot, **kwargs) -> GoalsResult:
    """:func:`goal_progress` on a pilot's ``checkpoints`` table.

    Pairs without a week-6 check are counted in a note and the quality log; the pair-level
    frame gains ``cohort_id`` and ``pair_status``.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.pilot_goals(rm.load_sample())
    >>> cols = ["metric", "checkpoint", "estimate", "ci_low", "ci_high", "n"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
             metric checkpoint  estimate  ci_low  ci_high  n
      mean_progress      week6     3.143   2.865    3.421 35
      mean_progress   endpoint     3.913   3.546    4.280 23
     share_goal_met   endpoint     0.478   0.292    0.670 23
    share_off_track      week6     0.171   0.081    0.327 35
    """
    pilot.require("checkpoints", purpose="the SMART-goal analysis")
    ck = pilot.checkpoints
    res = goal_progress(ck, **kwargs)
    pairs = pilot.pairs[["pair_id", "cohort_id", "status"]].rename(
        columns={"status": "pair_status"}
    )
    pf = pairs.merge(res.pairs_, on="pair_id", how="left")
    res.pairs_ = pf
    no6 = int(pf.progress_week6.isna().sum())
    pilot.log_quality(
        "checkpoints",
        "goals",
        "pairs without a week-6 check",
        no6,
        "not counted",
        "no week-6 progress recorded for the pair",
    )
    if no6:
        res.note(
            f"{no6} of {len(pf)} pair(s) have no week-6 check (too early, stopped or not "
            "recorded); they are not in the week-6 figures.",
            "excluded_rows",
        )
    return res
