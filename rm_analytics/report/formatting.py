"""Numbers and sentences for people: formatting by unit, intervals, tables.

Everything a report prints goes through these functions, so a value that cannot be computed
reads as "not estimable", never as ``NaN``.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

#: Units a metric can have; they decide how it is formatted.
UNITS = ("count", "people", "share", "pp", "percent", "ratio", "currency", "number", "points")


def is_finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


NOT_ESTIMABLE = "not estimable"


def fmt_number(x: Any, digits: int = 1) -> str:
    """``1234.5 -> "1,234.5"``; whole numbers without decimals when ``digits=0``."""
    if not is_finite(x):
        return NOT_ESTIMABLE
    return f"{float(x):,.{digits}f}".replace("-", "\u2212")


def fmt_count(x: Any) -> str:
    """A whole number with thousands separators: ``1500 -> "1,500"``."""
    if not is_finite(x):
        return NOT_ESTIMABLE
    return f"{round(float(x)):,}"


def fmt_pct(x: Any, digits: int = 0, *, signed: bool = False) -> str:
    """A share (0.123) as a percentage: ``"12%"``; ``signed`` adds ``+`` to positive values."""
    if not is_finite(x):
        return NOT_ESTIMABLE
    v = float(x) * 100
    if abs(v) < 0.5 * 10**-digits:
        v = 0.0
    text = f"{v:{'+' if signed else ''}.{digits}f}%"
    return text.replace("-", "\u2212")


def fmt_pp(x: Any, digits: int = 0) -> str:
    """A difference of shares in percentage points: ``0.05 -> "+5 pp"``."""
    if not is_finite(x):
        return NOT_ESTIMABLE
    v = float(x) * 100
    if abs(v) < 0.5 * 10**-digits:
        v = 0.0
    return f"{v:+.{digits}f} pp".replace("-", "\u2212")


_CURRENCY_SYMBOLS = {"EUR": "\u20ac", "USD": "$", "GBP": "\u00a3", "JPY": "\u00a5"}


def fmt_currency(x: Any, currency: str = "EUR", *, digits: int = 0) -> str:
    """An amount: ``12345 -> "€12,345"``; ``1.2e6 -> "€1.2m"``; unknown codes as suffix."""
    if not is_finite(x):
        return NOT_ESTIMABLE
    v = float(x)
    sign = "\u2212" if v < 0 else ""
    v = abs(v)
    body = f"{v / 1e6:,.1f}m" if v >= 1e6 else f"{v:,.{digits}f}"
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency.upper()}"


def fmt_value(
    x: Any, unit: str = "number", *, currency: str = "EUR", digits: int | None = None
) -> str:
    """Format one value by unit (see :data:`UNITS`)."""
    if unit in ("count", "people"):
        return fmt_count(x)
    if unit == "share":
        return fmt_pct(x, 0 if digits is None else digits)
    if unit == "pp":
        return fmt_pp(x, 0 if digits is None else digits)
    if unit == "percent":  # already in percent (e.g. ROI %)
        if not is_finite(x):
            return NOT_ESTIMABLE
        return fmt_number(x, 0 if digits is None else digits) + "%"
    if unit == "ratio":
        return fmt_number(x, 2 if digits is None else digits)
    if unit == "currency":
        return fmt_currency(x, currency, digits=0 if digits is None else digits)
    if unit == "points":  # a difference on a rating scale, signed
        if not is_finite(x):
            return NOT_ESTIMABLE
        return f"{float(x):+,.{2 if digits is None else digits}f}".replace("-", "\u2212")
    if unit == "number":
        return fmt_number(x, 1 if digits is None else digits)
    raise ValueError(f"unknown unit {unit!r}; units are {', '.join(UNITS)}")


def fmt_interval(
    estimate: Any,
    ci_low: Any = None,
    ci_high: Any = None,
    unit: str = "number",
    *,
    currency: str = "EUR",
    digits: int | None = None,
) -> str:
    """``"12% (5% to 19%)"``: an estimate and its interval, formatted by unit.

    Without an estimate: ``"not estimable"``; without an interval: the estimate followed by
    ``"(no interval)"`` so a reader never mistakes a point estimate for a sure value.
    Differences (``pp``, ``points``) keep their sign on both bounds: ``"+5 pp (−2 pp to +12 pp)"``.
    """
    est = fmt_value(estimate, unit, currency=currency, digits=digits)
    if not is_finite(estimate):
        return NOT_ESTIMABLE
    if not (is_finite(ci_low) and is_finite(ci_high)):
        return f"{est} (no interval)"
    lo = fmt_value(ci_low, unit, currency=currency, digits=digits)
    hi = fmt_value(ci_high, unit, currency=currency, digits=digits)
    return f"{est} ({lo} to {hi})"


def join_words(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def table_html(frame: pd.DataFrame, caption: str, note: str = "") -> str:
    """A people-readable HTML table: caption, no index, right-aligned numbers, note below."""
    body = frame.to_html(index=False, border=0, na_rep="", escape=True, classes="rm-table")
    # the opening tag differs between pandas versions (with or without border="0")
    body = re.sub(
        r"<table[^>]*>",
        lambda _: f'<table class="rm-table"><caption>{html.escape(caption)}</caption>',
        body,
        count=1,
    )
    note_html = f'<p class="rm-table-note">{html.escape(note)}</p>' if note else ""
    return f'<div class="rm-table-wrap">{body}{note_html}</div>'
