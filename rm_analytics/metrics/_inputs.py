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
