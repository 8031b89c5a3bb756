"""What sponsor-facing output may show: one privacy policy, applied by audience at the report.

The analyses (``rm_analytics.metrics``) compute honest numbers with their ``n``; this module
decides what a sponsor sees. The rules, in the order a report applies them (the reasons and
the limits are in ``docs/reliability.md``, section "Privacy"):

1. **Minimum group size** ``k`` (5, the survey vendors' promise; a report can raise it, never
   lower it): a figure computed from 1 to ``k - 1`` people, and a count of 1 to ``k - 1``
   people (or pairs), is hidden: no estimate, no interval, no ``n``. Zero stays visible.
2. **Complementary cells**: a hidden cell must not be recoverable from a shown total and the
   shown cells of its line. In every line (a column of counts with a shown total, the parts of
   a breakdown with an overall figure, the shares of a distribution that sum to one) the
   hidden cells must be at least two and hold at least ``k`` people together; otherwise the
   next-smallest cell is hidden too, and the total when no cell is left
   (:func:`complement_line`, :func:`protect_counts`).
3. **All answers equal**: a mean whose interval has no width ("4.00 (4.00 to 4.00)") says
   what each person answered, and is hidden.
4. **Figures**: no curve step or tick of one person: survival-type curves are drawn as
   retention at a few horizons with intervals, people still followed are rounded to a
   multiple of 5 and not shown below ``k``; bars and points from hidden groups are drawn as
   hidden (hatched, labelled), never as zero.
5. **Across cohorts**: pooled figures minus the per-cohort reports must not give a cohort's
   hidden figure. Cohorts with fewer than ``k`` pairs are left out of a pooled sponsor report
   unless together they have ``k`` pairs or more; a pooled figure is hidden when one cohort
   alone hides it in its own report, or the cohorts that hide it hold fewer than ``k`` people
   together (:func:`differencing_ids`).
6. **Across runs**: survey answers, skills assessments and goal checkpoints reach a sponsor
   report once their wave has closed (``survey_window_days`` after its first answer; later
   answers of the wave are not used): two reports never differ by one more answer
   (:func:`release_waves`).
7. **Last net**: :func:`check_privacy` fails the report (exit 1) when sponsor content holds an
   employee or pair id, a name or a free-text answer of the data.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InsufficientDataError, RmAnalyticsError

#: The smallest group a sponsor may see (also the floor of the ``min_cell_size`` parameter).
MIN_GROUP_FLOOR = 5

#: Days after a wave's first answer until the wave counts as closed for sponsors.
SURVEY_WINDOW_DAYS = 21

#: Why a figure is hidden: reason code -> the words shown after "hidden".
HIDDEN_REASONS = {
    "small": "fewer than {k} {who}",
    "complement": "it would reveal a group of fewer than {k} {who}",
    "equal": "all answers the same",
}


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


# -- the policy ---------------------------------------------------------------------------------
@dataclass
class PrivacyPolicy:
    """What one report's audience may see.

    ``active`` is true for the sponsor audience: figures from fewer than ``min_group`` people
    are hidden. For the program lead (confidential, pair level) and the analysts'
    exploration it is false and every figure is shown.

    ``hidden_ids`` are figures hidden in this report because another report would otherwise
    reveal a hidden figure by subtraction (rule 5). With ``record`` set (a dict), every figure
    the report decides on is recorded as ``id -> (people, hidden)``: the per-cohort pass of a
    pooled report.
    """

    min_group: int = MIN_GROUP_FLOOR
    active: bool = True
    hidden_ids: frozenset[str] = frozenset()
    record: dict[str, tuple[int | None, bool]] | None = None
    left_out: tuple[str, ...] = ()
    """Cohorts left out of this pooled report (fewer than ``min_group`` pairs, rule 5)."""
    held_back: list[str] = field(default_factory=list)
    """Waves not yet in this report (still open, rule 6), in words."""

    @classmethod
    def for_audience(cls, audience: str, min_cell_size: int = MIN_GROUP_FLOOR) -> PrivacyPolicy:
        """The sponsor's policy (minimum group ``min_cell_size``, never below the floor), or an
        inactive one for the program lead and the exploration notebook."""
        if audience != "sponsor":
            return cls(max(int(min_cell_size), 1), active=False)
        if isinstance(min_cell_size, bool) or not isinstance(min_cell_size, (int, np.integer)):
            raise ValueError(f"min_cell_size must be a whole number, not {min_cell_size!r}")
        if min_cell_size < MIN_GROUP_FLOOR:
            raise ValueError(
                f"min_cell_size={min_cell_size}: the sponsor report never shows a group of "
                f"fewer than {MIN_GROUP_FLOOR} people"
            )
        return cls(int(min_cell_size), active=True)

    # -- words --------------------------------------------------------------------------------
    def hidden(self, reason: str = "small", who: str = "people") -> str:
        """The display of a hidden figure: ``"hidden (fewer than 5 people)"``; ``who`` names
        the units counted ("pairs")."""
        return f"hidden ({HIDDEN_REASONS[reason].format(k=self.min_group, who=who)})"

    @property
    def rule_sentence(self) -> str:
        """The privacy rules and their main limit in one plain sentence (the appendix)."""
        k = self.min_group
        return (
            f"Privacy: every figure comes from at least {k} people, and a figure from which "
            f"a smaller group could be worked out, here or with another report, is hidden too "
            f"(a cohort of fewer than {k} pairs is left out of pooled figures); curves show no "
            f"single person's exit, survey answers count once their wave has closed, and no "
            f"names, identifiers or comments appear, though two reports either side of a "
            f"voluntary exit still show that one more person left."
        )

    # -- decisions ------------------------------------------------------------------------------
    def small(self, n: Any) -> bool:
        """True when ``n`` (people) is from 1 to ``min_group - 1`` and the policy is active."""
        return self.active and _finite(n) and 0 < float(n) < self.min_group

    def hides(self, *groups: Any) -> bool:
        """True when any of the ``groups`` (sizes of the groups a figure rests on) is small."""
        return any(self.small(g) for g in groups)

    def all_equal(self, estimate: Any, ci_low: Any, ci_high: Any, n: Any = None) -> bool:
        """True for an interval of no width around a mean of two or more answers: everyone
        gave the same answer (e.g. "4.00 (4.00 to 4.00)")."""
        if not self.active or not all(_finite(v) for v in (estimate, ci_low, ci_high)):
            return False
        if _finite(n) and float(n) < 2:
            return False
        scale = max(1.0, abs(float(estimate)))
        return abs(float(ci_high) - float(ci_low)) <= 1e-9 * scale

    def reason(
        self,
        *groups: Any,
        estimate: Any = None,
        ci: tuple[Any, Any] = (None, None),
        key: str | None = None,
        equal: bool = True,
    ) -> str | None:
        """Why a figure is hidden (a key of :data:`HIDDEN_REASONS`), or None when shown.
        ``equal=False`` leaves out the all-answers-equal rule (shares: a share of 0% or 100%
        from enough people is shown, see the limits in ``docs/reliability.md``)."""
        if not self.active:
            return None
        if self.hides(*groups):
            return "small"
        if key is not None and key in self.hidden_ids:
            return "complement"
        if equal and self.all_equal(estimate, ci[0], ci[1], groups[0] if groups else None):
            return "equal"
        return None

    def note(self, fid: str, groups: Sequence[Any], hidden: bool) -> None:
        """Record a decision in :attr:`record` (the per-cohort pass of a pooled report)."""
        if self.record is None:
            return
        sizes = [int(g) for g in groups if _finite(g)]
        self.record[fid] = (min(sizes) if sizes else None, bool(hidden))

    def sponsor_note(self, text: str) -> str | None:
        """A method note as a sponsor may read it: a parenthesis holding a number that may be
        a count of fewer than ``min_group`` people is left out, else the sentence holding it
        (so no other number of that sentence gives it away); None when nothing is left.

        Numbers that are clearly not counts stay: decimals, ranges ("1-5"), dates, numbers
        with a unit (months, points, %) or after a comparison ("below 2").

        >>> PrivacyPolicy().sponsor_note("Exits by 12 months (participants 2, controls 9). Done.")
        'Exits by 12 months. Done.'
        >>> PrivacyPolicy().sponsor_note("1 of 36 pair(s) have no check. Off track at or below 2.")
        'Off track at or below 2.'
        """
        if not self.active:
            return text
        out = text
        for _ in range(50):
            hit = next((h for h in _SMALL_NUMBER.finditer(out) if self._count_like(out, h)), None)
            if hit is None:
                break
            i = hit.start()
            open_ = out.rfind("(", 0, i)
            close = out.find(")", i)
            if open_ != -1 and close != -1 and out.rfind(")", 0, i) < open_:
                out = (out[:open_].rstrip() + out[close + 1 :]).strip()
                continue
            starts = [0] + [m.end() for m in _SENTENCE_END.finditer(out) if m.end() <= i]
            a = max(starts)
            b = next((m.end() for m in _SENTENCE_END.finditer(out) if m.start() >= i), len(out))
            out = (out[:a] + out[b:]).strip()
        out = " ".join(out.split())
        return out or None

    def _count_like(self, text: str, hit: re.Match) -> bool:
        v = int(hit.group(1))
        if not 0 < v < self.min_group:
            return False
        after = text[hit.end() : hit.end() + 14].lower()
        before = text[max(0, hit.start() - 14) : hit.start()].lower()
        return not (_NOT_COUNT_AFTER.match(after) or _NOT_COUNT_BEFORE.search(before))

    def count(self, value: Any) -> str:
        """A count of people (or pairs) for a sponsor: the number, or "hidden" from 1 to
        ``min_group - 1``."""
        from .formatting import fmt_count

        return "hidden" if self.small(value) else fmt_count(value)

    def rounded(self, value: Any, base: int = 5) -> str:
        """People still followed, for sponsors: rounded to a multiple of ``base`` (so that
        one exit does not show as a change of one) and hidden below ``min_group``."""
        from .formatting import fmt_count

        if not self.active:
            return fmt_count(value)
        if not _finite(value):
            return ""
        v = float(value)
        if v == 0:
            return "0"
        if v < self.min_group:
            return "hidden"
        return fmt_count(base * round(v / base))

    def require(self, what: str, **groups: Any) -> None:
        """Raise :class:`InsufficientDataError` (the section reads "not available") when a
        group the whole section rests on has fewer than ``min_group`` people; ``groups``
        maps a plain name ("the control group") to its size."""
        small = [name for name, n in groups.items() if self.small(n)]
        if small:
            raise InsufficientDataError(
                f"{what} would be about fewer than {self.min_group} people ("
                + " and ".join(small)
                + "), so it is hidden"
            )

    def rows(
        self,
        table_id: str,
        frame: pd.DataFrame,
        *,
        id_cols: Sequence[str],
        n_cols: Sequence[str] = ("n",),
        interval: Sequence[str] | None = ("estimate", "ci_low", "ci_high"),
        parts: Mapping[Any, Sequence[Any]] | None = None,
        part_col: str | None = None,
        line_cols: Sequence[str] = (),
    ) -> pd.Series:
        """Which rows of a summary ``frame`` a sponsor must not see (a boolean Series).

        A row is hidden when any of its ``n_cols`` is small, when its ``interval`` has no width
        (all answers equal: give ``interval=None`` for shares), when its id is one of :attr:`hidden_ids`, and by complementary
        suppression: with ``part_col`` and ``parts`` (overall value -> its parts, e.g.
        ``{"all": ["mentor", "mentee"]}``) the parts of each line (same values in
        ``line_cols``) follow :func:`complement_line`, and the overall row is hidden when the
        parts cannot protect the hidden one. Row ids are ``table_id`` and the ``id_cols``
        values, the same in a pooled and a per-cohort report.
        """
        hidden = pd.Series(False, index=frame.index)
        if not self.active or frame.empty:
            return hidden
        ids = self.row_ids(table_id, frame, id_cols)
        people = frame[list(n_cols)].apply(pd.to_numeric, errors="coerce")
        for c in n_cols:
            hidden |= people[c].map(self.small).astype(bool)
        if interval is not None and all(c in frame for c in interval):
            est, lo, hi = (frame[c] for c in interval)
            hidden |= pd.Series(
                [
                    self.all_equal(e, a, b, n)
                    for e, a, b, n in zip(est, lo, hi, people.min(axis=1), strict=True)
                ],
                index=frame.index,
            )
        hidden |= ids.map(lambda i: i in self.hidden_ids).astype(bool)
        if parts and part_col is not None:
            smallest = people.min(axis=1)
            keys = (
                frame[list(line_cols)].astype(str).agg("|".join, axis=1)
                if line_cols
                else pd.Series("", index=frame.index)
            )
            for _ in range(3):  # a parent hidden in one line can be a part in another
                before = hidden.copy()
                for line in keys.unique():
                    in_line = keys.eq(line)
                    for whole, members in parts.items():
                        sel = in_line & frame[part_col].isin(list(members))
                        if not sel.any():
                            continue
                        top = in_line & frame[part_col].eq(whole)
                        mask, disclosed = complement_line(
                            smallest[sel].fillna(0).to_numpy(float),
                            hidden[sel].to_numpy(bool),
                            self.min_group,
                        )
                        hidden.loc[sel] = mask
                        if disclosed:
                            hidden.loc[top] = True
                if hidden.equals(before):
                    break
        hidden = hidden.astype(bool)
        for fid, g, h in zip(ids, people.min(axis=1), hidden, strict=True):
            self.note(fid, [g], h)
        return hidden

    @staticmethod
    def row_ids(table_id: str, frame: pd.DataFrame, id_cols: Sequence[str]) -> pd.Series:
        if not id_cols:
            return pd.Series([table_id] * len(frame), index=frame.index)
        return table_id + ":" + frame[list(id_cols)].astype(str).agg("/".join, axis=1)


#: A whole number standing alone (not part of a decimal, range, date, id or word).
_SMALL_NUMBER = re.compile(r"(?<![\w.,/\-\u2212+])(\d+)(?![\w]|[.,/:]\d|\s*[-\u2013]\s*\d)")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
_NOT_COUNT_AFTER = re.compile(
    r"\s*(%|pp\b|percent|percentage|months?\b|years?\b|weeks?\b|days?\b|hours?\b|h\b|"
    r"points?\b|-point|times\b|x\b|st\b|nd\b|rd\b|th\b|standard|decimal|digits?\b)"
)
_NOT_COUNT_BEFORE = re.compile(
    r"(below|above|than|[=<>\u2264\u2265]|ratings?|scores?|scale|level|wave|items?|looks?|"
    r"step|version|alpha|df|degrees|week|month|year|at most|at least|up to|look)\s*$"
)


# -- complementary suppression ----------------------------------------------------------------
def complement_line(
    values: Sequence[float], hidden: Sequence[bool], k: int
) -> tuple[np.ndarray, bool]:
    """Complementary suppression of one line of cells whose total is known to the reader.

    ``values`` are the people in each cell, ``hidden`` the cells already hidden. While the
    hidden cells are fewer than two or hold fewer than ``k`` people together, the smallest
    shown non-zero cell is hidden too. Returns the new mask and whether the total must be
    hidden as well (no cell was left to hide: the hidden cells could still be worked out).

    >>> complement_line([12, 3, 20], [False, True, False], 5)
    (array([ True,  True, False]), False)
    >>> complement_line([0, 3], [False, True], 5)
    (array([False,  True]), True)
    """
    v = np.asarray(values, dtype=float)
    mask = np.asarray(hidden, dtype=bool).copy()
    if not mask.any():
        return mask, False
    while mask.sum() < 2 or v[mask].sum() < k:
        free = np.where(~mask & (v > 0))[0]
        if free.size == 0:
            return mask, True
        mask[free[np.argmin(v[free])]] = True
    return mask, False


def protect_counts(
    counts: pd.DataFrame,
    k: int,
    *,
    totals: str = "columns",
    linked: Sequence[Sequence[str]] = (),
) -> tuple[pd.DataFrame, pd.Series]:
    """Cells of a table of people counts a sponsor must not see.

    Counts from 1 to ``k - 1`` are hidden (zero stays visible); cells in one ``linked`` group
    of columns are hidden together in a row (e.g. a cohort's pairs, mentors and mentees: one
    gives the others); then complementary suppression (:func:`complement_line`) runs over each
    column whose total is shown (``totals="columns"``), each row (``"rows"``) or both, until
    nothing changes.

    Returns the mask (same shape as ``counts``) and, per column (or row), whether its total
    must be hidden too.

    >>> t = pd.DataFrame({"Mentors": [12, 3, 9], "Mentees": [12, 3, 9]}, index=["A", "B", "C"])
    >>> mask, total = protect_counts(t, 5, linked=[["Mentors", "Mentees"]])
    >>> mask.Mentors.tolist(), bool(total.any())
    ([False, True, True], False)
    """
    v = counts.apply(pd.to_numeric, errors="coerce").fillna(0.0)
    mask = (v > 0) & (v < k)
    axes = {"columns": ["columns"], "rows": ["rows"], "both": ["columns", "rows"]}[totals]
    total_hidden = pd.Series(False, index=v.columns if "columns" in axes else v.index)
    for _ in range(2 * (len(v) + len(v.columns)) + 2):
        before = mask.copy()
        for group in linked:
            cols = [c for c in group if c in mask.columns]
            if cols:
                anyh = mask[cols].any(axis=1)
                for c in cols:
                    mask[c] |= anyh
        if "columns" in axes:
            for c in v.columns:
                m, disclosed = complement_line(v[c].to_numpy(), mask[c].to_numpy(), k)
                mask[c] = m
                total_hidden[c] = bool(total_hidden.get(c, False) or disclosed)
        if "rows" in axes:
            for r in v.index:
                m, disclosed = complement_line(v.loc[r].to_numpy(), mask.loc[r].to_numpy(), k)
                mask.loc[r] = m
                if totals == "rows":
                    total_hidden[r] = bool(total_hidden.get(r, False) or disclosed)
        if mask.equals(before):
            break
    return mask, total_hidden


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
    from them), are replaced by ``marker`` (default ``"hidden"``). The result has object
    columns where something was hidden; the input is not modified. Cell by cell only: use
    :func:`protect_counts` when a total is shown.
    """
    cols = [count_columns] if isinstance(count_columns, str) else list(count_columns)
    missing = [c for c in [*cols, *dependent] if c not in df.columns]
    if missing:
        raise KeyError(f"suppress_small: no column(s) {', '.join(missing)}")
    mark = marker if marker is not None else "hidden"
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


# -- across cohorts (rule 5) -------------------------------------------------------------------
def small_cohorts(pilot, k: int) -> tuple[list[str], list[str]]:
    """``(kept, left_out)`` cohorts of a pooled sponsor report: cohorts with fewer than ``k``
    pairs are left out unless together they have ``k`` pairs or more (a lone small cohort
    would otherwise be the difference between the pooled report and the others)."""
    size = pilot.pairs.groupby("cohort_id", observed=True).size()
    ids = list(pilot.cohort_ids)
    small = [c for c in ids if 0 < int(size.get(c, 0)) < k]
    if small and sum(int(size.get(c, 0)) for c in small) < k and len(small) < len(ids):
        return [c for c in ids if c not in small], small
    return ids, []


def differencing_ids(
    records: Mapping[str, Mapping[str, tuple[int | None, bool]]], k: int
) -> set[str]:
    """Figures a pooled report must hide so that it minus the per-cohort reports does not give
    a cohort's hidden figure.

    ``records`` holds, per cohort, ``id -> (people, hidden)`` as its own report decided. A
    figure is hidden in the pooled report when exactly one cohort hides it (the pooled figure
    minus the others would give it: a small cell, or a cell hidden to protect one), or when
    the cohorts that hide it hold fewer than ``k`` people together.

    >>> sorted(differencing_ids({"A": {"x": (12, False)}, "B": {"x": (3, True)}}, 5))
    ['x']
    >>> sorted(differencing_ids({"A": {"x": (12, True)}, "B": {"x": (9, False)}}, 5))
    ['x']
    >>> sorted(differencing_ids({"A": {"x": (3, True)}, "B": {"x": (4, True)}}, 5))
    []
    """
    hidden_people: dict[str, int] = {}
    hidden_cohorts: dict[str, int] = {}
    for rec in records.values():
        for fid, (n, hidden) in rec.items():
            if hidden:
                hidden_people[fid] = hidden_people.get(fid, 0) + int(n or 0)
                hidden_cohorts[fid] = hidden_cohorts.get(fid, 0) + 1
    return {fid for fid, n in hidden_people.items() if n < k or hidden_cohorts[fid] == 1}


# -- across runs (rule 6) ----------------------------------------------------------------------
def release_waves(pilot, as_of, window_days: int = SURVEY_WINDOW_DAYS):
    """The pilot as a sponsor report may use it: every survey wave, skills phase and goal
    checkpoint of a cohort counts once closed, ``window_days`` after its first answer, with
    the answers dated up to its close.

    Returns ``(pilot, held_back)``: the released pilot (other tables unchanged) and the waves
    still open, in words. Waves are grouped by cohort (a respondent's cohort; people in no
    cohort form one group), so a wave of one cohort does not wait for another's.
    """
    stamp = pd.Timestamp(as_of).normalize()
    window = pd.Timedelta(days=int(window_days))
    cohort_of = _cohort_of(pilot)
    tables = dict(pilot.tables)
    held: list[str] = []

    def release(frame: pd.DataFrame, who: pd.Series, keys: list[str], date: str):
        cols = [frame[c].astype("string").fillna("").to_numpy() for c in keys]
        cols.append(who.astype("string").fillna("").to_numpy())
        when = pd.to_datetime(frame[date], errors="coerce")
        first = when.groupby(cols, dropna=False).transform("min")
        close = first + window
        open_ = (close > stamp).to_numpy()
        late = (when > close).to_numpy()
        keep = ~(open_ | late) | when.isna().to_numpy()
        if open_.any():
            groups = pd.DataFrame({i: c[open_] for i, c in enumerate(cols)}).drop_duplicates()
            for row in groups.itertuples(index=False):
                what = " ".join(str(p) for p in row[:-1] if p)
                held.append(f"{what} of {row[-1]}" if row[-1] else what)
        return frame[keep]

    if pilot.surveys is not None and len(pilot.surveys):
        sv = pilot.surveys
        who = sv["respondent_id"].astype("string").map(cohort_of)
        tables["surveys"] = release(sv, who, ["survey", "wave"], "response_date")
    if pilot.skills is not None and len(pilot.skills) and "date" in pilot.skills:
        sk = pilot.skills
        who = sk["employee_id"].astype("string").map(cohort_of)
        tables["skills"] = release(sk.assign(_what="skills"), who, ["_what", "phase"], "date")
        tables["skills"] = tables["skills"].drop(columns="_what")
    if pilot.checkpoints is not None and len(pilot.checkpoints) and "date" in pilot.checkpoints:
        ck = pilot.checkpoints
        pc = pilot.pairs.set_index("pair_id").cohort_id.astype("string")
        who = ck["pair_id"].astype("string").map(pc)
        ck = release(ck.assign(_what="goal check"), who, ["_what", "checkpoint"], "date")
        tables["checkpoints"] = ck.drop(columns="_what")
    from ..data.pilot import Pilot

    out = Pilot(
        tables,
        sources=pilot.sources,
        quality=pilot.quality_log.copy(),
        extra_columns=pilot.extra_columns,
        today=pilot.today,
    )
    out.cutoff = pilot.cutoff
    return out, held


def _cohort_of(pilot) -> pd.Series:
    """employee id -> the cohort of their first participation (pairs, then control)."""
    parts = pilot.participants("both").sort_values("cohort_start_date", kind="stable")
    who = parts.drop_duplicates("employee_id").set_index("employee_id").cohort_id.astype("string")
    if pilot.control is not None and len(pilot.control):
        ctrl = pilot.control.drop_duplicates("employee_id").set_index("employee_id").cohort_id
        ctrl = ctrl.astype("string")
        ctrl.index = ctrl.index.astype("string")
        who = pd.concat([who, ctrl[~ctrl.index.isin(who.index)]])
    return who


# -- the last net (rule 7) ---------------------------------------------------------------------
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


_TOKEN = re.compile(r"[\w.@-]+")


def _tokens(text: str) -> set[str]:
    raw = set(_TOKEN.findall(text))
    return raw | {t.strip(".@-") for t in raw}


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


def _checkable(value: str) -> bool:
    """Ids too short or too number-like to tell from figures are not checked (a pure number
    of fewer than 5 digits, anything shorter than 3 characters)."""
    v = value.strip()
    return len(v) >= 3 and not (v.isdigit() and len(v) < 5)


def ids_in(text: str, values: Iterable[str]) -> int:
    """How many of ``values`` (ids) occur in ``text`` as whole values: an id with spaces or
    punctuation ("Sales 0042", "o'brien-7") is matched as written (spaces squashed), never
    as loose tokens, and not inside a longer word or number."""
    squashed = " ".join(text.split())
    tokens = _tokens(squashed)
    found = 0
    for value in values:
        v = " ".join(str(value).split())
        if not _checkable(v):
            continue
        if _TOKEN.fullmatch(v):
            if v in tokens:
                found += 1
            continue
        left = r"(?<!\w)" if re.match(r"\w", v) else ""
        right = r"(?!\w)" if re.search(r"\w$", v) else ""
        if re.search(left + re.escape(v) + right, squashed):
            found += 1
    return found


def check_privacy(text: str, pilot, *, min_text_length: int = 12) -> None:
    """Raise :class:`PrivacyError` when ``text`` (sponsor HTML or the text of its
    metrics) contains an employee id, a pair id, an employee's full name, or a free-text
    answer/goal/comment/intervention note of the pilot's data.

    Ids are matched as whole values (:func:`ids_in`), so an id with a space or punctuation is
    caught too. A safety net behind the policy: the report fails (exit 1) rather than leak.
    The message names the kind of leak, never the value. Free texts shorter than
    ``min_text_length`` characters are not checked (too likely to be ordinary words).
    """
    plain = html.unescape(re.sub(r"<[^>]+>", " ", text))
    squashed = " ".join(plain.split())
    tokens = _tokens(squashed)
    ids = {
        "employee id": set(pilot.employees.employee_id.dropna().astype(str)),
        "pair id": set(pilot.pairs.pair_id.dropna().astype(str)),
    }
    for kind, values in ids.items():
        hits = ids_in(squashed, values)
        if hits:
            raise PrivacyError(f"sponsor content contains {hits} {kind}(s)")
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
    named = _names_in(squashed, tokens, pilot.employees)
    if named:
        raise PrivacyError(f"sponsor content contains {named} employee name(s)")
    leaked = [
        t for t in texts if len(t.strip()) >= min_text_length and " ".join(t.split()) in squashed
    ]
    if leaked:
        raise PrivacyError(f"sponsor content contains {len(leaked)} free-text answer(s) or goal(s)")


def strings_of(obj: Any) -> str:
    """Every text value inside a JSON-like object, one per line (to scan metrics.json)."""
    out: list[str] = []

    def walk(o: Any) -> None:
        if isinstance(o, str):
            out.append(o)
        elif isinstance(o, Mapping):
            for k, v in o.items():
                out.append(str(k))
                walk(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                walk(v)

    walk(obj)
    return "\n".join(out)
