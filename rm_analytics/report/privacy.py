"""What sponsor-facing output may show: small-cell suppression and a scan for identifiers
and free text."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import RmAnalyticsError


def suppress_small(
    df: pd.DataFrame,
    count_columns: str | Sequence[str],
    min_cell_size: int = 5,
    *,
    dependent: Sequence[str] = (),
    marker: str | None = None,
) -> pd.DataFrame:
    """Hide counts of people from 1 to ``min_cell_size - 1`` (zero stays visible).

    The hidden counts, and the ``dependent`` columns of the same rows (rates, means computed
    from them), are replaced by ``marker`` (default ``"<5"`` for ``min_cell_size=5``). The
    result has object columns where something was hidden; the input is not modified.
    """
    cols = [count_columns] if isinstance(count_columns, str) else list(count_columns)
    missing = [c for c in [*cols, *dependent] if c not in df.columns]
    if missing:
        raise KeyError(f"suppress_small: no column(s) {', '.join(missing)}")
    mark = marker if marker is not None else f"<{min_cell_size}"
    out = df.copy()
    small = np.zeros(len(df), dtype=bool)
    for c in cols:
        v = pd.to_numeric(df[c], errors="coerce")
        s = ((v > 0) & (v < min_cell_size)).fillna(False).to_numpy()
        small |= s
        if s.any():
            out[c] = out[c].astype(object)
            out.loc[s, c] = mark
    if small.any():
        for c in dependent:
            out[c] = out[c].astype(object)
            out.loc[small, c] = mark
    return out


#: Patterns of identifiers that must never appear in a sponsor report.
ID_PATTERNS = {"employee id": re.compile(r"\bE\d{6}\b"), "pair id": re.compile(r"\bC\d\d-P\d\d\b")}


def find_identifiers(text: str, patterns: Mapping[str, re.Pattern] | None = None) -> list[str]:
    """Identifiers found in ``text`` (e.g. rendered HTML), for privacy checks."""
    hits: list[str] = []
    for pat in (patterns or ID_PATTERNS).values():
        hits.extend(pat.findall(text))
    return hits


class PrivacyError(RmAnalyticsError):
    """Sponsor-bound content contains an identifier or free text from the data."""


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[\w.@-]+", text))


def _names_in(text: str, tokens: set[str], employees) -> int:
    """How many employees' full display names (two words or more) appear in ``text``."""
    if "name" not in employees.columns:
        return 0
    found = 0
    for name in set(employees["name"].dropna().astype(str)):
        words = name.split()
        if len(words) < 2 or not _tokens(name) <= tokens:  # one word: likely an ordinary word
            continue
        if re.search(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)", text):
            found += 1
    return found


def check_privacy(text: str, pilot, *, min_text_length: int = 12) -> None:
    """Raise :class:`PrivacyError` when ``text`` (sponsor HTML) contains an employee id, a
    pair id, an employee's full name, or a free-text answer/goal/comment/intervention note
    of the pilot's data.

    A safety net behind the sections' own aggregation: the report fails (exit 1) rather than
    leak. The message names the kind of leak, never the value. Free texts shorter than
    ``min_text_length`` characters are not checked (too likely to be ordinary words).
    """
    plain = html.unescape(re.sub(r"<[^>]+>", " ", text))
    tokens = _tokens(plain)
    ids = {
        "employee id": set(pilot.employees.employee_id.dropna().astype(str)),
        "pair id": set(pilot.pairs.pair_id.dropna().astype(str)),
    }
    for kind, values in ids.items():
        if tokens & values:
            raise PrivacyError(f"sponsor content contains {len(tokens & values)} {kind}(s)")
    texts: set[str] = set()
    if pilot.surveys is not None and "text" in pilot.surveys:
        texts |= set(pilot.surveys.text.dropna().astype(str))
    if pilot.checkpoints is not None:
        for col in ("roadblocks", "wins"):
            if col in pilot.checkpoints:
                texts |= set(pilot.checkpoints[col].dropna().astype(str))
    if "goal" in pilot.pairs:
        texts |= set(pilot.pairs.goal.dropna().astype(str))
    interventions = getattr(pilot, "interventions", None)
    if interventions is not None and "note" in interventions:
        texts |= set(interventions["note"].dropna().astype(str))
    squashed = " ".join(plain.split())
    named = _names_in(squashed, tokens, pilot.employees)
    if named:
        raise PrivacyError(f"sponsor content contains {named} employee name(s)")
    leaked = [
        t for t in texts if len(t.strip()) >= min_text_length and " ".join(t.split()) in squashed
    ]
    if leaked:
        raise PrivacyError(f"sponsor content contains {len(leaked)} free-text answer(s) or goal(s)")
