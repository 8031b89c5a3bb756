"""Matching check before launch: conflicts of interest and same-team pairs.

The playbook's matching rule: never pair a boss with someone in their reporting line, and
avoid pairing two people from the same team. :func:`check_pairs` runs on a *proposed*
``pairs`` table (only ``pair_id``, ``cohort_id``, ``mentor_id`` and ``mentee_id`` are needed;
status and dates may still be missing) against the HRIS roster, so the program lead can fix
the matching before the cohort starts. The command ``rm-analytics check-pairs --data DIR``
reads the files with :func:`rm_analytics.data.proposal.read_proposal` and prints the issues.

Reporting lines come from ``employees.manager_id`` as exported (today's lines, not the lines
on some past date). Chains are followed up to :data:`MAX_CHAIN_DEPTH` levels, which also stops
on a circular manager chain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataValidationError, InsufficientDataError, Problem
from ..results import Note, Result

#: Longest reporting chain followed (also the guard against circular manager data).
MAX_CHAIN_DEPTH = 50

ISSUE_COLUMNS = ["pair_id", "cohort_id", "mentor_id", "mentee_id", "check", "kind", "detail"]

#: check -> kind. "conflict" = conflict of interest (never allowed); "same_team" = the
#: same-team rule; "data" = the proposal cannot work as given.
CHECKS = {
    "same_person": "data",
    "double_booked": "data",
    "not_employed": "data",
    "reporting_line": "conflict",
    "shared_manager": "same_team",
    "same_department": "same_team",
}


class PairCheck(Result):
    """Issues of a proposed matching (see :func:`check_pairs`). ``issues_`` names employees:
    it is for the program lead.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per check (in :data:`CHECKS` order): ``metric`` (``pairs_with_issue``),
        ``check``, ``kind`` (``conflict``, ``same_team``, ``data``), ``estimate`` (proposed
        pairs with that issue; NaN for a check that did not run), ``ci_low, ci_high, p_value``
        (NaN: counts), ``n`` (proposed pairs).
    issues_ : pandas.DataFrame
        One row per issue: ``pair_id, cohort_id, mentor_id, mentee_id, check, kind, detail``;
        empty when the matching is clean.
    """

    title = "Proposed pairs: conflicts of interest and same-team pairs (confidential)"
    issues_: pd.DataFrame

    @property
    def clean(self) -> bool:
        """Whether the check found no issue."""
        return len(self.issues_) == 0


def _levels_text(upper: str, lower: str, levels: int) -> str:
    if levels == 1:
        return f"the {upper} is the {lower}'s direct manager"
    if levels == 2:
        return f"the {upper} is the {lower}'s manager's manager"
    return f"the {upper} is {levels} levels above the {lower} in the reporting line"


def reporting_conflicts(
    employees: pd.DataFrame, pairs: pd.DataFrame, *, max_depth: int = MAX_CHAIN_DEPTH
) -> pd.DataFrame:
    """Pairs whose members share a reporting line or a manager.

    Vectorised over pairs: the manager chain is followed one level at a time for all pairs at
    once (at most ``max_depth`` levels).

    Parameters
    ----------
    employees
        ``employee_id`` and ``manager_id`` (blank = no manager).
    pairs
        ``pair_id``, ``mentor_id``, ``mentee_id``.

    Returns
    -------
    pandas.DataFrame
        One row per conflict: ``pair_id``, ``check`` (``reporting_line`` or
        ``shared_manager``), ``direction`` (``mentee_above_mentor``,
        ``mentor_above_mentee`` or ``shared_manager``), ``levels`` (steps up the chain; 1 for a
        shared manager) and ``detail`` (a sentence for the program lead).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> from rm_analytics.metrics.pairs_check import reporting_conflicts
    >>> pilot = rm.load_sample()
    >>> conflicts = reporting_conflicts(pilot.employees, pilot.pairs)
    >>> print(conflicts[["pair_id", "check", "direction", "levels"]].to_string(index=False))
    pair_id          check           direction  levels
    C03-P01 reporting_line mentee_above_mentor       3
    """
    if "manager_id" not in employees.columns:
        raise InsufficientDataError(
            "the conflict-of-interest check needs employees.manager_id (the direct manager)"
        )
    ids = employees.employee_id.astype("string")
    first = ~ids.duplicated().to_numpy()
    index = pd.Index(ids.to_numpy()[first])  # hashed once; looked up only for pair members
    managers = employees.manager_id.to_numpy()[first]

    def pos(values) -> np.ndarray:
        """Row of each id in ``index`` (-1: blank or not on the roster)."""
        v = pd.Series(values, dtype=object).astype("string")
        return np.asarray(index.get_indexer(pd.Index(v.to_numpy())), dtype=np.int64)

    def manager_of(rows: np.ndarray) -> np.ndarray:
        """Row of the manager of each row (-1 for -1, no manager, or one off the roster)."""
        out = np.full(len(rows), -1, dtype=np.int64)
        ok = rows >= 0
        if ok.any():
            out[ok] = pos(managers[rows[ok]])
        return out

    mentor = pos(pairs.mentor_id.to_numpy())
    mentee = pos(pairs.mentee_id.to_numpy())
    rows = []
    for a, b, direction, who in (
        (mentor, mentee, "mentee_above_mentor", ("mentee", "mentor")),
        (mentee, mentor, "mentor_above_mentee", ("mentor", "mentee")),
    ):
        found = np.zeros(len(a), dtype=np.int64)
        cur = manager_of(a)
        for depth in range(1, max_depth + 1):
            hit = (cur >= 0) & (cur == b) & (found == 0)
            found[hit] = depth
            cur = manager_of(cur)
            if not (cur >= 0).any():
                break
        for j in np.flatnonzero(found):
            rows.append(
                (
                    j,
                    "reporting_line",
                    direction,
                    int(found[j]),
                    _levels_text(who[0], who[1], int(found[j])),
                )
            )
    boss_a, boss_b = manager_of(mentor), manager_of(mentee)
    shared = (boss_a >= 0) & (boss_a == boss_b)
    for j in np.flatnonzero(shared):
        rows.append((j, "shared_manager", "shared_manager", 1, "mentor and mentee share a manager"))
    out = pd.DataFrame(rows, columns=["_row", "check", "direction", "levels", "detail"]).astype(
        {"_row": np.int64, "levels": np.int64}
    )
    out.insert(0, "pair_id", pairs.pair_id.astype("string").to_numpy()[out._row.to_numpy()])
    return out.drop(columns="_row").sort_values(["pair_id", "check"], ignore_index=True)


def check_pairs(
    employees: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    same_department: bool = True,
    as_of: str | pd.Timestamp | None = None,
) -> PairCheck:
    """Check a proposed matching before the cohort starts.

    Checks, per pair (``check`` column):

    - ``reporting_line``: the mentee is in the mentor's reporting line or the other way round,
      any number of levels (conflict of interest);
    - ``shared_manager``: both have the same direct manager (same team);
    - ``same_department``: both are in the same department (only when ``same_department``);
    - ``same_person``: mentor and mentee are the same employee;
    - ``double_booked``: a person is in two pairs of one cohort (pairs with status
      ``reshuffled`` or ``withdrawn``, when a status is given, are left out of this check);
    - ``not_employed``: a member's ``termination_date`` is on or before the pair's
      ``start_date`` (when given) or else ``as_of`` (default today), when the roster has that
      column.

    Parameters
    ----------
    employees
        The roster: ``employee_id``, ``manager_id``; ``department`` when ``same_department``.
    pairs
        Proposed pairs: ``pair_id``, ``cohort_id``, ``mentor_id``, ``mentee_id`` (other columns
        are ignored; ``status`` is used when present).

    Returns
    -------
    PairCheck
        ``summary``: proposed pairs with each issue (see :class:`PairCheck`); ``issues_``: one
        row per issue, ``pair_id, cohort_id, mentor_id, mentee_id, check, kind, detail``,
        where ``kind`` is ``conflict``, ``same_team`` or ``data``, empty when the matching is
        clean. ``issues_`` names employees: it is for the program lead only.

    Raises
    ------
    DataValidationError
        A required column is missing, an id is blank, a pair_id repeats, or a mentor/mentee id
        is not in the roster.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> pilot = rm.load_sample()
    >>> res = rm.check_pairs(pilot.employees, pilot.pairs)
    >>> cols = ["metric", "check", "kind", "estimate"]
    >>> print(res.summary[cols].to_string(index=False))
              metric           check      kind  estimate
    pairs_with_issue     same_person      data       0.0
    pairs_with_issue   double_booked      data       0.0
    pairs_with_issue    not_employed      data       0.0
    pairs_with_issue  reporting_line  conflict       1.0
    pairs_with_issue  shared_manager same_team       0.0
    pairs_with_issue same_department same_team       1.0
    >>> print(res.issues_[["pair_id", "check", "kind"]].to_string(index=False))
    pair_id           check      kind
    C03-P01  reporting_line  conflict
    C03-P01 same_department same_team
    >>> print(res.issues_.detail.iloc[0])
    the mentee is 3 levels above the mentor in the reporting line

    The planted conflict is found: in pair C03-P01 the mentee is in the mentor's reporting line.
    """
    problems: list[Problem] = []
    for name, df, cols in (
        ("employees", employees, ["employee_id"]),
        ("pairs", pairs, ["pair_id", "cohort_id", "mentor_id", "mentee_id"]),
    ):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            problems.append(
                Problem(name, None, ", ".join(missing), None, "required column is missing")
            )
    if same_department and "department" not in employees.columns:
        problems.append(
            Problem(
                "employees",
                None,
                "department",
                None,
                "the same-department check needs employees.department (or turn it off)",
            )
        )
    if problems:
        raise DataValidationError(problems)
    if "manager_id" not in employees.columns:
        raise InsufficientDataError(
            "the conflict-of-interest check needs employees.manager_id (the direct manager)"
        )
    p = pairs.reset_index(drop=True).copy()
    for col in ("pair_id", "cohort_id", "mentor_id", "mentee_id"):
        p[col] = p[col].astype("string").str.strip().replace("", pd.NA)
        blank = p[col].isna()
        problems += [
            Problem("pairs", int(r) + 2, col, None, "blank id") for r in np.flatnonzero(blank)
        ]
    dup = p.pair_id.notna() & p.pair_id.duplicated(keep=False)
    problems += [
        Problem("pairs", int(r) + 2, "pair_id", p.pair_id[r], "pair_id repeats")
        for r in np.flatnonzero(dup)
    ]
    known = set(employees.employee_id.astype("string").str.strip())
    for col in ("mentor_id", "mentee_id"):
        bad = p[col].notna() & ~p[col].isin(known)
        problems += [
            Problem("pairs", int(r) + 2, col, p[col][r], "not an employee_id of the roster")
            for r in np.flatnonzero(bad)
        ]
    if problems:
        raise DataValidationError(problems)

    emp = employees.copy()
    emp["employee_id"] = emp.employee_id.astype("string").str.strip()
    emp["manager_id"] = emp.manager_id.astype("string").str.strip().replace("", pd.NA)
    emp = emp.drop_duplicates("employee_id")
    issues = []

    same = p.mentor_id == p.mentee_id
    issues.append(
        p[same].assign(check="same_person", detail="mentor and mentee are the same employee")
    )
    conflicts = reporting_conflicts(emp, p[~same])
    if len(conflicts):
        issues.append(p.merge(conflicts[["pair_id", "check", "detail"]], on="pair_id"))
    e = emp.set_index("employee_id")
    if same_department:
        dm = e.department.reindex(p.mentor_id.to_numpy()).astype("string").to_numpy()
        dn = e.department.reindex(p.mentee_id.to_numpy()).astype("string").to_numpy()
        hit = pd.notna(dm) & pd.notna(dn) & (dm == dn) & ~same.to_numpy()
        hit = np.asarray(hit, dtype=bool)
        issues.append(
            p[hit].assign(
                check="same_department",
                detail=[f"both are in the department {d!r}" for d in dm[hit]],
            )
        )
    live = p
    if "status" in p.columns:
        live = p[~p.status.astype("string").isin(["reshuffled", "withdrawn"]).fillna(False)]
    members = pd.concat(
        [
            live[["pair_id", "cohort_id", "mentor_id"]].rename(columns={"mentor_id": "person"}),
            live[["pair_id", "cohort_id", "mentee_id"]].rename(columns={"mentee_id": "person"}),
        ]
    ).drop_duplicates()
    n_pairs = members.groupby(["cohort_id", "person"]).pair_id.transform("nunique")
    dbl = members[n_pairs > 1]
    if len(dbl):
        detail = (
            dbl.groupby(["cohort_id", "person"])
            .pair_id.agg(lambda s: ", ".join(sorted(s)))
            .rename("others")
        )
        dbl = dbl.join(detail, on=["cohort_id", "person"])
        dbl = dbl.assign(
            detail="employee " + dbl.person + " is in several pairs of the cohort: " + dbl.others
        )
        issues.append(
            p.merge(dbl[["pair_id", "detail"]], on="pair_id").assign(check="double_booked")
        )
    if "termination_date" in e.columns:
        stamp = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.today()
        ref = pd.Series(stamp.normalize(), index=p.index)
        if "start_date" in p.columns:
            start = pd.to_datetime(p.start_date, errors="coerce")
            ref = start.where(start.notna(), ref)
        term = pd.to_datetime(e.termination_date, errors="coerce")
        for role in ("mentor", "mentee"):
            left_on = pd.Series(term.reindex(p[f"{role}_id"].to_numpy()).to_numpy(), index=p.index)
            gone = (left_on <= ref).fillna(False).to_numpy(dtype=bool)
            if gone.any():
                issues.append(
                    p[gone].assign(
                        check="not_employed",
                        detail=[f"the {role} left on {d:%Y-%m-%d}" for d in left_on[gone]],
                    )
                )
    ran = {c: True for c in CHECKS}
    ran["same_department"] = same_department
    ran["not_employed"] = "termination_date" in e.columns
    issues = [i for i in issues if len(i)]
    if not issues:
        out = pd.DataFrame({c: pd.Series(dtype="string") for c in ISSUE_COLUMNS})
    else:
        out = pd.concat(issues, ignore_index=True)
        out["kind"] = out["check"].map(CHECKS)
        out = out[ISSUE_COLUMNS].astype("string")
        order = {c: i for i, c in enumerate(CHECKS)}
        out = (
            out.assign(_o=out["check"].map(order))
            .sort_values(["pair_id", "_o", "detail"])
            .drop(columns="_o")
            .reset_index(drop=True)
        )
    summary = pd.DataFrame(
        {
            "metric": "pairs_with_issue",
            "check": list(CHECKS),
            "kind": list(CHECKS.values()),
            "estimate": [
                float(out.pair_id[out["check"] == c].nunique()) if ran[c] else np.nan
                for c in CHECKS
            ],
            "ci_low": np.nan,
            "ci_high": np.nan,
            "p_value": np.nan,
            "n": float(p.pair_id.nunique()),
        }
    )
    notes = [
        Note(
            "Reporting lines from employees.manager_id as exported (today's lines), followed "
            f"up to {MAX_CHAIN_DEPTH} levels.",
            "method",
        )
    ]
    if not same_department:
        notes.append(Note("The same-department check was turned off.", "info"))
    if not ran["not_employed"]:
        notes.append(
            Note("employees has no termination_date: not_employed not checked.", "missing_data")
        )
    res = PairCheck(summary, notes, same_department=same_department, as_of=as_of)
    res.issues_ = out
    return res
