"""survminer-style plots of a :class:`~rm_analytics.retention.RetentionResult`.

* :func:`plot_km`: Kaplan-Meier retention per group with confidence bands, censoring ticks, a
  number-at-risk table under the axis, and the log-rank p-value and hazard ratio printed; or,
  with ``min_group`` (the sponsor's figure), retention only at a few points in time with
  intervals, no step or tick of one person, and the people still followed rounded.
* :func:`plot_cumulative_incidence`: cumulative incidence of voluntary exits per group.
"""

from __future__ import annotations

import numpy as np

COLORS = {"treated": "C0", "control": "C1"}
LABELS = {"treated": "Participants", "control": "Control"}


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def plot_km(
    result,
    ax=None,
    *,
    risk_table: bool = True,
    time_label: str = "Months since cohort start",
    statistics: bool = True,
    min_group: int | None = None,
    every: float = 6.0,
):
    """Kaplan-Meier retention curves (survminer style). Returns the axes.

    ``statistics=False`` leaves out the log-rank p-value and hazard ratio printed in the
    corner (a report that declares another headline figure shows that one instead).

    ``min_group`` draws the figure a sponsor may see (no step, tick or count of one person):
    each group's retention only every ``every`` months, with its 95% interval, while at
    least ``min_group`` of the group are still followed; the people still followed under the
    axis rounded to a multiple of 5 and "hidden" below ``min_group``.
    """
    if min_group is not None:
        return _plot_km_coarse(
            result,
            ax,
            min_group=min_group,
            every=every,
            risk_table=risk_table,
            time_label=time_label,
        )
    import matplotlib.pyplot as plt
    from matplotlib.transforms import blended_transform_factory

    from ..stats.survival import km_at

    created = ax is None
    if created:
        fig, ax = plt.subplots(figsize=(7, 5))
    alpha = result.arguments.get("alpha", 0.05)
    conf_type = result.arguments.get("conf_type", "log")
    frame = result.frame_
    tmax = 0.0
    for g in ("treated", "control"):
        tab = result.km_.get(g)
        if tab is None or tab.time.size == 0:
            continue
        t = np.concatenate([[0.0], tab.time])
        s = np.concatenate([[1.0], tab.surv])
        # km_at: Greenwood band, with the exact lower limit before a group's first exit
        band = km_at(tab, tab.time, alpha, conf_type)
        lo, hi = band["ci_low"], band["ci_high"]
        lo = np.concatenate([[1.0], np.where(np.isnan(lo), tab.surv, lo)])
        hi = np.concatenate([[1.0], np.where(np.isnan(hi), tab.surv, hi)])
        c = COLORS[g]
        ax.step(t, s, where="post", color=c, label=f"{LABELS[g]} (n={int(round(tab.n))})")
        ax.fill_between(t, lo, hi, step="post", color=c, alpha=0.15, lw=0)
        cens = tab.n_censor > 0
        ax.plot(tab.time[cens], tab.surv[cens], "|", color=c, ms=8, mew=1.2)
        tmax = max(tmax, float(tab.time[-1]))
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(0, tmax * 1.02 if tmax > 0 else 1)
    ax.set_ylabel("Retention (no voluntary exit)")
    ax.set_xlabel(time_label)
    ax.legend(loc="lower left", frameon=False)
    s = result.summary
    if statistics:
        lr = s[s.metric == "logrank"].iloc[0]
        hr = s[s.metric == "hazard_ratio"].iloc[0]
        text = f"Log-rank p {_fmt_p(lr.p_value)}"
        if np.isfinite(hr.estimate):
            text += f"\nHR {hr.estimate:.2f} ({hr.ci_low:.2f}-{hr.ci_high:.2f})"
        else:
            text += "\nHR not estimable (see notes)"
        ax.text(0.98, 0.04, text, transform=ax.transAxes, ha="right", va="bottom", fontsize=9)
    if risk_table and frame is not None and len(frame):
        ticks = [x for x in ax.get_xticks() if 0 <= x <= ax.get_xlim()[1]]
        tr = blended_transform_factory(ax.transData, ax.transAxes)
        dur = result.arguments.get("duration")
        grp = result.arguments.get("group")
        trt_val = result.arguments.get("treated", 1)
        ax.text(
            0,
            -0.2,
            "Number at risk",
            transform=ax.transAxes,
            fontsize=8,
            ha="left",
            fontweight="bold",
        )
        if dur in frame.columns and grp in frame.columns:
            for i, g in enumerate(("treated", "control")):
                m = (frame[grp] == trt_val) if g == "treated" else (frame[grp] != trt_val)
                d = frame.loc[m, dur].to_numpy(dtype=float)
                y = -0.27 - 0.07 * i
                for x in ticks:
                    ax.text(
                        x,
                        y,
                        str(int((d >= x).sum())),
                        transform=tr,
                        ha="center",
                        fontsize=8,
                        color=COLORS[g],
                    )
        if created:
            ax.figure.subplots_adjust(bottom=0.3)
    ax.set_title(result.title)
    return ax


def _rounded(n: float, k: int, base: int = 5) -> str:
    if n <= 0:
        return "0"
    return "hidden" if n < k else f"{int(base * round(n / base)):,}"


def _plot_km_coarse(result, ax, *, min_group: int, every: float, risk_table: bool, time_label: str):
    """Retention every ``every`` months with intervals, only where ``min_group`` or more are
    still followed (see :func:`plot_km`)."""
    import matplotlib.pyplot as plt
    from matplotlib.transforms import blended_transform_factory

    from ..stats.survival import km_at

    created = ax is None
    if created:
        fig, ax = plt.subplots(figsize=(7, 5))
    alpha = result.arguments.get("alpha", 0.05)
    conf_type = result.arguments.get("conf_type", "log")
    tmax = 0.0
    grid: np.ndarray = np.zeros(1)
    drawn: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for j, g in enumerate(("treated", "control")):
        tab = result.km_.get(g)
        if tab is None or tab.time.size == 0:
            continue
        last = float(tab.time[-1])
        grid = np.arange(0.0, max(last, every) + every, every)
        at = km_at(tab, grid, alpha, conf_type)
        n_risk = np.asarray(at["n_risk"], dtype=float)
        n_risk[0] = tab.n
        keep = (n_risk >= min_group) & np.isfinite(at["surv"])
        x, s = grid[keep], at["surv"][keep]
        lo = np.where(np.isnan(at["ci_low"]), at["surv"], at["ci_low"])[keep]
        hi = np.where(np.isnan(at["ci_high"]), at["surv"], at["ci_high"])[keep]
        c = COLORS[g]
        dx = (j - 0.5) * every * 0.06
        ax.errorbar(
            x + dx,
            s,
            yerr=[s - lo, hi - s],
            fmt="o",
            ls=":",
            color=c,
            capsize=3,
            label=f"{LABELS[g]} (n={int(round(tab.n))})",
        )
        drawn[g] = (grid, n_risk)
        tmax = max(tmax, float(x.max()) if x.size else 0.0)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlim(-every * 0.25, tmax + every * 0.5 if tmax > 0 else every)
    ax.set_xticks(np.arange(0.0, tmax + every / 2, every) if tmax > 0 else [0.0])
    ax.set_ylabel("Retention (no voluntary exit)")
    ax.set_xlabel(time_label)
    ax.legend(loc="lower left", frameon=False)
    if risk_table and drawn:
        tr = blended_transform_factory(ax.transData, ax.transAxes)
        ax.text(
            0,
            -0.2,
            "Still followed (rounded to 5)",
            transform=ax.transAxes,
            fontsize=8,
            ha="left",
            fontweight="bold",
        )
        for i, g in enumerate(("treated", "control")):
            if g not in drawn:
                continue
            times, n_risk = drawn[g]
            for x, n in zip(times, n_risk, strict=True):
                if x > tmax + 1e-9:
                    break
                ax.text(
                    x,
                    -0.27 - 0.07 * i,
                    _rounded(n, min_group),
                    transform=tr,
                    ha="center",
                    fontsize=8,
                    color=COLORS[g],
                )
        if created:
            ax.figure.subplots_adjust(bottom=0.3)
    ax.set_title(result.title)
    return ax


def plot_cumulative_incidence(result, ax=None, *, time_label: str = "Months since cohort start"):
    """Cumulative incidence of voluntary exits (competing exits accounted for). Returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    cif = result.cif_
    for g in ("treated", "control"):
        d = cif[cif.group == g]
        if d.empty:
            continue
        t = np.concatenate([[0.0], d.time.to_numpy()])
        f = np.concatenate([[0.0], d.cumulative_incidence.to_numpy()])
        lo = np.concatenate([[0.0], d.ci_low.fillna(d.cumulative_incidence).to_numpy()])
        hi = np.concatenate([[0.0], d.ci_high.fillna(d.cumulative_incidence).to_numpy()])
        ax.step(t, f, where="post", color=COLORS[g], label=LABELS[g])
        ax.fill_between(t, lo, hi, step="post", color=COLORS[g], alpha=0.15, lw=0)
    ax.set_ylim(
        0,
        max(0.05, float(np.nanmax(cif.ci_high.fillna(cif.cumulative_incidence))) * 1.1)
        if len(cif)
        else 1,
    )
    ax.set_xlabel(time_label)
    ax.set_ylabel("Cumulative incidence of voluntary exit")
    ax.legend(loc="upper left", frameon=False)
    ax.set_title("Voluntary exits (other exits as competing risks)")
    return ax
