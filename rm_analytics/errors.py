"""Exceptions with messages a person can act on."""

from __future__ import annotations

import re
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
    cause: str | None = None
    """The root cause this problem follows from (e.g. a wrong date format, a wrong
    delimiter), named once with its fix in messages; None for a problem of its own."""

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        value = "" if self.value is None else f": value {_short(self.value)!r}"
        return f"{', '.join(where)}{value}: {self.rule}"


_VARIABLE_PARTS = (
    (re.compile(r"\([^()]*\d[^()]*\)"), "(...)"),  # "(first on row 5)", "(hired 2020-01-02)"
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "<date>"),
)


def _rule_kind(rule: str) -> str:
    """A rule without its row-specific parts, so that e.g. every "duplicate employee_id
    (first on row N)" forms one group."""
    for pattern, repl in _VARIABLE_PARTS:
        rule = pattern.sub(repl, rule)
    return rule


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RmAnalyticsError(Exception):
    """Base class of the package's own errors.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> issubclass(rm.DataValidationError, rm.RmAnalyticsError)
    True
    >>> issubclass(rm.InsufficientDataError, rm.RmAnalyticsError)
    True
    >>> pilot = rm.load_sample()
    >>> try:
    ...     rm.pilot_synthesis(pilot.select("C01"))
    ... except rm.RmAnalyticsError as err:
    ...     print(type(err).__name__)
    InsufficientDataError
    """


class DataValidationError(RmAnalyticsError, ValueError):
    """The input data break the data contract.

    ``problems`` lists every problem found (validation is lazy: nothing stops at the first).
    ``str(error)`` names each root cause once with its fix (a wrong delimiter, encoding or
    date format explains thousands of rows) and then summarises the other problems by file,
    column and rule with the first ``per_rule`` rows of each, while ``problems`` and
    :meth:`to_frame` always hold all of them.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> pilot = rm.load_sample()
    >>> pairs = pilot.pairs.copy()
    >>> pairs.loc[pairs.index[0], "mentor_id"] = "E999999"
    >>> try:
    ...     rm.Pilot.from_frames(employees=pilot.employees, cohorts=pilot.cohorts, pairs=pairs)
    ... except rm.DataValidationError as err:
    ...     print(err)
    ...     problems = err.to_frame()
    1 problem in the input data:
      - pairs (DataFrame), row 2, column 'mentor_id': value 'E999999': unknown employee_id (not in
    employees)
    >>> print(problems[["file", "row", "column", "value"]].to_string(index=False))
                 file  row    column   value
    pairs (DataFrame)    2 mentor_id E999999
    """

    per_rule = 10

    def __init__(self, problems: Sequence[Problem], *, per_rule: int | None = None):
        self.problems: list[Problem] = list(problems)
        if per_rule is not None:
            self.per_rule = per_rule
        super().__init__(self.format())

    def format(self, per_rule: int | None = None) -> str:
        """Human-readable summary of the problems; ``per_rule=0`` spells out every row."""
        limit = self.per_rule if per_rule is None else per_rule
        n = len(self.problems)
        causes: dict[str, list[Problem]] = {}
        rules: dict[tuple[str, str | None, str], list[Problem]] = {}
        for p in self.problems:
            if p.cause:
                causes.setdefault(p.cause, []).append(p)
            else:
                rules.setdefault((p.file, p.column, _rule_kind(p.rule)), []).append(p)
        head = f"{n:,} problem{'s' if n != 1 else ''} in the input data"
        if causes:
            k = len(causes)
            head += f", {k} root cause{'s' if k != 1 else ''} first"
        lines = [head + ":"]
        for i, (cause, ps) in enumerate(causes.items(), 1):
            lines.append(f"  {i}. {cause}")
            rows = [p.row for p in ps if p.row is not None]
            if len(ps) > 1 or len(rows) > 1:
                shown = rows if not limit else rows[:limit]
                more = len(rows) - len(shown)
                text = ", ".join(map(str, shown)) + (f" and {more:,} more row(s)" if more else "")
                lines.append(f"     {len(ps):,} problems follow from it; rows: {text}")
        if rules and causes:
            lines.append("Other problems, by rule:")
        for (file, column, _), ps in rules.items():
            if len(ps) == 1:
                lines.append(f"  - {ps[0]}")
                continue
            col = f", column {column!r}" if column else ""
            lines.append(f"  - {file}{col}: {len(ps):,} rows break the rule: {ps[0].rule}")
            shown = ps if not limit else ps[:limit]
            for p in shown:
                value = "" if p.value is None else f" value {_short(p.value)!r}:"
                where = f"row {p.row}" if p.row is not None else "file"
                lines.append(f"      {where}:{value} {p.rule}")
            if len(ps) > len(shown):
                lines.append(f"      ... {len(ps) - len(shown):,} more row(s) break the rule")
        return "\n".join(lines)

    def to_frame(self):
        """Every problem as a DataFrame with columns file, row, column, value, rule, cause."""
        import pandas as pd

        return pd.DataFrame(
            [(p.file, p.row, p.column, p.value, p.rule, p.cause) for p in self.problems],
            columns=["file", "row", "column", "value", "rule", "cause"],
        ).astype({"row": "Int64"})

    @classmethod
    def from_problems(cls, problems: Iterable[Problem]) -> DataValidationError:
        return cls(list(problems))


class AnalysisDateError(RmAnalyticsError, ValueError):
    """The analysis date (``as_of``) is not a date or lies after today: data cannot show
    what has not happened yet (exit code 2 on the command line)."""


class InsufficientDataError(RmAnalyticsError, ValueError):
    """An analysis cannot run on the data given (e.g. a required table is absent).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> pilot = rm.load_sample()
    >>> try:
    ...     rm.pilot_synthesis(pilot.select("C01"))
    ... except rm.InsufficientDataError as err:
    ...     print(err)
    a synthesis across cohorts needs two or more cohorts

    A report shows such a figure as "not available" with this reason.
    """
