"""Base class of every analysis result: a tidy ``summary`` DataFrame, notes, plot, HTML repr.

Subclasses set ``summary`` (and any fitted attributes ending in ``_``) and implement
:meth:`plot`. Notes are plain-language statements about what was (not) estimated and why;
they travel with the result into notebooks and reports.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

#: Columns a tidy estimate table starts with, in this order, where they apply.
ESTIMATE_COLUMNS = ["estimate", "ci_low", "ci_high", "p_value", "n"]


class Result:
    """A fitted analysis: ``summary`` (tidy DataFrame), ``notes`` (list of str), ``plot``."""

    #: Short title used in HTML reprs and reports.
    title: str = "Result"

    def __init__(
        self, summary: pd.DataFrame | None = None, notes: list[str] | None = None, **params: Any
    ) -> None:
        self.summary: pd.DataFrame = summary if summary is not None else pd.DataFrame()
        self.notes: list[str] = list(notes or [])
        self.params: dict[str, Any] = dict(params)

    # -- conveniences ----------------------------------------------------------------------
    def note(self, text: str) -> None:
        """Add a note once (repeated notes are ignored)."""
        if text not in self.notes:
            self.notes.append(text)

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly content: title, summary records (NaN as None) and notes."""
        records = (
            self.summary.astype(object).where(self.summary.notna(), None).to_dict(orient="records")
        )
        return {"title": self.title, "summary": records, "notes": list(self.notes)}

    def plot(self, ax=None):  # pragma: no cover - overridden
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
