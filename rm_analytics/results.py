"""The one result contract of every analysis: a tidy ``summary``, notes with codes, ``plot``,
an HTML view, ``to_frame()`` and ``to_dict()``.

Subclasses set ``summary`` (and any fitted attributes ending in ``_``) and implement
:meth:`Result.plot`. The summary's key column is ``metric`` (what the row estimates), followed
where they apply by ``group``, ``horizon``, ``estimate, ci_low, ci_high, p_value, n`` and
further columns. Notes are plain-language statements about what was (not) estimated and why;
each is a :class:`Note`: a string with a ``code`` a program can filter on. The call's
arguments are kept in ``arguments`` (``params`` is its old name).
"""

from __future__ import annotations

import html
import warnings
from typing import Any

import pandas as pd

#: Columns a tidy estimate table starts with, in this order, where they apply.
ESTIMATE_COLUMNS = ["estimate", "ci_low", "ci_high", "p_value", "n"]


class Note(str):
    """A note on a result: the message (the string itself) and a ``code``.

    Codes are short snake_case words naming the situation, e.g. ``no_events``,
    ``few_clusters``, ``excluded_rows``, ``method``; ``info`` when none was given.

    >>> n = Note("no mentor left by month 12", code="no_events")
    >>> n, n.code
    ('no mentor left by month 12', 'no_events')
    """

    code: str

    def __new__(cls, message: str, code: str = "info") -> Note:
        obj = super().__new__(cls, message)
        obj.code = getattr(message, "code", code) if code == "info" else code
        return obj

    @property
    def message(self) -> str:
        return str(self)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self)}


class Result:
    """A fitted analysis: ``summary`` (tidy DataFrame), ``notes`` (list of :class:`Note`),
    ``arguments`` (the call's arguments), :meth:`plot`, :meth:`to_frame`, :meth:`to_dict`."""

    #: Short title used in HTML reprs and reports.
    title: str = "Result"

    def __init__(
        self, summary: pd.DataFrame | None = None, notes: list[str] | None = None, **arguments: Any
    ) -> None:
        self.summary: pd.DataFrame = summary if summary is not None else pd.DataFrame()
        self.notes: list[Note] = [Note(n) for n in (notes or [])]
        self.arguments: dict[str, Any] = dict(arguments)

    @property
    def params(self) -> dict[str, Any]:
        """Deprecated name of :attr:`arguments` (statsmodels' ``params`` are estimates)."""
        warnings.warn(
            "Result.params is now Result.arguments (the call's arguments)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.arguments

    # -- conveniences ----------------------------------------------------------------------
    def note(self, text: str, code: str = "info") -> None:
        """Add a note once (a repeated message is ignored)."""
        if text not in self.notes:
            self.notes.append(Note(text, code))

    def notes_with(self, code: str) -> list[Note]:
        """The notes with a given code."""
        return [n for n in self.notes if n.code == code]

    def row(self, **where: Any) -> pd.Series:
        """The one summary row matching column=value conditions (KeyError if not exactly one)."""
        s = self.summary
        mask = pd.Series(True, index=s.index)
        for col, value in where.items():
            mask &= s[col].eq(value) if value is not None else s[col].isna()
        hits = s[mask.to_numpy()]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} summary rows match {where}")
        return hits.iloc[0]

    def to_frame(self) -> pd.DataFrame:
        """The summary as a new DataFrame (changing it leaves the result as it was)."""
        return self.summary.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly content: title, summary records (NaN as None) and notes with codes."""
        records = (
            self.summary.astype(object).where(self.summary.notna(), None).to_dict(orient="records")
        )
        return {
            "title": self.title,
            "summary": records,
            "notes": [Note(n).to_dict() for n in self.notes],
        }

    def plot(self, ax=None):
        """Draw the result on ``ax`` (a new figure when None) and return the axes."""
        raise NotImplementedError(f"{type(self).__name__} has no plot")

    # -- display ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            body = self.summary.to_string(index=False) if len(self.summary) else "(empty)"
        notes = "".join(f"\nnote: {n}" for n in self.notes)
        return f"<{type(self).__name__}: {self.title}>\n{body}{notes}"

    def _repr_html_(self) -> str:
        table = self.summary.to_html(
            index=False, float_format=lambda x: f"{x:.4g}", na_rep="", border=0
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        notes_html = f"<ul class='rm-notes'>{notes}</ul>" if notes else ""
        return f"<div class='rm-result'><strong>{html.escape(self.title)}</strong>{table}{notes_html}</div>"
