"""One plot theme for every figure of the reports: colour-blind-safe, titled, captioned.

The palette is Okabe & Ito's (2008) eight colours, distinguishable with the common forms of
colour-vision deficiency. Program participants are always blue, the control group always
orange, so a reader learns the code once.

>>> from rm_analytics import theme
>>> theme.use()                              # matplotlib / seaborn defaults
>>> fig, ax = theme.figure()
>>> theme.label(ax, title="Sessions held per pair", x="sessions", y="pairs")
<Axes: title={'left': 'Sessions held per pair'}, xlabel='sessions', ylabel='pairs'>
>>> html = theme.figure_html(fig, caption="Figure 1. ...")   # embedded PNG + caption
>>> html[:4]
'<fig'
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

#: Okabe-Ito palette (hex), in the usual order.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: Colour cycle of the reports (black and yellow last: poor on white for lines).
PALETTE = [
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["yellow"],
    OKABE_ITO["black"],
]
#: Fixed colours of the groups compared in the reports.
GROUP_COLOURS = {
    "participants": OKABE_ITO["blue"],
    "mentors": OKABE_ITO["blue"],
    "mentees": OKABE_ITO["sky_blue"],
    "control": OKABE_ITO["orange"],
    "organisation": "#7F7F7F",
}

RC = {
    "figure.figsize": (7.0, 3.8),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.8,
    "legend.frameon": False,
    "svg.hashsalt": "rm-analytics",
}


def use() -> None:
    """Apply the theme to matplotlib (and seaborn when installed)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(RC)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=PALETTE)
    try:
        import seaborn as sns

        sns.set_palette(PALETTE)
    except ImportError:  # pragma: no cover - seaborn is a dependency
        pass


def figure(nrows: int = 1, ncols: int = 1, **kwargs: Any):
    """A new figure in the theme: ``fig, ax = figure()``."""
    import matplotlib.pyplot as plt

    use()
    return plt.subplots(nrows, ncols, **kwargs)


def label(ax, *, title: str, x: str | None = None, y: str | None = None) -> Any:
    """Set title and axis labels (state units in the label, e.g. ``"months since start"``)."""
    ax.set_title(title)
    if x is not None:
        ax.set_xlabel(x)
    if y is not None:
        ax.set_ylabel(y)
    return ax


def check_labelled(fig) -> list[str]:
    """Problems that make a figure unreadable for a sponsor: axes without a title or labels."""
    problems = []
    for i, ax in enumerate(fig.axes):
        if not ax.axison:
            continue
        if not (ax.get_title() or ax.get_title(loc="left") or fig._suptitle):
            problems.append(f"axes {i} has no title")
        if not ax.get_xlabel() and ax.get_xaxis().get_visible() and ax.get_xticks().size:
            problems.append(f"axes {i} has no x-axis label")
        if not ax.get_ylabel() and ax.get_yaxis().get_visible() and ax.get_yticks().size:
            problems.append(f"axes {i} has no y-axis label")
    return problems


def figure_png(fig) -> bytes:
    """PNG bytes of a figure (no timestamp metadata, so reruns give the same bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def figure_html(fig, caption: str, *, alt: str | None = None, close: bool = True) -> str:
    """A ``<figure>`` with the plot embedded as base64 PNG and a caption; closes the figure.

    Raises ValueError when an axis lacks its title or labels (see :func:`check_labelled`).
    """
    problems = check_labelled(fig)
    if problems:
        raise ValueError("figure is not ready for a report: " + "; ".join(problems))
    data = base64.b64encode(figure_png(fig)).decode("ascii")
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    alt_text = html.escape(alt or caption, quote=True)
    return (
        f'<figure class="rm-figure"><img src="data:image/png;base64,{data}" alt="{alt_text}"/>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )
