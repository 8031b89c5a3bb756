"""Lazy validation of pilot tables against the data contract.

Every check runs on whole columns (no per-row Python loops); parsing works on the distinct
values of a column, so a survey table of millions of answers with a few hundred distinct dates
parses a few hundred dates. Every problem found is collected; nothing stops at the first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import contract as C
from .errors import Problem
from .readers import RawTable

#: str columns stored as pandas categoricals (low cardinality, large tables).
CATEGORICAL_STR = frozenset(
    {
        ("employees", "department"),
        ("employees", "location"),
        ("surveys", "survey"),
        ("surveys", "wave"),
        ("surveys", "item"),
        ("skills", "skill"),
        ("skills", "rater"),
        ("outcomes", "outcome"),
    }
)

_TIME_SUFFIX = re.compile(r"^(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DIGITS = re.compile(r"(\d+)")


@dataclass
class ValidationResult:
    tables: dict[str, pd.DataFrame]
    problems: list[Problem]
    notes: list[dict] = field(default_factory=list)
    extra_columns: dict[str, list[str]] = field(default_factory=dict)


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, source: str, rows, column: str | None, values, rule) -> None:
        """Record one problem per row; ``values`` and ``rule`` may be per-row sequences."""
        rows = list(rows)
        if not rows:
            return
        vals = list(values) if values is not None else [None] * len(rows)
        rules = list(rule) if not isinstance(rule, str) else [rule] * len(rows)
        for r, v, text in zip(rows, vals, rules, strict=True):
            self.items.append(Problem(source, int(r), column, _fmt(v), text))

    def file(
        self, source: str, rule: str, column: str | None = None, row: int | None = None
    ) -> None:
        self.items.append(Problem(source, row, column, None, rule))


def _fmt(v) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None if v is None else ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def natural_key(label: str) -> tuple:
    """Sort key that orders 'L2' before 'L10' and '2' before '10'."""
    parts = _DIGITS.split(str(label))
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in parts)


# ---------------------------------------------------------------------------------------------
# Typing one column: each returns (typed series, mask of cells that could not be typed, rule)


def _by_unique(s: pd.Series, parse) -> pd.Series:
    """Apply ``parse`` (a function on an Index of distinct values) and broadcast back.

    Blank cells stay blank. Parsing distinct values only keeps large tables cheap.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    parsed = pd.Series(parse(pd.Index(uniques, dtype=object)))
    return pd.Series(parsed.array.take(codes, allow_fill=True), index=s.index)


def _strip_unique(u: pd.Index) -> pd.Series:
    text = pd.Series(u, dtype="string").str.strip()
    return text.mask(text == "")


def _clean_text(s: pd.Series, strip: bool) -> pd.Series:
    if not strip:
        return s.astype("string")
    if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
        s = s.astype("string")
    return _by_unique(s, _strip_unique).astype("string")


def _as_id(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s):
        vals = s.to_numpy()
        finite = np.isfinite(vals)
        if np.all(np.mod(vals[finite], 1) == 0):
            s = s.astype("Int64")
    elif pd.api.types.is_bool_dtype(s):
        s = s.astype(object)
    return _clean_text(s, strip=True)


def _as_date(s: pd.Series, date_format: str | None) -> tuple[pd.Series, pd.Series, str]:
    expected = date_format or "YYYY-MM-DD"
    rule = f"not a date in the expected format ({expected})"
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        out = s.dt.normalize().astype("datetime64[ns]")
        return out, pd.Series(False, index=s.index), rule

    def parse(u: pd.Index) -> pd.Index:
        text = pd.Series(u.astype(str), dtype=object).str.strip()
        if date_format:
            return pd.Index(pd.to_datetime(text, format=date_format, errors="coerce"))
        head = text.str.slice(0, 10)
        tail_ok = text.str.slice(10).str.match(_TIME_SUFFIX)
        parsed = pd.to_datetime(head, format="%Y-%m-%d", errors="coerce")
        return pd.Index(parsed.where(tail_ok.astype(bool)))

    if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
        out = _by_unique(s, parse)
    else:  # numbers are not dates
        out = pd.Series(pd.NaT, index=s.index)
    out = pd.to_datetime(out).dt.normalize().astype("datetime64[ns]")
    bad = s.notna() & out.isna()
    return out, bad, rule


def _as_number(s: pd.Series, integer: bool) -> tuple[pd.Series, pd.Series, str]:
    if pd.api.types.is_bool_dtype(s):
        s = s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        out = s.astype(float)
    else:
        out = _by_unique(
            s, lambda u: pd.to_numeric(pd.Series(u.astype(str)).str.strip(), errors="coerce")
        )
        out = out.astype(float)
    bad = s.notna() & (out.isna() | ~np.isfinite(out.fillna(0.0)))
    rule = "not a number"
    if integer:
        frac = out.notna() & (np.mod(out.fillna(0.0), 1) != 0)
        if frac.any():
            bad = bad | frac
            rule = "not a whole number"
        out = out.where(~bad).astype("Int64")
    else:
        out = out.where(~bad)
    return out, bad, rule


def _as_choice(s: pd.Series, choices: Sequence[str]) -> tuple[pd.Series, pd.Series, str]:
    norm = _by_unique(
        s,
        lambda u: pd.Index(
            pd.Series(u.astype(str))
            .str.strip()
            .str.lower()
            .str.replace(" ", "_")
            .str.replace("-", "_")
        ),
    )
    norm = norm.where(s.notna())
    ok = norm.isin(choices)
    bad = s.notna() & ~ok
    out = pd.Categorical(norm.where(ok), categories=list(choices))
    return pd.Series(out, index=s.index), bad, "not one of " + ", ".join(choices)


def _as_bool(s: pd.Series) -> tuple[pd.Series, pd.Series, str]:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean"), pd.Series(False, index=s.index), ""
    mapping = {t: True for t in C.TRUE_TOKENS} | {t: False for t in C.FALSE_TOKENS}
    norm = _by_unique(s, lambda u: pd.Index(pd.Series(u.astype(str)).str.strip().str.lower()))
    out = norm.map(mapping).where(s.notna())
    bad = s.notna() & out.isna()
    return out.astype("boolean"), bad, "not yes/no (accepted: yes, no, true, false, y, n, 1, 0)"


def _as_category(s: pd.Series) -> pd.Series:
    text = _clean_text(s, strip=True)
    cats = sorted(text.dropna().unique(), key=natural_key)
    return pd.Series(pd.Categorical(text, categories=cats), index=s.index)


def _as_level(s: pd.Series, level_order: Sequence[str] | None) -> tuple[pd.Series, pd.Series, str]:
    if pd.api.types.is_float_dtype(s):
        s = _as_id(s)
    text = _clean_text(s, strip=True)
    if level_order is not None:
        order = [str(x) for x in level_order]
        bad = text.notna() & ~text.isin(order)
        rule = "not one of the levels given in level_order: " + ", ".join(order)
    else:
        order = sorted(text.dropna().unique(), key=natural_key)
        bad = pd.Series(False, index=s.index)
        rule = ""
    out = pd.Categorical(text.where(~bad), categories=order, ordered=True)
    return pd.Series(out, index=s.index), bad, rule


# ---------------------------------------------------------------------------------------------


def _empty_column(col: C.Column, n: int, index: pd.Index, table: str) -> pd.Series:
    if col.kind == "date":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if col.kind == "int":
        return pd.Series(pd.NA, index=index, dtype="Int64")
    if col.kind == "float":
        return pd.Series(np.nan, index=index, dtype=float)
    if col.kind == "bool":
        return pd.Series(pd.NA, index=index, dtype="boolean")
    if col.kind == "choice":
        return pd.Series(
            pd.Categorical([None] * n, categories=list(col.choices or ())), index=index
        )
    if (table, col.name) in CATEGORICAL_STR:
        return pd.Series(pd.Categorical([None] * n, categories=[]), index=index)
    return pd.Series(pd.NA, index=index, dtype="string")


def _type_table(
    raw: RawTable,
    spec: C.Table,
    out: _Problems,
    *,
    date_format: str | None,
    level_order: Sequence[str] | None,
) -> tuple[pd.DataFrame, list[str]]:
    frame = raw.frame
    assert frame is not None
    src = raw.source
    header_row = 1 if not raw.typed else None
    frame = frame.copy()
    if raw.blank_rows:  # positions were kept when blank rows were dropped
        frame.index = pd.Index(frame.index + raw.first_row, name="row")
    else:
        frame.index = pd.RangeIndex(raw.first_row, raw.first_row + len(frame), name="row")

    # aliases
    present = set(frame.columns)
    for col in spec.columns:
        if col.name not in present:
            alias = next((a for a in col.aliases if a in present), None)
            if alias is not None:
                frame = frame.rename(columns={alias: col.name})
                present = set(frame.columns)

    typed: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name not in frame.columns:
            if col.required:
                found = ", ".join(map(str, frame.columns)) or "none"
                out.file(
                    src,
                    f"required column is missing (columns found: {found})",
                    col.name,
                    header_row,
                )
            typed[col.name] = _empty_column(col, len(frame), frame.index, spec.name)
            continue
        s = frame[col.name]
        bad = None
        rule = ""
        if col.kind == "id":
            t = _as_id(s)
        elif col.kind == "str":
            if (spec.name, col.name) in CATEGORICAL_STR:
                t = _as_category(s)
            else:
                t = _clean_text(s, strip=True)
        elif col.kind == "text":
            t = _clean_text(s, strip=False)
        elif col.kind == "date":
            t, bad, rule = _as_date(s, date_format)
        elif col.kind in ("int", "float"):
            if spec.name == "surveys" and col.name == "value":
                typed[col.name] = s  # typed with the item's kind in _check_surveys
                continue
            t, bad, rule = _as_number(s, integer=col.kind == "int")
        elif col.kind == "choice":
            t, bad, rule = _as_choice(s, col.choices or ())
        elif col.kind == "bool":
            t, bad, rule = _as_bool(s)
        elif col.kind == "level":
            t, bad, rule = _as_level(s, level_order)
        else:  # pragma: no cover - contract kinds are closed
            raise AssertionError(col.kind)
        if bad is not None and bad.any():
            out.add(src, frame.index[bad.to_numpy()], col.name, s[bad], rule)
        if not col.nullable:
            missing = t.isna() & ~(bad if bad is not None else False)
            if missing.any():
                out.add(
                    src,
                    frame.index[missing.to_numpy()],
                    col.name,
                    None,
                    "blank cell in a required column",
                )
        if col.minimum is not None or col.maximum is not None:
            num = t.astype(float)
            bounds = []
            if col.minimum is not None:
                bounds.append((num < col.minimum, f"below the minimum of {col.minimum:g}"))
            if col.maximum is not None:
                bounds.append((num > col.maximum, f"above the maximum of {col.maximum:g}"))
            for mask, text in bounds:
                mask = mask.fillna(False).astype(bool)
                if mask.any():
                    out.add(src, frame.index[mask.to_numpy()], col.name, t[mask], text)
        if col.unique:
            dup = t.notna() & t.duplicated(keep=False)
            if dup.any():
                first = t[dup].groupby(t[dup], observed=True).transform(lambda g: g.index[0])
                out.add(
                    src,
                    frame.index[dup.to_numpy()],
                    col.name,
                    t[dup],
                    [f"duplicate {col.name} (first on row {f})" for f in first],
                )
        typed[col.name] = t

    extra = [c for c in frame.columns if c not in typed]
    result = pd.DataFrame(typed, index=frame.index)
    for c in extra:
        result[c] = frame[c]
    if spec.key:
        key = list(spec.key)
        dup = result.duplicated(key, keep=False)
        if dup.any():
            rows = result.index[dup.to_numpy()]
            first = (
                pd.Series(rows, index=rows)
                .groupby([result.loc[dup, k].astype("string").fillna("<blank>") for k in key])
                .transform("min")
            )
            out.add(
                src,
                rows,
                ", ".join(key),
                result.loc[dup, key].astype("string").fillna("").agg(" / ".join, axis=1),
                [f"duplicate of row {f} (these columns must be unique together)" for f in first],
            )
    return result, extra


# ---------------------------------------------------------------------------------------------
# Cross-column and cross-table rules


def _rows(frame: pd.DataFrame, mask) -> pd.Index:
    return frame.index[np.asarray(mask, dtype=bool)]


def _check_references(
    tables: dict[str, pd.DataFrame], sources: dict[str, str], out: _Problems
) -> None:
    for name, frame in tables.items():
        spec = C.TABLES[name]
        for col in spec.columns:
            if not col.references or col.name not in frame:
                continue
            target, tcol = col.references
            if target not in tables:
                continue
            known = pd.Index(tables[target][tcol].dropna().unique())
            vals = frame[col.name]
            unknown = vals.notna() & ~vals.isin(known)
            if unknown.any():
                out.add(
                    sources[name],
                    _rows(frame, unknown),
                    col.name,
                    vals[unknown],
                    f"unknown {tcol} (not in {target})",
                )


def _check_employees(e: pd.DataFrame, src: str, out: _Problems, today: pd.Timestamp) -> None:
    bad = e.termination_date < e.hire_date
    out.add(
        src,
        _rows(e, bad),
        "termination_date",
        e.termination_date[bad],
        "termination before hire (hire_date is later)",
    )
    bad = e.termination_date.notna() & e.termination_type.isna()
    out.add(
        src,
        _rows(e, bad),
        "termination_type",
        None,
        "required when termination_date is given (voluntary, involuntary or other)",
    )
    bad = e.termination_date.isna() & e.termination_type.notna()
    out.add(
        src,
        _rows(e, bad),
        "termination_type",
        e.termination_type[bad],
        "given but termination_date is blank",
    )
    bad = e.hire_date > today
    out.add(src, _rows(e, bad), "hire_date", e.hire_date[bad], "hire date in the future")
    if "birth_year" in e:
        latest = today.year - C.MIN_WORKING_AGE
        by = e.birth_year.astype(float)
        bad = (by < C.EARLIEST_BIRTH_YEAR) | (by > latest)
        bad = bad.fillna(False)
        out.add(
            src,
            _rows(e, bad),
            "birth_year",
            e.birth_year[bad],
            f"implausible birth year (expected {C.EARLIEST_BIRTH_YEAR} to {latest})",
        )
    if "manager_id" in e:
        bad = (e.manager_id == e.employee_id).fillna(False)
        out.add(
            src,
            _rows(e, bad),
            "manager_id",
            e.manager_id[bad],
            "an employee cannot be their own manager",
        )


def _check_cohorts(c: pd.DataFrame, src: str, out: _Problems) -> None:
    bad = c.end_date < c.start_date
    out.add(src, _rows(c, bad), "end_date", c.end_date[bad], "cohort ends before it starts")


def _check_pairs(
    p: pd.DataFrame, tables: dict[str, pd.DataFrame], src: str, out: _Problems
) -> None:
    bad = (p.mentor_id == p.mentee_id).fillna(False)
    out.add(
        src, _rows(p, bad), "mentee_id", p.mentee_id[bad], "mentor and mentee are the same person"
    )
    bad = p.end_date < p.start_date
    out.add(src, _rows(p, bad), "end_date", p.end_date[bad], "pair ends before it starts")

    # one pair per person per cohort at a time
    people = pd.concat(
        [
            p.assign(person=p.mentor_id, role="mentor_id")[
                ["cohort_id", "person", "role", "pair_id", "status", "start_date", "end_date"]
            ],
            p.assign(person=p.mentee_id, role="mentee_id")[
                ["cohort_id", "person", "role", "pair_id", "status", "start_date", "end_date"]
            ],
        ]
    ).dropna(subset=["cohort_id", "person"])
    people = (
        people.rename_axis("row")
        .reset_index()
        .sort_values(["cohort_id", "person", "start_date", "row"])
    )
    same = (
        (people.cohort_id == people.cohort_id.shift()) & (people.person == people.person.shift())
    ).fillna(False)
    prev_closed = people.status.shift().isin(["reshuffled", "withdrawn"]) & (
        people.end_date.shift() <= people.start_date
    )
    bad = (same & ~prev_closed.fillna(False)).astype(bool)
    if bad.any():
        prev_row = people.row.shift()
        b = people[bad.to_numpy()]
        out.add(
            src,
            b.row,
            None,
            b.person,
            [
                f"the same person is in two pairs of cohort {c} (also row {int(r)}); an earlier pair must be reshuffled or withdrawn and end first"
                for c, r in zip(b.cohort_id, prev_row[bad], strict=True)
            ],
        )

    # employed on the pair's start date
    if "employees" in tables:
        emp = tables["employees"].set_index("employee_id")[["hire_date", "termination_date"]]
        emp = emp[~emp.index.duplicated()]
        for role in ("mentor_id", "mentee_id"):
            m = emp.reindex(p[role].to_numpy())
            hire = pd.Series(m.hire_date.to_numpy(), index=p.index)
            term = pd.Series(m.termination_date.to_numpy(), index=p.index)
            bad = ((hire > p.start_date) | (term < p.start_date)).fillna(False)
            if bad.any():
                who = role.removesuffix("_id")
                out.add(
                    src,
                    _rows(p, bad),
                    role,
                    p[role][bad],
                    [
                        f"{who} was not employed on the pair's start date {s:%Y-%m-%d} (hired {h:%Y-%m-%d}"
                        + (f", left {t:%Y-%m-%d})" if pd.notna(t) else ")")
                        for s, h, t in zip(p.start_date[bad], hire[bad], term[bad], strict=True)
                    ],
                )


def _check_control(
    ctrl: pd.DataFrame, tables: dict[str, pd.DataFrame], src: str, out: _Problems
) -> None:
    if "pairs" not in tables:
        return
    p = tables["pairs"]
    part = pd.concat(
        [
            p[["cohort_id", "mentor_id"]].set_axis(["cohort_id", "employee_id"], axis=1),
            p[["cohort_id", "mentee_id"]].set_axis(["cohort_id", "employee_id"], axis=1),
        ]
    )
    key = pd.MultiIndex.from_frame(part.dropna().astype(str))
    mine = pd.MultiIndex.from_frame(ctrl[["cohort_id", "employee_id"]].astype(str))
    bad = mine.isin(key) & ctrl.cohort_id.notna().to_numpy() & ctrl.employee_id.notna().to_numpy()
    out.add(
        src,
        _rows(ctrl, bad),
        "employee_id",
        ctrl.employee_id[bad],
        "a control person is also a mentor or mentee in the same cohort",
    )


def _check_sessions(
    s: pd.DataFrame, tables: dict[str, pd.DataFrame], src: str, out: _Problems, today: pd.Timestamp
) -> None:
    held = s.status == "held"
    bad = (held & ~(s.duration_minutes > 0)).fillna(False)
    out.add(
        src,
        _rows(s, bad),
        "duration_minutes",
        s.duration_minutes[bad],
        "a held session needs a duration above 0 minutes",
    )
    bad = s.date > today
    out.add(src, _rows(s, bad), "date", s.date[bad], "session date in the future")
    if "pairs" in tables and "cohorts" in tables:
        p = tables["pairs"].drop_duplicates("pair_id").set_index("pair_id")
        c = tables["cohorts"].drop_duplicates("cohort_id").set_index("cohort_id")
        pc = p[["cohort_id", "end_date"]].join(
            c[["start_date", "end_date"]].add_prefix("cohort_"), on="cohort_id"
        )
        m = pc.reindex(s.pair_id.to_numpy())
        lo = pd.Series(
            (m.cohort_start_date - pd.Timedelta(days=C.SESSION_DAYS_BEFORE_COHORT)).to_numpy(),
            index=s.index,
        )
        last = m[["cohort_end_date", "end_date"]].max(axis=1)
        hi = pd.Series(
            (last + pd.Timedelta(days=C.SESSION_DAYS_AFTER_COHORT)).to_numpy(), index=s.index
        )
        bad = ((s.date < lo) | (s.date > hi)).fillna(False)
        if bad.any():
            out.add(
                src,
                _rows(s, bad),
                "date",
                s.date[bad],
                [
                    f"outside the plausible window for the pair's cohort ({a:%Y-%m-%d} to {b:%Y-%m-%d})"
                    for a, b in zip(lo[bad], hi[bad], strict=True)
                ],
            )


def _check_surveys(sv: pd.DataFrame, src: str, out: _Problems, today: pd.Timestamp) -> pd.DataFrame:
    """Type the value column by item kind (number, yes/no, free text) and check scales."""
    raw_value = sv["value"]
    item = sv["item"].astype("string")
    survey = sv["survey"].astype("string")
    is_text = item.isin(list(C.FREE_TEXT_ITEMS)) | item.str.endswith("_text")
    is_text = is_text.fillna(False)
    yes_no = pd.Series(False, index=sv.index)
    for s_name, i_name in C.YES_NO_ITEMS:
        yes_no |= ((survey == s_name) & (item == i_name)).fillna(False)

    text_col = sv["text"] if "text" in sv else pd.Series(pd.NA, index=sv.index, dtype="string")
    text_col = text_col.astype("string")
    if pd.api.types.is_numeric_dtype(raw_value):
        value = raw_value.astype(float)
        text = text_col.where(is_text)
    else:
        raw_text = raw_value.astype("string")
        text = text_col.where(text_col.notna(), raw_text).where(is_text)
        numeric = ~is_text & ~yes_no
        value = pd.Series(np.nan, index=sv.index)
        if numeric.any():
            v, bad, rule = _as_number(raw_value[numeric], integer=False)
            value[numeric] = v
            out.add(
                src,
                _rows(sv[numeric], bad),
                "value",
                raw_value[numeric][bad],
                rule + " (this item takes numbers)",
            )
        if yes_no.any():
            b, bad, rule = _as_bool(raw_value[yes_no])
            value[yes_no] = b.astype(float)
            out.add(src, _rows(sv[yes_no], bad), "value", raw_value[yes_no][bad], rule)
    value = value.where(~is_text)

    # scale bounds: the row's own, else the known default for (survey, item) or (survey, *)
    combos = pd.DataFrame({"survey": survey, "item": item}).drop_duplicates()
    bounds = [
        C.survey_scale(s, i) if pd.notna(s) and pd.notna(i) else None
        for s, i in zip(combos.survey, combos.item, strict=True)
    ]
    combos["dmin"] = [b[0] if b else np.nan for b in bounds]
    combos["dmax"] = [b[1] if b else np.nan for b in bounds]
    keyed = pd.MultiIndex.from_arrays([survey.fillna(""), item.fillna("")])
    cidx = pd.MultiIndex.from_arrays([combos.survey.fillna(""), combos["item"].fillna("")])
    pos = cidx.get_indexer(keyed)
    lo = pd.Series(combos.dmin.to_numpy()[pos], index=sv.index)
    hi = pd.Series(combos.dmax.to_numpy()[pos], index=sv.index)
    if "scale_min" in sv:
        lo = sv.scale_min.astype(float).where(sv.scale_min.notna(), lo)
    if "scale_max" in sv:
        hi = sv.scale_max.astype(float).where(sv.scale_max.notna(), hi)
    outside = ((value < lo) | (value > hi)).fillna(False)
    if outside.any():
        out.add(
            src,
            _rows(sv, outside),
            "value",
            value[outside],
            [
                f"outside the item's scale {a:g} to {b:g}"
                for a, b in zip(lo[outside], hi[outside], strict=True)
            ],
        )
    bad = sv.response_date > today
    out.add(
        src, _rows(sv, bad), "response_date", sv.response_date[bad], "response date in the future"
    )

    sv = sv.copy()
    sv["value"] = value.astype(float)
    sv["text"] = text.astype("string")
    return sv


def _check_skills(sk: pd.DataFrame, src: str, out: _Problems) -> None:
    bad = (sk.scale_min >= sk.scale_max).fillna(False)
    out.add(
        src, _rows(sk, bad), "scale_max", sk.scale_max[bad], "scale_max must be above scale_min"
    )
    bad = ((sk.score < sk.scale_min) | (sk.score > sk.scale_max)).fillna(False) & ~bad
    if bad.any():
        out.add(
            src,
            _rows(sk, bad),
            "score",
            sk.score[bad],
            [
                f"outside the scale {a:g} to {b:g}"
                for a, b in zip(sk.scale_min[bad], sk.scale_max[bad], strict=True)
            ],
        )


def _check_checkpoints(cp: pd.DataFrame, src: str, out: _Problems) -> None:
    bad = ((cp.checkpoint == "week6") & cp.goal_met.notna()).fillna(False)
    out.add(
        src,
        _rows(cp, bad),
        "goal_met",
        cp.goal_met[bad],
        "goal_met is recorded at the endpoint only; leave it blank at week6",
    )


def _check_outcomes(o: pd.DataFrame, src: str, out: _Problems) -> None:
    bad = o.employee_id.isna() & o.pair_id.isna() & o.unit.isna()
    out.add(
        src,
        _rows(o, bad),
        "employee_id",
        None,
        "each outcome names an employee_id, a pair_id or a unit",
    )


def _order_waves(sv: pd.DataFrame) -> pd.DataFrame:
    """Make ``wave`` an ordered categorical, ordered by each wave's median response date."""
    if len(sv) == 0 or sv["wave"].isna().all():
        return sv
    med = sv.groupby("wave", observed=True)["response_date"].median()
    order = sorted(
        med.index, key=lambda w: (med[w] if pd.notna(med[w]) else pd.Timestamp.max, natural_key(w))
    )
    sv = sv.copy()
    sv["wave"] = sv["wave"].cat.set_categories(order, ordered=True)
    return sv


def validate_raw(
    raws: dict[str, RawTable],
    *,
    date_format: str | None = None,
    level_order: Sequence[str] | None = None,
    today: pd.Timestamp | None = None,
) -> ValidationResult:
    """Type and validate raw tables; returns typed tables and every problem found."""
    today = (today or pd.Timestamp.today()).normalize()
    out = _Problems()
    tables: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    notes: list[dict] = []
    extras: dict[str, list[str]] = {}
    for name, raw in raws.items():
        spec = C.TABLES[name]
        out.items.extend(raw.problems)
        sources[name] = raw.source
        if raw.frame is None:
            continue
        if len(raw.frame) == 0 and spec.required:
            out.file(raw.source, "the table has a header but no rows")
        typed, extra = _type_table(raw, spec, out, date_format=date_format, level_order=level_order)
        tables[name] = typed
        extras[name] = extra
        notes.append(
            dict(
                table=name,
                stage="load",
                check="rows read",
                rows=len(typed),
                action="kept",
                detail=raw.source,
            )
        )
        if raw.blank_rows:
            notes.append(
                dict(
                    table=name,
                    stage="load",
                    check="blank lines",
                    rows=raw.blank_rows,
                    action="ignored",
                    detail="rows with every cell blank",
                )
            )
        if extra:
            notes.append(
                dict(
                    table=name,
                    stage="load",
                    check="extra columns",
                    rows=0,
                    action="kept",
                    detail="kept as covariates: " + ", ".join(extra),
                )
            )

    for name in C.TABLES:
        if C.TABLES[name].required and name not in raws:
            out.file(
                f"{name}.csv",
                f"required table {name!r} is missing (no {name}.csv, .csv.gz, .parquet or .xlsx, and no sheet named {name})",
            )

    _check_references(tables, sources, out)
    checks = {
        "employees": lambda f, s: _check_employees(f, s, out, today),
        "cohorts": lambda f, s: _check_cohorts(f, s, out),
        "pairs": lambda f, s: _check_pairs(f, tables, s, out),
        "control": lambda f, s: _check_control(f, tables, s, out),
        "sessions": lambda f, s: _check_sessions(f, tables, s, out, today),
        "skills": lambda f, s: _check_skills(f, s, out),
        "checkpoints": lambda f, s: _check_checkpoints(f, s, out),
        "outcomes": lambda f, s: _check_outcomes(f, s, out),
    }
    for name, check in checks.items():
        if name in tables and len(tables[name]):
            check(tables[name], sources[name])
    if "surveys" in tables:
        sv = _check_surveys(tables["surveys"], sources["surveys"], out, today)
        tables["surveys"] = _order_waves(sv)
        skipped = int((sv["value"].isna() & sv["text"].isna()).sum())
        if skipped:
            notes.append(
                dict(
                    table="surveys",
                    stage="load",
                    check="blank answers",
                    rows=skipped,
                    action="kept",
                    detail="counted as item non-response",
                )
            )
    return ValidationResult(tables=tables, problems=out.items, notes=notes, extra_columns=extras)
