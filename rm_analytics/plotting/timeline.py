"""Pair timelines: one lane per pair with its sessions, safety pulses, flags and interventions.

Takes plain frames (it never imports the metrics): ``events`` with columns ``pair_id, date,
kind`` (``session``, ``pulse``, ``flag``, ``intervention``), ``detail`` (session status,
member role, flag code, intervention action), ``value``, ``low`` (a pulse below the scale
midpoint) and ``status`` (flags: ``open`` or ``addressed``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .theme import OKABE_ITO

#: Marker styles of the timeline: kind -> (marker, colour, size, vertical offset in the lane).
STYLE = {
    "held": ("o", OKABE_ITO["blue"], 22, 0.0),
    "missed": ("o", "none", 22, 0.0),
    "pulse": ("D", OKABE_ITO["bluish_green"], 26, 0.22),
    "pulse_low": ("D", OKABE_ITO["vermillion"], 34, 0.22),
    "flag_open": ("^", OKABE_ITO["vermillion"], 46, -0.25),
    "flag_addressed": ("^", "#9A9A9A", 40, -0.25),
    "intervention": ("P", OKABE_ITO["black"], 52, 0.0),
}
LEGEND = {
    "held": "session held",
    "missed": "session cancelled or no-show",
    "pulse": "safety pulse",
    "pulse_low": "safety pulse below the midpoint",
    "flag_open": "flag, open",
    "flag_addressed": "flag, addressed",
    "intervention": "intervention by the lead",
}


def _style_key(row) -> str:
    if row.kind == "session":
        return "held" if row.detail == "held" else "missed"
    if row.kind == "pulse":
        return "pulse_low" if bool(row.low) else "pulse"
    if row.kind == "flag":
        return "flag_open" if row.status == "open" else "flag_addressed"
    return "intervention"


def pair_timelines(
    events: pd.DataFrame,
    lanes: Sequence[tuple[str, str]],
    *,
    as_of: pd.Timestamp | None = None,
    ax=None,
    title: str = "Pair timelines",
):
    """Draw one lane per pair (``lanes``: ``(pair_id, label)`` top to bottom) and return the
    axes. The as-of date is a dashed vertical line."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 1.4 + 0.3 * max(1, len(lanes))))
    y_of = {pid: i for i, (pid, _) in enumerate(lanes)}
    ev = events[events.pair_id.isin(list(y_of))]
    if len(ev):
        keys = np.array([_style_key(r) for r in ev.itertuples()])
        for key, (marker, colour, size, dy) in STYLE.items():
            sel = ev[keys == key]
            if sel.empty:
                continue
            y = sel.pair_id.map(y_of).to_numpy(dtype=float) + dy
            edge = OKABE_ITO["blue"] if key == "missed" else colour
            ax.scatter(
                sel.date.to_numpy(),
                y,
                marker=marker,
                s=size,
                facecolors=colour,
                edgecolors=edge,
                linewidths=0.9,
                label=LEGEND[key],
                zorder=3,
            )
    for i in range(len(lanes)):
        ax.axhline(i, color="#E5E5E5", lw=0.6, zorder=1)
    if as_of is not None:
        ax.axvline(pd.Timestamp(as_of), color="#555555", ls="--", lw=1, label="as-of date")
    ax.set_yticks(range(len(lanes)), [label for _, label in lanes])
    ax.set_ylim(len(lanes) - 0.5, -0.5)
    ax.grid(False)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("date")
    ax.set_ylabel("pair")
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(0, -0.14), ncols=4, fontsize=8)
    return ax
