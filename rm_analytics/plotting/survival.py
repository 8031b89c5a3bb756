"""survminer-style plots of a :class:`~rm_analytics.retention.RetentionResult`.

* :func:`plot_km`: Kaplan-Meier retention per group with confidence bands, censoring ticks, a
  number-at-risk table under the axis, and the log-rank p-value and hazard ratio printed.
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
):
    """Kaplan-Meier retention curves (survminer style). Returns the axes.

    ``statistics=False`` leaves out the log-rank p-value and hazard ratio printed in the
    corner (a report that declares another headline figure shows that one instead).
    """
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
        ax.text(0, -0.2, "Number at risk", transform=ax.transAxes, fontsize=8, ha="left",
                fontweight="bold")  # fmt: skip
        if dur in frame.columns and grp in frame.columns:
            for i, g in enumerate(("treated", "control")):
                m = (frame[grp] == trt_val) if g == "treated" else (frame[grp] != trt_val)
                d = frame.loc[m, dur].to_numpy(dtype=float)
                y = -0.27 - 0.07 * i
                for x in ticks:
                    ax.text(x, y, str(int((d >= x).sum())), transform=tr, ha="center",
                            fontsize=8, color=COLORS[g])  # fmt: skip
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
    ax.set_ylim(0, max(0.05, float(np.nanmax(cif.ci_high.fillna(cif.cumulative_incidence))) * 1.1)
                if len(cif) else 1)  # fmt: skip
    ax.set_xlabel(time_label)
    ax.set_ylabel("Cumulative incidence of voluntary exit")
    ax.legend(loc="upper left", frameon=False)
    ax.set_title("Voluntary exits (other exits as competing risks)")
    return ax
