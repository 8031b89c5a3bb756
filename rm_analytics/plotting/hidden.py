"""How a figure draws a value it must not show: a hatched frame labelled "hidden", never a bar
of zero or a missing point that reads as "none".

Which values are hidden is decided by the report's privacy policy
(:mod:`rm_analytics.report.privacy`); the plots take a boolean mask and use these helpers.
"""

from __future__ import annotations

HATCH = "//"
LABEL = "hidden"


def hidden_bar(ax, x: float, width: float, height: float, *, colour=None) -> None:
    """A hidden bar at ``x``: an empty hatched frame of ``height`` with the word "hidden"."""
    ax.bar(
        x,
        height,
        width,
        fill=False,
        hatch=HATCH,
        edgecolor=colour or "grey",
        linewidth=0.6,
        alpha=0.5,
        label="_hidden",
    )
    ax.text(
        x,
        height / 2,
        LABEL,
        rotation=90,
        ha="center",
        va="center",
        fontsize="x-small",
        color="dimgrey",
    )


def hidden_row(ax, y: float, *, height: float = 0.6) -> None:
    """A hidden row of a forest-type plot: a hatched band across the axes at ``y`` with the
    word "hidden" in its middle (the row keeps its label on the axis)."""
    from matplotlib.patches import Rectangle

    band = Rectangle(
        (0, y - height / 2),
        1,
        height,
        transform=ax.get_yaxis_transform(),
        fill=False,
        hatch=HATCH,
        edgecolor="grey",
        linewidth=0.0,
        alpha=0.5,
    )
    band.set_label("_hidden")
    ax.add_patch(band)
    ax.text(
        0.5,
        y,
        LABEL,
        transform=ax.get_yaxis_transform(),
        ha="center",
        va="center",
        fontsize="x-small",
        color="dimgrey",
    )


def hidden_point(ax, x: float, *, width: float = 0.12) -> None:
    """A hidden point of a plot with categories on the x axis: a hatched band up the axes at
    ``x`` with the word "hidden"."""
    from matplotlib.patches import Rectangle

    band = Rectangle(
        (x - width / 2, 0),
        width,
        1,
        transform=ax.get_xaxis_transform(),
        fill=False,
        hatch=HATCH,
        edgecolor="grey",
        linewidth=0.0,
        alpha=0.5,
    )
    band.set_label("_hidden")
    ax.add_patch(band)
    ax.text(
        x,
        0.5,
        LABEL,
        rotation=90,
        transform=ax.get_xaxis_transform(),
        ha="center",
        va="center",
        fontsize="x-small",
        color="dimgrey",
    )
