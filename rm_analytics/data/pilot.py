"""The :class:`Pilot`: validated, typed tables of one reverse-mentoring program.

Every table's index is the row number of its source file (header = row 1 for CSV and Excel),
so a row any analysis singles out can be found in the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import AnalysisDateError, DataValidationError, InsufficientDataError
from . import contract as C
from .readers import RawTable, find_tables, read_table, write_tables
from .validation import order_waves, validate_raw

QUALITY_COLUMNS = ["table", "stage", "check", "rows", "action", "detail"]

#: Dates that may be planned (in the future) rather than recorded.
PLANNED_DATES = frozenset({("cohorts", "end_date"), ("pairs", "end_date"), ("costs", "date")})


def snapshot_date(
    tables: dict[str, pd.DataFrame], today: str | pd.Timestamp | None = None
) -> pd.Timestamp:
    """The latest date *recorded* in the tables: the default ``as_of`` of every analysis.

    Planned dates (cohort and pair end dates, dates of cost lines) are left out, so a pilot
    still running is judged as of its last recorded event, not its planned end. With ``today``,
    dates after it are left out too: a future date is a planned event (a termination date of a
    planned leave), not an observed one. NaT when there are no dates.
    """
    limit = pd.Timestamp(today).normalize() if today is not None else None
    latest = pd.NaT
    for name, df in tables.items():
        for c in df.columns:
            if (name, c) in PLANNED_DATES or not pd.api.types.is_datetime64_any_dtype(df[c]):
                continue
            m = df[c].max()
            if limit is not None and pd.notna(m) and m > limit:
                m = df[c][df[c] <= limit].max()
            if pd.notna(m) and (pd.isna(latest) or m > latest):
                latest = m
    return pd.Timestamp(latest).normalize() if pd.notna(latest) else pd.NaT


def reference_date(today: str | pd.Timestamp | None = None) -> pd.Timestamp:
    """``today`` as a date (default: the real date); the reference of "not in the future"."""
    if today is None or (isinstance(today, str) and not today.strip()):
        return pd.Timestamp.today().normalize()
    try:
        stamp = pd.Timestamp(today)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise AnalysisDateError(f"the reference date (today) {today!r} is not a date (YYYY-MM-DD)")
    return stamp.normalize()


def check_as_of(as_of: str | pd.Timestamp, today: str | pd.Timestamp | None = None) -> pd.Timestamp:
    """An analysis date given by the user, checked: a date, and not after ``today``
    (default: the real date). Data cannot show what has not happened yet, so an ``as_of``
    in the future is an input error, not a forecast.

    Raises
    ------
    AnalysisDateError
        When ``as_of`` is not a date or lies after ``today``.
    """
    try:
        stamp = pd.Timestamp(as_of)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise AnalysisDateError(f"the analysis date (as_of) {as_of!r} is not a date (YYYY-MM-DD)")
    stamp = stamp.normalize()
    now = reference_date(today)
    if stamp > now:
        raise AnalysisDateError(
            f"the analysis date (as_of) {stamp:%Y-%m-%d} is after today ({now:%Y-%m-%d}): "
            "the data cannot show what has not happened yet; pass a date up to today (a "
            "future date in the data, such as a planned termination, is a plan, not an "
            "observation)"
        )
    return stamp


def analysis_date(
    tables: dict[str, pd.DataFrame],
    as_of: str | pd.Timestamp | None = None,
    today: str | pd.Timestamp | None = None,
) -> pd.Timestamp:
    """The date an analysis judges the data at: the one definition every analysis uses.

    ``as_of`` when given (checked with :func:`check_as_of`: a date, not after ``today``),
    else the latest date recorded in the tables (:func:`snapshot_date`: planned dates and
    dates after ``today`` left out). :meth:`Pilot.analysis_date` is this for a pilot.

    Raises
    ------
    AnalysisDateError
        ``as_of`` is not a date or lies after ``today``.
    InsufficientDataError
        No ``as_of`` and no recorded date in the tables.
    """
    if as_of is not None and not (isinstance(as_of, str) and not as_of.strip()):
        return check_as_of(as_of, today)
    stamp = snapshot_date(tables, reference_date(today))
    if pd.isna(stamp):
        raise InsufficientDataError("the data hold no recorded dates; pass as_of explicitly")
    return stamp


@dataclass
class QualityEntry:
    table: str
    stage: str
    check: str
    rows: int
    action: str
    detail: str = ""


class QualityLog:
    """Counts of rows read, ignored, kept or excluded, with the reason.

    An entry is identified by ``(table, stage, check)``; logging the same entry again replaces
    it, so re-running an analysis never double counts.
    """

    def __init__(self, entries: Iterable[QualityEntry] = ()) -> None:
        self._entries: dict[tuple[str, str, str], QualityEntry] = {}
        for e in entries:
            self.add(e.table, e.stage, e.check, e.rows, e.action, e.detail)

    def add(
        self, table: str, stage: str, check: str, rows: int, action: str, detail: str = ""
    ) -> None:
        self._entries[(table, stage, check)] = QualityEntry(
            table, stage, check, int(rows), action, detail
        )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                (e.table, e.stage, e.check, e.rows, e.action, e.detail)
                for e in self._entries.values()
            ],
            columns=QUALITY_COLUMNS,
        ).astype({"rows": "int64"})

    def copy(self) -> QualityLog:
        return QualityLog(self._entries.values())


class Pilot:
    """Validated tables of a reverse-mentoring pilot.

    Build one with :func:`load_pilot` (files) or :meth:`Pilot.from_frames` (DataFrames).

    Attributes
    ----------
    employees, cohorts, pairs : pandas.DataFrame
        Required tables, typed as in the data contract (ids as strings, dates as
        ``datetime64[ns]``, choices as categoricals, ``employees.level`` as an ordered
        categorical).
    control, sessions, surveys, skills, checkpoints, outcomes, interventions, costs : DataFrame or None
        Optional tables; None when absent. ``surveys`` has a float ``value`` column (yes/no
        items as 1/0) and a ``text`` column for free-text items; ``surveys.wave`` is ordered
        by each wave's median response date.
    sources : dict
        File each table came from.
    extra_columns : dict
        Columns beyond the contract, per table (kept as covariates).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> pilot = rm.load_sample()
    >>> pilot.cohort_ids, pilot.today.date()
    (['C01', 'C02', 'C03'], datetime.date(2026, 9, 30))
    >>> print(pilot.summary().head(3).to_string(index=False))
        table  rows                source
    employees  1500 employees (DataFrame)
      cohorts     3   cohorts (DataFrame)
        pairs    36     pairs (DataFrame)
    >>> people = pilot.participants()
    >>> print(people[["employee_id", "role", "pair_id"]].head(2).to_string(index=False))
    employee_id   role pair_id
        E000966 mentor C01-P01
        E001172 mentor C01-P02

    Restrict to cohorts, or see the data as they stood on an earlier date:

    >>> pilot.select("C01")
    Pilot(employees=1500, cohorts=1, pairs=12, control=24, sessions=137, surveys=24406, skills=527,
    checkpoints=22, outcomes=424, interventions=2)
    >>> earlier = pilot.as_of("2025-06-30")
    >>> len(earlier.pairs), earlier.cutoff.date()
    (12, datetime.date(2025, 6, 30))

    Build a pilot from DataFrames; the tables are validated as if read from files:

    >>> rm.Pilot.from_frames(employees=pilot.employees, cohorts=pilot.cohorts,
    ...                      pairs=pilot.pairs, today="2026-09-30")
    Pilot(employees=1500, cohorts=3, pairs=36)
    """

    TABLE_NAMES = tuple(C.TABLES)

    def __init__(
        self,
        tables: dict[str, pd.DataFrame],
        *,
        sources: dict[str, str] | None = None,
        quality: QualityLog | None = None,
        extra_columns: dict[str, list[str]] | None = None,
        today: str | pd.Timestamp | None = None,
    ) -> None:
        missing = [t for t, spec in C.TABLES.items() if spec.required and t not in tables]
        if missing:
            raise InsufficientDataError(f"a Pilot needs the tables {', '.join(missing)}")
        self._tables = dict(tables)
        self.sources = dict(sources or {})
        self.quality_log = quality or QualityLog()
        self.extra_columns = dict(extra_columns or {})
        self.today = reference_date(today)
        """Reference date of the "not in the future" checks (the real date unless given):
        dates after it are planned, never observed, and no analysis date may be later."""
        #: The date of :meth:`as_of` when this pilot is the data as they stood then, else None.
        self.cutoff: pd.Timestamp | None = None

    # -- tables ----------------------------------------------------------------------------
    @property
    def employees(self) -> pd.DataFrame:
        return self._tables["employees"]

    @property
    def cohorts(self) -> pd.DataFrame:
        return self._tables["cohorts"]

    @property
    def pairs(self) -> pd.DataFrame:
        return self._tables["pairs"]

    @property
    def control(self) -> pd.DataFrame | None:
        return self._tables.get("control")

    @property
    def sessions(self) -> pd.DataFrame | None:
        return self._tables.get("sessions")

    @property
    def surveys(self) -> pd.DataFrame | None:
        return self._tables.get("surveys")

    @property
    def skills(self) -> pd.DataFrame | None:
        return self._tables.get("skills")

    @property
    def checkpoints(self) -> pd.DataFrame | None:
        return self._tables.get("checkpoints")

    @property
    def outcomes(self) -> pd.DataFrame | None:
        return self._tables.get("outcomes")

    @property
    def interventions(self) -> pd.DataFrame | None:
        """The program lead's intervention log (confidential), or None."""
        return self._tables.get("interventions")

    @property
    def costs(self) -> pd.DataFrame | None:
        """Cost lines the other tables cannot show (software, external fees), or None."""
        return self._tables.get("costs")

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables present, by name."""
        return dict(self._tables)

    def has(self, table: str) -> bool:
        """Whether an optional table is present (even with no rows)."""
        return table in self._tables

    def require(self, *tables: str, purpose: str = "this analysis") -> None:
        """Raise a clear error when a table needed for ``purpose`` is absent or empty."""
        absent = [t for t in tables if t not in self._tables]
        if absent:
            raise InsufficientDataError(
                f"{purpose} needs the {', '.join(absent)} table{'s' if len(absent) > 1 else ''}, "
                "which the pilot data do not have"
            )
        empty = [t for t in tables if len(self._tables[t]) == 0]
        if empty:
            when = f" on {self.cutoff:%d %B %Y}" if self.cutoff is not None else ""
            raise InsufficientDataError(
                f"{purpose} needs rows in the {', '.join(empty)} table"
                f"{'s' if len(empty) > 1 else ''}, which had none{when}"
            )

    @property
    def quality(self) -> pd.DataFrame:
        """The data-quality table: columns table, stage, check, rows, action, detail."""
        return self.quality_log.frame()

    def log_quality(
        self, table: str, stage: str, check: str, rows: int, action: str, detail: str = ""
    ) -> None:
        """Record rows an analysis kept, excluded or ignored, and why (replaces a same-key entry)."""
        self.quality_log.add(table, stage, check, rows, action, detail)

    @property
    def cohort_ids(self) -> list[str]:
        """Cohort ids in order of start date."""
        return self.cohorts.sort_values(["start_date", "cohort_id"]).cohort_id.tolist()

    def snapshot_date(self) -> pd.Timestamp:
        """The latest recorded date in the pilot, up to :attr:`today` (see
        :func:`snapshot_date`)."""
        return snapshot_date(self._tables, self.today)

    def analysis_date(self, as_of: str | pd.Timestamp | None = None) -> pd.Timestamp:
        """The date an analysis judges the pilot at, the one definition every analysis and
        the report use: ``as_of`` (checked with :func:`check_as_of` against :attr:`today`),
        else :meth:`snapshot_date`, the latest recorded date (planned end dates and dates
        after :attr:`today` left out).

        Raises
        ------
        AnalysisDateError
            ``as_of`` is not a date or lies after :attr:`today`.
        InsufficientDataError
            No ``as_of`` and no recorded date in the pilot.
        """
        return analysis_date(self._tables, as_of, self.today)

    # -- derived views ------------------------------------------------------------------------
    def participants(
        self, role: str = "both", cohort: str | Sequence[str] | None = None
    ) -> pd.DataFrame:
        """One row per person and pair: employee_id, role, pair_id, cohort_id, pair status,
        pair start and end, cohort start and end.

        ``role`` is ``"mentor"``, ``"mentee"`` or ``"both"``.
        """
        if role not in ("mentor", "mentee", "both"):
            raise ValueError(f"role must be 'mentor', 'mentee' or 'both', not {role!r}")
        roles = ("mentor", "mentee") if role == "both" else (role,)
        p = self.pairs
        if cohort is not None:
            p = p[p.cohort_id.isin([cohort] if isinstance(cohort, str) else list(cohort))]
        c = self.cohorts.set_index("cohort_id")[["start_date", "end_date"]].add_prefix("cohort_")
        frames = [
            pd.DataFrame(
                {
                    "employee_id": p[f"{r}_id"].to_numpy(),
                    "role": r,
                    "pair_id": p.pair_id.to_numpy(),
                    "cohort_id": p.cohort_id.to_numpy(),
                    "pair_status": p.status.to_numpy(),
                    "pair_start": p.start_date.to_numpy(),
                    "pair_end": p.end_date.to_numpy(),
                }
            )
            for r in roles
        ]
        out = pd.concat(frames, ignore_index=True).join(c, on="cohort_id")
        return out.astype({"employee_id": "string", "pair_id": "string", "cohort_id": "string"})

    def select(self, cohorts: str | Sequence[str]) -> Pilot:
        """The pilot restricted to some cohorts (pairs, sessions, checkpoints, interventions,
        control, pair surveys, outcomes about a pair and no person). Organisation-wide tables
        (employees, engagement waves, skills, outcomes about people or units) are kept whole,
        so the selection saved with :meth:`save` reads back with :func:`load_pilot`."""
        wanted = [cohorts] if isinstance(cohorts, str) else list(cohorts)
        unknown = sorted(set(wanted) - set(self.cohorts.cohort_id))
        if unknown:
            raise ValueError(
                f"unknown cohort id(s): {', '.join(unknown)}; known: {', '.join(self.cohort_ids)}"
            )
        t = dict(self._tables)
        t["cohorts"] = self.cohorts[self.cohorts.cohort_id.isin(wanted)]
        chosen = self.pairs.cohort_id.isin(wanted).to_numpy()
        t["pairs"] = self.pairs[chosen]
        for name in ("sessions", "checkpoints", "interventions"):
            if name in t:
                t[name] = t[name][self._of_pairs(name, chosen)]
        if "control" in t:
            t["control"] = t["control"][t["control"].cohort_id.isin(wanted)]
        if "surveys" in t:
            t["surveys"] = t["surveys"][self._of_pairs("surveys", chosen, keep_blank=True)]
        if "outcomes" in t and "pair_id" in t["outcomes"].columns:
            o = t["outcomes"]
            person = o.employee_id.notna() if "employee_id" in o.columns else False
            t["outcomes"] = o[self._of_pairs("outcomes", chosen, keep_blank=True) | person]
        out = Pilot(
            t,
            sources=self.sources,
            quality=self.quality_log.copy(),
            extra_columns=self.extra_columns,
            today=self.today,
        )
        out.cutoff = self.cutoff
        return out

    def _of_pairs(self, name: str, chosen: np.ndarray, *, keep_blank: bool = False) -> np.ndarray:
        """Rows of table ``name`` about the ``chosen`` pairs (a mask over :attr:`pairs`), and
        with ``keep_blank`` the rows about no pair. Each row's pair is looked up once per
        table and kept: a pooled report selects every cohort several times, and a survey table
        can hold millions of answers."""
        df = self._tables[name]
        cache = self.__dict__.setdefault("_pair_rows", {})
        hit = cache.get(name)
        if hit is None or hit[0] is not df or hit[1] is not self.pairs:
            index = pd.Index(self.pairs.pair_id)
            codes = index.get_indexer(df.pair_id) if index.is_unique else None
            hit = (df, self.pairs, codes, df.pair_id.isna().to_numpy())
            cache[name] = hit
        codes, blank = hit[2], hit[3]
        if codes is None:  # pair ids not unique (not a valid pilot): the plain lookup
            mask = df.pair_id.isin(set(self.pairs.pair_id[chosen])).to_numpy()
        else:
            mask = (codes >= 0) & np.append(chosen, False)[codes]
        return mask | blank if keep_blank else mask

    def as_of(self, date: str | pd.Timestamp) -> Pilot:
        """The pilot as its data stood on ``date``: what an export taken that day would hold.

        Every table is truncated once, by these rules (``D`` is ``date``):

        ==============  ==========================================================================
        table           rule
        ==============  ==========================================================================
        employees       people hired after D are removed; a termination after D has not
                        happened yet (``termination_date`` and ``termination_type`` blank: the
                        person is still employed on D); a ``manager_id`` naming a removed person
                        is blanked
        cohorts         cohorts starting after D are removed (planned end dates are plans, known
                        in advance, and stay)
        pairs           pairs of removed cohorts or people, and pairs starting after D, are
                        removed; a pair that ended after D was running on D: ``end_date`` blank
                        and ``status`` ``active`` (a pair still ``active`` keeps its planned end)
        control         rows of removed cohorts or people are removed
        sessions        sessions dated after D, and those of removed pairs, are removed
        surveys         answers given after D, and those of removed people or pairs, are removed
        skills          assessments dated after D are removed; an undated ``post`` assessment
                        is kept only when the person's first cohort (as participant or control)
                        ended by D, an undated ``pre`` assessment only when that cohort started
                        by D (people in no cohort: kept)
        checkpoints     checks dated after D are removed; an undated ``week6`` check is kept when
                        the pair started at least 42 days before D, an undated ``endpoint`` check
                        when the pair's end (or its cohort's planned end) is on or before D
        outcomes        outcomes dated after D, and those of removed people or pairs, are removed
        costs           cost lines dated after D are removed (undated lines are kept)
        interventions   interventions dated after D, and those of removed pairs, are removed
        ==============  ==========================================================================

        Columns that carry no date are as exported and cannot be turned back: grade
        (``level``), salary, performance rating, department, location and reporting lines
        describe the day of the export. The data-quality log records every row removed or
        reset (stage ``as of``).

        Parameters
        ----------
        date
            The date D (``YYYY-MM-DD`` or a Timestamp); times of day are ignored.

        Returns
        -------
        Pilot
            A new pilot; this one is unchanged.
        """
        d = pd.Timestamp(date).normalize()
        t = dict(self._tables)
        log = self.quality_log.copy()
        day = f"{d:%Y-%m-%d}"

        def drop(name: str, keep, reason: str) -> None:
            df = t[name]
            keep = pd.Series(keep, index=df.index).fillna(True).astype(bool).to_numpy()
            n = int((~keep).sum())
            if n:
                t[name] = df[keep]
                log.add(name, "as of", reason, n, "excluded", f"not yet in the data on {day}")

        def after(col: pd.Series) -> pd.Series:
            return (col > d).fillna(False)

        # employees: not yet hired, not yet left
        emp = t["employees"]
        drop("employees", ~after(emp.hire_date), f"hired after {day}")
        emp = t["employees"]
        left_later = after(emp.termination_date)
        if left_later.any():
            emp = emp.copy()
            emp.loc[left_later, "termination_date"] = pd.NaT
            emp.loc[left_later, "termination_type"] = pd.NA
            log.add(
                "employees",
                "as of",
                f"left after {day}",
                int(left_later.sum()),
                "reset",
                f"still employed on {day}",
            )
        people = set(emp.employee_id.astype(str))
        if "manager_id" in emp.columns:
            gone = emp.manager_id.notna() & ~emp.manager_id.astype(str).isin(people)
            if gone.any():
                emp = emp.copy()
                emp.loc[gone, "manager_id"] = pd.NA
                log.add(
                    "employees",
                    "as of",
                    f"manager hired after {day}",
                    int(gone.sum()),
                    "reset",
                    "manager_id blanked",
                )
        t["employees"] = emp

        # cohorts and pairs
        drop("cohorts", ~after(t["cohorts"].start_date), f"cohort starting after {day}")
        cohort_ids = set(t["cohorts"].cohort_id.astype(str))
        pairs = t["pairs"]
        drop(
            "pairs",
            pairs.cohort_id.astype(str).isin(cohort_ids)
            & ~after(pairs.start_date)
            & pairs.mentor_id.astype(str).isin(people)
            & pairs.mentee_id.astype(str).isin(people),
            f"pair starting after {day}",
        )
        pairs = t["pairs"]
        ended_later = after(pairs.end_date) & pairs.status.astype(str).ne("active")
        if ended_later.any():
            pairs = pairs.copy()
            pairs.loc[ended_later, "end_date"] = pd.NaT
            pairs.loc[ended_later, "status"] = "active"
            log.add(
                "pairs",
                "as of",
                f"ended after {day}",
                int(ended_later.sum()),
                "reset",
                f"running on {day}: status active, no end date",
            )
            t["pairs"] = pairs
        pair_ids = set(pairs.pair_id.astype(str))

        def known(df: pd.DataFrame, col: str, ids: set[str]) -> pd.Series:
            return df[col].isna() | df[col].astype(str).isin(ids)

        if "control" in t:
            c = t["control"]
            drop(
                "control",
                c.cohort_id.astype(str).isin(cohort_ids) & c.employee_id.astype(str).isin(people),
                f"cohort starting after {day}",
            )
        if "sessions" in t:
            s = t["sessions"]
            drop(
                "sessions",
                ~after(s.date) & s.pair_id.astype(str).isin(pair_ids),
                f"dated after {day}",
            )
        if "surveys" in t:
            s = t["surveys"]
            keep = ~after(s.response_date) & s.respondent_id.astype(str).isin(people)
            if "pair_id" in s.columns:
                keep &= known(s, "pair_id", pair_ids)
            drop("surveys", keep, f"answered after {day}")
        if "skills" in t:
            drop("skills", self._skills_known(d), f"assessed after {day}")
        if "checkpoints" in t:
            cp = t["checkpoints"]
            keep = cp.pair_id.astype(str).isin(pair_ids)
            if "date" in cp.columns:
                keep &= ~after(cp.date)
                undated = cp.date.isna()
            else:
                undated = pd.Series(True, index=cp.index)
            if undated.any():
                info = pairs.set_index(pairs.pair_id.astype(str))
                cend = t["cohorts"].set_index(t["cohorts"].cohort_id.astype(str)).end_date
                pid = cp.pair_id.astype(str)
                start = pid.map(info.start_date)
                end = pid.map(info.end_date).fillna(pid.map(info.cohort_id.astype(str).map(cend)))
                kind = cp.checkpoint.astype(str)
                due = np.where(kind.eq("week6"), start + pd.Timedelta(days=42), end)
                keep &= ~undated | (pd.Series(due, index=cp.index) <= d).fillna(False)
            drop("checkpoints", keep, f"checked after {day}")
        if "outcomes" in t:
            o = t["outcomes"]
            keep = ~after(o.date)
            if "employee_id" in o.columns:
                keep &= known(o, "employee_id", people)
            if "pair_id" in o.columns:
                keep &= known(o, "pair_id", pair_ids)
            drop("outcomes", keep, f"dated after {day}")
        if "costs" in t and "date" in t["costs"].columns:
            drop("costs", ~after(t["costs"].date), f"dated after {day}")
        if "interventions" in t:
            iv = t["interventions"]
            drop(
                "interventions",
                ~after(iv.date) & iv.pair_id.astype(str).isin(pair_ids),
                f"dated after {day}",
            )
        for name, df in t.items():  # categories as a load of the truncated files gives them
            tidy = {
                col: df[col].cat.remove_unused_categories()
                for col in df.columns
                if isinstance(df[col].dtype, pd.CategoricalDtype)
                and _data_categories(name, col)
                and len(df[col].cat.categories) > df[col].nunique()
            }
            if tidy:
                t[name] = df.assign(**tidy)
        if "surveys" in t:
            t["surveys"] = order_waves(t["surveys"])
        out = Pilot(
            t, sources=self.sources, quality=log, extra_columns=self.extra_columns, today=self.today
        )
        out.cutoff = d
        return out

    def _skills_known(self, d: pd.Timestamp) -> pd.Series:
        """Which skill assessments existed on ``d`` (rules in :meth:`as_of`; membership of
        cohorts from the whole data, so a control of a later cohort is linked to it)."""
        t = self._tables
        sk = t["skills"]
        dated = sk["date"].notna() if "date" in sk.columns else pd.Series(False, index=sk.index)
        keep = pd.Series(True, index=sk.index)
        if dated.any():
            keep &= ~(dated & (sk["date"] > d))
        if (~dated).any():
            cohorts = t["cohorts"].set_index(t["cohorts"].cohort_id.astype(str))
            members = [
                t["pairs"][["cohort_id", f"{r}_id"]].set_axis(["cohort_id", "employee_id"], axis=1)
                for r in ("mentor", "mentee")
            ]
            if "control" in t:
                members.append(t["control"][["cohort_id", "employee_id"]])
            m = pd.concat(members).astype(str)
            m["start"] = m.cohort_id.map(cohorts.start_date)
            m["end"] = m.cohort_id.map(cohorts.end_date)
            first = m.sort_values("start").drop_duplicates("employee_id").set_index("employee_id")
            who = sk.employee_id.astype(str)
            start, end = who.map(first.start), who.map(first.end)
            phase = sk.phase.astype(str)
            ok = np.where(phase.eq("post"), end <= d, start <= d)
            linked = who.isin(first.index)
            keep &= dated | ~linked | pd.Series(ok, index=sk.index).fillna(False)
        return keep

    def copy(self) -> Pilot:
        """A pilot sharing the (read-only) tables with its own data-quality log."""
        out = Pilot(
            self._tables,
            sources=self.sources,
            quality=self.quality_log.copy(),
            extra_columns=self.extra_columns,
            today=self.today,
        )
        out.cutoff = self.cutoff
        return out

    def summary(self) -> pd.DataFrame:
        """Rows per table and a few headline counts."""
        rows = [(name, len(df), self.sources.get(name, "")) for name, df in self._tables.items()]
        return pd.DataFrame(rows, columns=["table", "rows", "source"])

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, format: str = "csv") -> list[str]:
        """Write every table in the contract's layout (``csv``, ``parquet`` or ``xlsx``)."""
        return write_tables(self._tables, path, format=format)

    @classmethod
    def from_frames(
        cls,
        *,
        date_format: str | None = None,
        level_order: Sequence[str] | None = None,
        today: str | pd.Timestamp | None = None,
        **frames: pd.DataFrame,
    ) -> Pilot:
        """Validate tables given as DataFrames (columns as in the data contract).

        Messages name a table as ``<table> (DataFrame)`` and rows from 2 (as if the frame
        had been a CSV file).
        """
        unknown = sorted(set(frames) - set(C.TABLES))
        if unknown:
            raise TypeError(
                f"unknown table(s): {', '.join(unknown)}; tables are {', '.join(C.TABLES)}"
            )
        raws = {}
        for name, df in frames.items():
            if df is None:
                continue
            f = df.reset_index(drop=True).copy()
            f.columns = [str(c).strip().lower().replace(" ", "_") for c in f.columns]
            raws[name] = RawTable(name, f, f"{name} (DataFrame)", "", first_row=2, typed=True)
        return build_pilot(raws, date_format=date_format, level_order=level_order, today=today)

    # -- display ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={len(df)}" for n, df in self._tables.items())
        return f"Pilot({parts})"

    def _repr_html_(self) -> str:
        return (
            "<div><strong>Pilot</strong> "
            f"({len(self.cohorts)} cohort(s), {len(self.pairs)} pair(s), {len(self.employees)} employees)"
            + self.summary().to_html(index=False)
            + "<p>Data quality</p>"
            + self.quality.to_html(index=False)
            + "</div>"
        )


def _data_categories(table: str, column: str) -> bool:
    """Whether a categorical column's categories are the values found in the data (free
    labels such as departments or survey items), rather than the contract's fixed choices or
    the organisation's grade order."""
    spec = C.TABLES.get(table)
    if spec is None or column not in spec.column_names:
        return True
    col = spec.column(column)
    return col.choices is None and col.kind != "level"


def build_pilot(
    raws: dict[str, RawTable],
    *,
    date_format: str | None,
    level_order: Sequence[str] | None,
    today: str | pd.Timestamp | None,
    ignored: Sequence[str] = (),
    extra_problems: Sequence = (),
) -> Pilot:
    stamp = reference_date(today)
    result = validate_raw(raws, date_format=date_format, level_order=level_order, today=stamp)
    problems = list(extra_problems) + result.problems
    if problems:
        raise DataValidationError(problems)
    log = QualityLog()
    for n in result.notes:
        log.add(**n)
    for f in ignored:
        log.add(
            "-",
            "load",
            f"not a table: {f}",
            0,
            "ignored",
            "file name is not a table of the data contract",
        )
    for name, spec in C.TABLES.items():
        if not spec.required and name not in result.tables:
            log.add(name, "load", "table absent", 0, "n/a", "optional table not provided")
    sources = {n: r.source for n, r in raws.items()}
    return Pilot(
        result.tables,
        sources=sources,
        quality=log,
        extra_columns=result.extra_columns,
        today=stamp,
    )


def load_pilot(
    path: str | os.PathLike | None = None,
    *,
    config: str | os.PathLike | None = None,
    date_format: str | None = None,
    level_order: Sequence[str] | None = None,
    today: str | pd.Timestamp | None = None,
) -> Pilot:
    """Read and validate a pilot from a folder of table files or one Excel workbook.

    Parameters
    ----------
    path
        A folder with ``employees``, ``cohorts``, ``pairs`` and optional tables as ``.csv``,
        ``.csv.gz``, ``.parquet`` or ``.xlsx`` files, or one workbook with a sheet per table.
        With ``config``, optional: the folder of the tables the mapping file does not name
        (default: the mapping file's folder).
    config
        A mapping file (YAML; see ``docs/your-data.md``): vendor headers and values, wide
        survey exports, per-table date formats and grade orders, SQL queries. Its mistakes
        raise :class:`rm_analytics.data.mapping.MappingError` naming the line.
    date_format
        ``strftime`` format of dates in text files when they are not ISO ``YYYY-MM-DD``
        (e.g. ``"%d/%m/%Y"``).
    level_order
        Grades from lowest to highest, when the natural order of the labels is not right.
    today
        Reference date for "not in the future" checks (default: today).

    Returns
    -------
    Pilot

    Raises
    ------
    DataValidationError
        Listing every problem found, each with file, row, column, value and rule.

    Examples
    --------
    >>> import tempfile
    >>> import rm_analytics as rm
    >>> folder = tempfile.TemporaryDirectory()
    >>> files = rm.load_sample().save(folder.name)
    >>> pilot = rm.load_pilot(folder.name, today="2026-09-30")
    >>> pilot
    Pilot(checkpoints=58, cohorts=3, control=72, employees=1500, interventions=8, outcomes=425,
    pairs=36, sessions=383, skills=527, surveys=25459)
    >>> print(pilot.quality[["table", "check", "rows", "action"]].head(3).to_string(index=False))
          table     check  rows action
    checkpoints rows read    58   kept
        cohorts rows read     3   kept
        control rows read    72   kept
    >>> folder.cleanup()

    The quality table says what was read, kept, excluded or ignored, and why.
    """
    if config is not None and str(config) != "":
        return _load_mapped(
            config, path, date_format=date_format, level_order=level_order, today=today
        )
    if path is None:
        raise TypeError("load_pilot needs a data folder (path) or a mapping file (config=...)")
    found, problems, ignored = find_tables(path)
    raws = {name: read_table(name, file, sheet) for name, (file, sheet) in found.items()}
    if problems and not raws:
        raise DataValidationError(problems)
    return build_pilot(
        raws,
        date_format=date_format,
        level_order=level_order,
        today=today,
        ignored=ignored,
        extra_problems=problems,
    )


def _load_mapped(config, path, *, date_format, level_order, today) -> Pilot:
    """``load_pilot(config=...)``: the tables as the mapping file reads and maps them."""
    from .mapping import load_raw, read_mapping

    mapping = read_mapping(config)
    loaded = load_raw(mapping, path)
    try:
        pilot = build_pilot(
            loaded.raws,
            date_format=date_format,
            level_order=level_order,
            today=today,
            ignored=loaded.ignored,
            extra_problems=loaded.problems,
        )
    except DataValidationError as exc:
        raise DataValidationError(loaded.translate(exc.problems)) from None
    for note in loaded.notes:
        pilot.log_quality(**note)
    pilot.log_quality(
        "-",
        "load",
        "mapping file",
        0,
        "used",
        f"{mapping.name}: {', '.join(mapping.tables) or 'no tables'}",
    )
    return pilot
