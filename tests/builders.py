"""One builder for small synthetic pilots, shared by the tests.

:func:`tiny_pilot` builds a valid pilot from scratch: one cohort of ``n_pairs`` pairs (``P1``,
``P2``, ... with junior mentors ``M1``, ... and senior mentees ``S1``, ...), optionally a
waitlist control group (``W1``, ...), weekly held sessions, and the exits you plant
(``exits={"M2": ("2025-06-30", "voluntary")}``). Tests edit ``.tables`` (DataFrames, dates
as timestamps) for what they are about, then take ``.pilot()`` (validated by
:meth:`rm_analytics.Pilot.from_frames`) or ``.write(folder)`` (one CSV per table, for
:func:`rm_analytics.load_pilot`, the command line and the report).

:func:`copy_pilot` copies a folder of tables (usually the committed sample) with some tables
left out or filtered, for the "valid but incomplete" pilots.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

EMPLOYEE_COLUMNS = [
    "employee_id",
    "hire_date",
    "termination_date",
    "termination_type",
    "department",
    "level",
]


@dataclass
class TinyPilot:
    """The tables of a small pilot (edit them freely) and the date it is looked at."""

    tables: dict[str, pd.DataFrame]
    today: str
    exits: dict[str, tuple[str, str]] = field(default_factory=dict)

    def pilot(self):
        """The validated :class:`rm_analytics.Pilot`."""
        from rm_analytics import Pilot

        return Pilot.from_frames(today=self.today, **self.tables)

    def write(self, folder: Path) -> Path:
        """Write one CSV per table into ``folder`` (created) and return it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, df in self.tables.items():
            df.to_csv(folder / f"{name}.csv", index=False)
        return folder

    def load(self, folder: Path):
        """Write the tables to ``folder`` and read them back with ``load_pilot``."""
        from rm_analytics import load_pilot

        return load_pilot(self.write(folder), today=self.today)


def tiny_pilot(
    n_pairs: int = 4,
    *,
    start: str = "2025-01-06",
    end: str | None = None,
    cadence_days: int = 7,
    planned_sessions: int = 12,
    status: str = "completed",
    controls: int = 0,
    exits: Mapping[str, tuple[str, str]] | None = None,
    sessions: bool = True,
    salaries: bool = False,
    hire_date: str = "2020-01-01",
    today: str = "2025-12-31",
) -> TinyPilot:
    """A valid one-cohort pilot of ``n_pairs`` pairs.

    Parameters
    ----------
    start, end
        The cohort's dates (ISO); ``end`` defaults to ``planned_sessions`` cadences after the
        start, less three days (a Friday for a Monday start and a weekly cadence).
    status
        Every pair's status; pairs that are not ``active`` end with the cohort.
    controls
        Number of waitlist controls (``W1``, ...), in the ``control`` table; 0: no such table.
    exits
        ``employee_id -> (termination date, termination type)``.
    sessions
        Weekly (every ``cadence_days``) held sessions of 60 minutes per pair, from the start up
        to the end and ``today``; False: no ``sessions`` table.
    salaries
        Add ``annual_salary`` (mentors 40,000, mentees 90,000, controls 40,000).
    """
    if n_pairs < 1:
        raise ValueError("n_pairs must be at least 1")
    t0 = pd.Timestamp(start)
    t1 = pd.Timestamp(end) if end else t0 + pd.Timedelta(days=cadence_days * planned_sessions - 3)
    exits = dict(exits or {})
    mentors = [f"M{i}" for i in range(1, n_pairs + 1)]
    mentees = [f"S{i}" for i in range(1, n_pairs + 1)]
    waitlist = [f"W{i}" for i in range(1, controls + 1)]
    ids = mentors + mentees + waitlist
    unknown = set(exits) - set(ids)
    if unknown:
        raise ValueError(f"exits of people not in the pilot: {sorted(unknown)}")
    employees = pd.DataFrame(
        {
            "employee_id": ids,
            "hire_date": pd.Timestamp(hire_date),
            "termination_date": pd.to_datetime([exits.get(e, (None, None))[0] for e in ids]),
            "termination_type": [exits.get(e, (None, None))[1] for e in ids],
            "department": ["Technology"] * n_pairs
            + ["Finance"] * n_pairs
            + ["Technology"] * controls,
            "level": ["L1"] * n_pairs + ["L6"] * n_pairs + ["L1"] * controls,
        }
    )
    if salaries:
        employees["annual_salary"] = (
            [40_000.0] * n_pairs + [90_000.0] * n_pairs + [40_000.0] * controls
        )
    cohorts = pd.DataFrame(
        {
            "cohort_id": ["C1"],
            "start_date": [t0],
            "end_date": [t1],
            "cadence_days": [cadence_days],
            "planned_sessions": [planned_sessions],
        }
    )
    ended = status != "active"
    pairs = pd.DataFrame(
        {
            "pair_id": [f"P{i}" for i in range(1, n_pairs + 1)],
            "cohort_id": "C1",
            "mentor_id": mentors,
            "mentee_id": mentees,
            "status": status,
            "start_date": t0,
            "end_date": t1 if ended else pd.NaT,
        }
    )
    tables = {"employees": employees, "cohorts": cohorts, "pairs": pairs}
    if sessions:
        last = min(t1, pd.Timestamp(today))
        days = [
            t0 + pd.Timedelta(days=cadence_days * j)
            for j in range(planned_sessions)
            if t0 + pd.Timedelta(days=cadence_days * j) <= last
        ]
        tables["sessions"] = pd.DataFrame(
            [(p, d, 60.0, "held") for p in pairs.pair_id for d in days],
            columns=["pair_id", "date", "duration_minutes", "status"],
        )
    if controls:
        tables["control"] = pd.DataFrame({"employee_id": waitlist, "cohort_id": "C1"})
    return TinyPilot(tables=tables, today=today, exits=exits)


def copy_pilot(
    src: Path,
    dst: Path,
    *,
    drop: Iterable[str] = (),
    keep_rows: Mapping[str, Callable[[pd.DataFrame], pd.Series]] | None = None,
    blank: Mapping[str, Iterable[str]] | None = None,
) -> Path:
    """Copy the table files of ``src`` into ``dst``, leaving out the tables in ``drop``,
    keeping the rows of ``table`` where ``keep_rows[table](frame)`` is true and blanking the
    columns in ``blank[table]`` (the edited tables are read and written as text)."""
    src, dst = Path(src), Path(dst)
    shutil.copytree(src, dst)
    for table in drop:
        (dst / f"{table}.csv").unlink()
    edits = set(keep_rows or {}) | set(blank or {})
    for table in edits:
        f = dst / f"{table}.csv"
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if keep_rows and table in keep_rows:
            df = df[keep_rows[table](df)]
        for col in (blank or {}).get(table, ()):
            df[col] = ""
        df.to_csv(f, index=False)
    return dst
