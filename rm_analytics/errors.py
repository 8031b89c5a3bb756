"""Exceptions with messages a person can act on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One violation of the data contract.

    ``row`` counts as a person does in the file (header = row 1 for CSV and Excel);
    None when the problem concerns the whole file or a header.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        value = "" if self.value is None else f": value {_short(self.value)!r}"
        return f"{', '.join(where)}{value}: {self.rule}"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RmAnalyticsError(Exception):
    """Base class of the package's own errors."""


class DataValidationError(RmAnalyticsError, ValueError):
    """The input data break the data contract.

    ``problems`` lists every problem found (validation is lazy: nothing stops at the first).
    ``str(error)`` lists them grouped by file and rule; at most ``per_rule`` rows of one
    rule are spelled out in the message, with the count of the rest, while ``problems``
    and :meth:`to_frame` always hold all of them.
    """

    per_rule = 20

    def __init__(self, problems: Sequence[Problem], *, per_rule: int | None = None):
        self.problems: list[Problem] = list(problems)
        if per_rule is not None:
            self.per_rule = per_rule
        super().__init__(self.format())

    def format(self, per_rule: int | None = None) -> str:
        """Human-readable list of the problems; ``per_rule=0`` spells out every row."""
        limit = self.per_rule if per_rule is None else per_rule
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input data:"
        lines = [head]
        shown: dict[tuple[str, str | None, str], int] = {}
        hidden: dict[tuple[str, str | None, str], int] = {}
        for p in self.problems:
            key = (p.file, p.column, p.rule)
            if limit and shown.get(key, 0) >= limit:
                hidden[key] = hidden.get(key, 0) + 1
                continue
            shown[key] = shown.get(key, 0) + 1
            lines.append(f"  - {p}")
        for (file, column, rule), count in hidden.items():
            col = f", column {column!r}" if column else ""
            lines.append(f"  - {file}{col}: {count} more row(s) break the rule: {rule}")
        return "\n".join(lines)

    def to_frame(self):
        """Every problem as a DataFrame with columns file, row, column, value, rule."""
        import pandas as pd

        return pd.DataFrame(
            [(p.file, p.row, p.column, p.value, p.rule) for p in self.problems],
            columns=["file", "row", "column", "value", "rule"],
        ).astype({"row": "Int64"})

    @classmethod
    def from_problems(cls, problems: Iterable[Problem]) -> DataValidationError:
        return cls(list(problems))


class InsufficientDataError(RmAnalyticsError, ValueError):
    """An analysis cannot run on the data given (e.g. a required table is absent)."""
