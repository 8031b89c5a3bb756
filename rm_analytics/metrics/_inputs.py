"""Checks at the boundary of the metric functions that take a plain DataFrame."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def as_frame(data, name: str = "data") -> pd.DataFrame:
    """``data`` itself when it is a DataFrame; a TypeError naming ``name`` otherwise."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, not {type(data).__name__}")
    return data


def need_columns(df: pd.DataFrame, cols: Iterable, what: str = "data") -> None:
    """KeyError listing the missing columns (``None`` entries: optional, not given)."""
    missing = [c for c in cols if c is not None and c not in df.columns]
    if missing:
        raise KeyError(
            f"{what} has no column(s) {', '.join(map(repr, missing))}; "
            f"columns are {', '.join(map(str, df.columns))}"
        )


def deprecated_min_cell_size(value, where: str) -> None:
    """Warn that ``min_cell_size`` no longer suppresses anything in an analysis.

    The analyses return every figure with its ``n``; which figures a sponsor may see is the
    report's privacy policy (:mod:`rm_analytics.report.privacy`), applied by audience.
    """
    if value is None:
        return
    import warnings

    warnings.warn(
        f"{where}: min_cell_size is deprecated and ignored; the result holds every figure "
        "with its n, and the sponsor report's privacy policy (rm_analytics.report.privacy) "
        "hides small groups",
        DeprecationWarning,
        stacklevel=3,
    )
