"""Forest plots (one estimate per row with its interval, a pooled diamond), the cumulative
forest plot (the pooled estimate after 1, 2, ..., k cohorts) and the path of a sequential
z-statistic against its boundaries.

The functions take plain DataFrames (the results' ``plot`` methods pass theirs) and return the
axes. Effects on the log scale (log hazard ratios) are drawn as ratios on a log axis with
``exponentiate=True``. An interval more than four times as wide as the narrowest one is cut at
the edge of the plot and marked with an arrow head, so one uninformative row does not squash
the others.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .theme import OKABE_ITO

ROW_COLOUR = OKABE_ITO["blue"]
POOLED_COLOUR = OKABE_ITO["black"]
BOUND_COLOUR = OKABE_ITO["vermillion"]
DASHED = (0, (4, 2))


def _axes(ax, n_rows: int, height: float | None = None):
    if ax is None:
        from .theme import figure

        _, ax = figure(figsize=(7.0, height or max(2.2, 0.9 + 0.32 * n_rows)))
    return ax


def _values(frame: pd.DataFrame, cols: Sequence[str], exponentiate: bool) -> list[np.ndarray]:
    out = [pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in cols]
    return [np.exp(v) for v in out] if exponentiate else out


def _limits(est, lo, hi, null: float, exponentiate: bool) -> tuple[float, float]:
    """x-range covering the estimates, "no effect" and the intervals, except intervals more
    than four times as wide as the narrowest one (those are cut at the edge)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a, b, e = (np.log(v) if exponentiate else np.asarray(v, float) for v in (lo, hi, est))
    ok = np.isfinite(a) & np.isfinite(b)
    width = b - a
    narrowest = float(np.min(width[ok])) if ok.any() else 1.0
    keep = ok & (width <= 4 * narrowest)
    vals = np.concatenate([a[keep], b[keep], e[np.isfinite(e)], [null]])
    left, right = float(vals.min()), float(vals.max())
    pad = 0.05 * ((right - left) or 1.0)
    left, right = left - pad, right + pad
    return (float(np.exp(left)), float(np.exp(right))) if exponentiate else (left, right)


def _draw_intervals(ax, y, lo, hi, xlim, colour, *, lw: float = 1.4, ls="solid") -> None:
    """Interval lines cut at the x-range, with an arrow head where one was cut."""
    a, b = np.clip(lo, *xlim), np.clip(hi, *xlim)
    ax.hlines(y, a, b, color=colour, lw=lw, linestyles=ls)
    cut_l, cut_r = lo < xlim[0], hi > xlim[1]
    if cut_l.any():
        ax.plot(a[cut_l], y[cut_l], marker="<", ls="", color=colour, ms=6)
    if cut_r.any():
        ax.plot(b[cut_r], y[cut_r], marker=">", ls="", color=colour, ms=6)


def _ratio_ticks(ax, xlim: tuple[float, float]) -> None:
    """Readable ticks on a log axis: 1-2-5 steps, thinned to at most 7."""
    from matplotlib.ticker import FixedLocator, NullLocator, StrMethodFormatter

    decades = range(int(np.floor(np.log10(xlim[0]))), int(np.ceil(np.log10(xlim[1]))) + 1)
    ticks: list[float] = []
    for steps in ((1, 2, 5), (1, 3), (1,)):
        ticks = [m * 10.0**d for d in decades for m in steps]
        ticks = [t for t in ticks if xlim[0] <= t <= xlim[1]]
        if len(ticks) <= 7:
            break
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))


def _finish(ax, *, null, exponentiate, xlabel, title, labels, y, xlim) -> None:
    ax.axvline(np.exp(null) if exponentiate else null, color="#7F7F7F", lw=0.9, zorder=0)
    if exponentiate:
        ax.set_xscale("log")
    ax.set_xlim(*xlim)
    if exponentiate:
        _ratio_ticks(ax, xlim)
    ax.set_yticks(y, labels)
    ax.set_ylim(max(y) + 0.7 if len(y) else 1, min(y) - 0.7 if len(y) else -1)
    ax.grid(False)
    ax.grid(True, axis="x", color="#EEEEEE", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("")
    ax.set_title(title)


def _diamond(ax, e: float, a: float, b: float, y: float, xlim) -> None:
    """The pooled estimate's diamond; an end cut at the x-range gets an arrow head."""
    ca, cb = np.clip([a, b], *xlim)
    ax.fill([ca, e, cb, e], [y, y - 0.3, y, y + 0.3], color=POOLED_COLOUR, zorder=3)
    for cut, x, m in ((a < xlim[0], ca, "<"), (b > xlim[1], cb, ">")):
        if cut:
            ax.plot([x], [y], marker=m, ls="", color=POOLED_COLOUR, ms=8, zorder=4)


def forest_plot(
    rows: pd.DataFrame,
    *,
    ax=None,
    label: str = "label",
    estimate: str = "estimate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    weight: str | None = None,
    pooled: dict | None = None,
    prediction: tuple[float, float] | None = None,
    null: float = 0.0,
    exponentiate: bool = False,
    xlabel: str = "effect (95% interval)",
    title: str = "Estimates by study",
):
    """One row per estimate (square sized by ``weight``, line for the interval) and, when
    ``pooled`` (a mapping with ``label, estimate, ci_low, ci_high``) is given, a diamond for the
    pooled estimate with the ``prediction`` interval as a dashed line through it.

    Rows without an estimate are listed with "(not estimable)". Returns the axes.
    """
    ax = _axes(ax, len(rows) + (1 if pooled else 0))
    est, lo, hi = _values(rows, (estimate, ci_low, ci_high), exponentiate)
    y = np.arange(len(rows), dtype=float)
    w = (
        pd.to_numeric(rows[weight], errors="coerce").to_numpy(dtype=float)
        if weight is not None
        else np.ones(len(rows))
    )
    w = np.where(np.isfinite(w), w, 0.0)
    size = 25 + 120 * (w / w.max() if w.max() > 0 else w)
    labels = [str(v) for v in rows[label]]
    pe = pl = ph = np.nan
    if pooled:
        pe, pl, ph = (
            float(np.exp(pooled[c]) if exponentiate else pooled[c])
            for c in ("estimate", "ci_low", "ci_high")
        )
    xlim = _limits(np.append(est, pe), np.append(lo, pl), np.append(hi, ph), null, exponentiate)
    ok = np.isfinite(est)
    _draw_intervals(ax, y[ok], lo[ok], hi[ok], xlim, ROW_COLOUR)
    ax.scatter(est[ok], y[ok], s=size[ok], marker="s", color=ROW_COLOUR, zorder=3)
    for i in np.flatnonzero(~ok):
        labels[i] += " (not estimable)"
    if pooled:
        yp = float(len(rows)) + 0.3
        if prediction is not None and all(np.isfinite(prediction)):
            a, b = (float(np.exp(v) if exponentiate else v) for v in prediction)
            _draw_intervals(
                ax,
                np.array([yp]),
                np.array([a]),
                np.array([b]),
                xlim,
                POOLED_COLOUR,
                lw=1.0,
                ls=DASHED,
            )
        _diamond(ax, pe, pl, ph, yp, xlim)
        y = np.append(y, yp)
        labels.append(str(pooled.get("label", "Pooled")))
    _finish(
        ax,
        null=null,
        exponentiate=exponentiate,
        xlabel=xlabel,
        title=title,
        labels=labels,
        y=y,
        xlim=xlim,
    )
    return ax


def cumulative_forest_plot(
    cumulative: pd.DataFrame,
    *,
    ax=None,
    label: str = "label",
    estimate: str = "estimate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    prediction: tuple[float, float] | None = None,
    null: float = 0.0,
    exponentiate: bool = False,
    xlabel: str = "pooled effect (95% interval)",
    title: str = "Pooled estimate as cohorts accumulate",
):
    """The pooled estimate and its interval after 1, 2, ..., k studies, one row each (dots;
    the last, the current synthesis, as a diamond); ``prediction`` adds the interval for the
    next study as a dashed line under the last row. Returns the axes."""
    n = len(cumulative)
    ax = _axes(ax, n + (1 if prediction is not None else 0))
    est, lo, hi = _values(cumulative, (estimate, ci_low, ci_high), exponentiate)
    y = np.arange(n, dtype=float)
    labels = [str(v) for v in cumulative[label]]
    xlim = _limits(est, lo, hi, null, exponentiate)
    dots = np.isfinite(est) & (np.arange(n) < n - 1)
    _draw_intervals(ax, y[dots], lo[dots], hi[dots], xlim, ROW_COLOUR)
    ax.scatter(est[dots], y[dots], s=40, marker="o", color=ROW_COLOUR, zorder=3)
    if n and np.isfinite(est[-1]):
        _diamond(ax, est[-1], lo[-1], hi[-1], y[-1], xlim)
    if prediction is not None and all(np.isfinite(prediction)):
        a, b = (float(np.exp(v) if exponentiate else v) for v in prediction)
        yp = float(n)
        _draw_intervals(
            ax,
            np.array([yp]),
            np.array([a]),
            np.array([b]),
            xlim,
            POOLED_COLOUR,
            lw=1.2,
            ls=DASHED,
        )
        y = np.append(y, yp)
        labels.append("Next cohort (prediction)")
    _finish(
        ax,
        null=null,
        exponentiate=exponentiate,
        xlabel=xlabel,
        title=title,
        labels=labels,
        y=y,
        xlim=xlim,
    )
    return ax


def z_path_plot(
    looks: pd.DataFrame,
    *,
    ax=None,
    label: str = "label",
    z: str = "z",
    bound: str = "z_bound",
    title: str = "Evidence cohort by cohort vs the decision boundaries",
    ylabel: str = "evidence score (z; above 0: benefit)",
    xlabel: str = "look (cohorts analysed)",
):
    """The z-statistic look by look (a line with dots) against the two-sided boundaries
    (``+- bound``; the plan's looks still to come dotted) and the single-test 1.96 for
    comparison. Returns the axes."""
    ax = _axes(ax, 6, height=3.0)
    x = np.arange(1, len(looks) + 1, dtype=float)
    zz = pd.to_numeric(looks[z], errors="coerce").to_numpy(dtype=float)
    c = pd.to_numeric(looks[bound], errors="coerce").to_numpy(dtype=float)
    seen = np.isfinite(zz)
    has_c = np.isfinite(c)
    top = max(4.0, float(np.nanmax(np.abs(zz))) + 0.5 if seen.any() else 4.0)
    cap = np.where(has_c, np.minimum(c, top + 1), np.nan)
    past = np.flatnonzero(seen & has_c)
    future = np.flatnonzero(~seen & has_c)
    for sign in (1, -1):
        ax.plot(
            x[past],
            sign * cap[past],
            color=BOUND_COLOUR,
            lw=1.6,
            marker="_",
            ms=12,
            label="decision boundary" if sign == 1 else None,
        )
        if future.size:
            idx = np.concatenate([past[-1:], future])
            ax.plot(
                x[idx],
                sign * cap[idx],
                color=BOUND_COLOUR,
                lw=1.2,
                ls=":",
                label="boundary at the planned looks" if sign == 1 else None,
            )
    ax.axhline(1.96, color="#7F7F7F", lw=0.8, ls="--", label="1.96 (one test alone)")
    ax.axhline(-1.96, color="#7F7F7F", lw=0.8, ls="--")
    ax.axhline(0, color="#BBBBBB", lw=0.8)
    ax.plot(x[seen], zz[seen], color=ROW_COLOUR, marker="o", lw=1.8, label="evidence so far")
    ax.set_xticks(x, [str(v) for v in looks[label]])
    ax.set_xlim(0.5, len(looks) + 0.5)
    ax.set_ylim(-top, top)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), fontsize=8, ncols=2)
    return ax
