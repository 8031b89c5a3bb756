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
from pandas._libs import lib

from ..errors import Problem
from . import contract as C
from .integrity import duplicate_header_problems
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

_TIME_SUFFIX = re.compile(r"^(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
# a time of day after a date in any format ("2/25/2024 14:03", "25.02.2024 2:03 PM")
_ANY_TIME_SUFFIX = re.compile(
    r"^(.*?\S)(?:,?[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*"
    r"(?:Z|[+-]\d{2}:?\d{2}|[A-Z]{3,4})?)$"
)
#: Date formats tried when the expected one fails on most rows (to name the fix).
DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%B %d, %Y",
    "%Y%m%d",
)
# whitespace next to a separator of the joined distinct values (see _all_trimmed)
_EDGE_SPACE = re.compile("\\s\x00|\x00\\s")
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
        self.unparsed: dict[tuple[str, str], np.ndarray] = {}
        """(table, column) -> rows whose cell could not be typed (not blank, but unreadable)."""

    def add(
        self, source: str, rows, column: str | None, values, rule, cause: str | None = None
    ) -> None:
        """Record one problem per row; ``values`` and ``rule`` may be per-row sequences."""
        rows = list(rows)
        if not rows:
            return
        vals = list(values) if values is not None else [None] * len(rows)
        rules = list(rule) if not isinstance(rule, str) else [rule] * len(rows)
        for r, v, text in zip(rows, vals, rules, strict=True):
            self.items.append(Problem(source, int(r), column, _fmt(v), text, cause))

    def file(
        self, source: str, rule: str, column: str | None = None, row: int | None = None
    ) -> None:
        self.items.append(Problem(source, row, column, None, rule))


def _fmt(v) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None if v is None else ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, float):
        return f"{v:.15g}"
    return str(v)


def natural_key(label: str) -> tuple:
    """Sort key that orders 'L2' before 'L10' and '2' before '10'.

    Examples
    --------
    >>> from rm_analytics.data.validation import natural_key
    >>> sorted(["L10", "L2", "L1"])
    ['L1', 'L10', 'L2']
    >>> sorted(["L10", "L2", "L1"], key=natural_key)
    ['L1', 'L2', 'L10']
    """
    parts = _DIGITS.split(str(label))
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in parts)


# ---------------------------------------------------------------------------------------------
# Typing one column.
#
# A text-like column (object, string or categorical; CSV cells and Parquet dictionary columns)
# is handled as codes into its distinct values: every parse, strip and lookup runs once per
# distinct value and the result is broadcast to the rows with one ``take``. Blank cells have
# code -1, so "is blank" is a comparison of integers, never a scan of strings.


@dataclass
class _Coded:
    """A column as ``codes`` (one per row, -1 = blank) into ``values`` (distinct, no blanks)."""

    codes: np.ndarray
    values: np.ndarray

    @property
    def na(self) -> np.ndarray:
        return self.codes < 0

    def take(self, per_value: np.ndarray, fill) -> np.ndarray:
        """Broadcast one result per distinct value to the rows; blanks get ``fill``."""
        return np.append(per_value, np.asarray([fill], dtype=per_value.dtype))[self.codes]

    def first_seen(self) -> np.ndarray:
        """Codes of the values in use, in order of first appearance."""
        u = pd.unique(self.codes)
        return u[u >= 0]

    def used(self) -> np.ndarray:
        """The values in use (a categorical may carry unused categories)."""
        return self.values[np.sort(self.first_seen())]

    def strings(self, index: pd.Index) -> pd.Series:
        """The column as pandas ``string`` (values must be str)."""
        arr = np.append(self.values, np.asarray([pd.NA], dtype=object))[self.codes]
        return pd.Series(_string_array(arr), index=index, copy=False)


_EMPTY_STRINGS = pd.array([], dtype="string")


def _string_array(arr: np.ndarray):
    """A pandas ``string`` array over an object array holding only str and ``pd.NA``.

    The values come from distinct values that were converted to str already, so the
    per-element check of the public constructor (a scan of every row) is skipped.
    """
    try:
        return _EMPTY_STRINGS._from_backing_data(arr)
    except AttributeError:  # pragma: no cover - other pandas versions
        return pd.array(arr, dtype="string")


def _is_text_like(s: pd.Series) -> bool:
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(s)
        or pd.api.types.is_string_dtype(s)
    )


def _encode(s: pd.Series) -> _Coded:
    """Codes and distinct values of a column (categoricals: free; others: one hash pass)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return _Coded(s.cat.codes.to_numpy(), np.asarray(s.cat.categories, dtype=object))
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return _Coded(codes, np.asarray(uniques, dtype=object))


def _encode_text(s: pd.Series) -> _Coded:
    """Like ``_encode`` with every value converted to text as ``Series.astype("string")``."""
    if not _is_text_like(s):
        s = s.astype("string")
    c = _encode(s)
    c.values = _as_str_values(c.values)
    return c


def _remap(c: _Coded, new_values: pd.Series | pd.Index) -> _Coded:
    """Replace each distinct value by ``new_values`` (NA = blank) and merge equal results."""
    remap, uniques = pd.factorize(pd.Series(new_values), use_na_sentinel=True)
    codes = np.append(remap, -1)[c.codes]
    return _Coded(codes, np.asarray(uniques, dtype=object))


def _as_str_values(values: np.ndarray) -> np.ndarray:
    """Distinct values converted to str as ``astype("string")`` does (object array)."""
    if len(values) == 0 or lib.is_string_array(values, skipna=False):
        return values
    return np.asarray(pd.array(values, dtype="string"), dtype=object)


def _strip_unique(u: pd.Index) -> pd.Series:
    text = pd.Series(u, dtype="string").str.strip()
    return text.mask(text == "")


def _clean_coded(s: pd.Series, strip: bool) -> _Coded:
    """Codes of the column as text; with ``strip``, trimmed and blank when empty."""
    if not strip:
        return _encode_text(s)
    if not _is_text_like(s):
        s = s.astype("string")
    c = _encode(s)
    values = _as_str_values(c.values)
    if values is c.values and _all_trimmed(values.tolist()):
        return c  # already clean: distinct, trimmed, none empty
    return _remap(c, _strip_unique(pd.Index(values, dtype=object)))


def _all_trimmed(values: list[str]) -> bool:
    """Whether no value is empty or starts or ends with whitespace (``v.strip() == v != ""``
    for all), in one join and one regex scan instead of a strip per value. A value holding the
    separator itself can only make this answer False, which sends it to the exact path."""
    if not values:
        return True
    joined = "\x00" + "\x00".join(values) + "\x00"
    return "\x00\x00" not in joined and _EDGE_SPACE.search(joined) is None


def _id_coded(s: pd.Series) -> _Coded:
    if pd.api.types.is_float_dtype(s):
        vals = s.to_numpy()
        finite = np.isfinite(vals)
        if np.all(np.mod(vals[finite], 1) == 0):
            s = s.astype("Int64")
    elif pd.api.types.is_bool_dtype(s):
        s = s.astype(object)
    return _clean_coded(s, strip=True)


def _sorted_categories(c: _Coded, order: Sequence[str] | None = None) -> tuple[_Coded, list]:
    """Recode to categories ``order``, or to the values in use sorted by ``natural_key``
    (ties broken by first appearance, as ``sorted`` of the column's unique values)."""
    if order is None:
        used = np.flatnonzero(np.bincount(c.codes[c.codes >= 0], minlength=len(c.values)))
        keys = [natural_key(v) for v in c.values[used].tolist()]
        if len(set(keys)) < len(keys):  # ties: the order of first appearance decides
            used = c.first_seen()
            keys = [natural_key(v) for v in c.values[used].tolist()]
        ranked = sorted(range(len(used)), key=keys.__getitem__)
        order = c.values[used[ranked]].tolist() if len(used) else []
    pos = pd.Index(order, dtype=object).get_indexer(pd.Index(c.values, dtype=object))
    return _Coded(np.append(pos, -1)[c.codes], np.asarray(order, dtype=object)), list(order)


@dataclass
class _Typed:
    """One typed column: the series, its blank cells, cells that failed typing, and codes."""

    series: pd.Series
    na: np.ndarray
    bad: np.ndarray | None = None
    rule: str = ""
    coded: _Coded | None = None


def _categorical(c: _Coded, categories: list, index: pd.Index, ordered: bool = False) -> pd.Series:
    cat = pd.Categorical.from_codes(c.codes, categories=categories, ordered=ordered)
    return pd.Series(cat, index=index, copy=False)


def _as_id(s: pd.Series) -> _Typed:
    c = _id_coded(s)
    return _Typed(c.strings(s.index), c.na, coded=c)


def _as_text(s: pd.Series, strip: bool) -> _Typed:
    c = _clean_coded(s, strip=strip)
    return _Typed(c.strings(s.index), c.na, coded=c)


def _as_category(s: pd.Series) -> _Typed:
    c, cats = _sorted_categories(_clean_coded(s, strip=True))
    return _Typed(_categorical(c, cats, s.index), c.na, coded=c)


def parse_dates(u: pd.Index, date_format: str | None) -> pd.Index:
    """Dates of text labels: ISO ``YYYY-MM-DD`` (a time of day after it is allowed) or
    ``date_format``; NaT where a label is not a date.

    Examples
    --------
    >>> import pandas as pd
    >>> from rm_analytics.data.validation import parse_dates
    >>> parse_dates(pd.Index(["2024-01-31", "2024-02-30"]), None)
    DatetimeIndex(['2024-01-31', 'NaT'], dtype='datetime64[ns]', freq=None)
    >>> parse_dates(pd.Index(["31/01/2024"]), "%d/%m/%Y")
    DatetimeIndex(['2024-01-31'], dtype='datetime64[ns]', freq=None)
    """
    text = pd.Series(u.astype(str), dtype=object).str.strip()
    if date_format:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
        miss = parsed.isna().to_numpy()
        if miss.any() and not re.search(r"%[HIMSpfzZTXc]", date_format):
            # a date-time is read as its date: "2/25/2024 14:03" with "%m/%d/%Y"
            head = text[miss].str.extract(_ANY_TIME_SUFFIX, expand=False)
            parsed[miss] = pd.to_datetime(head, format=date_format, errors="coerce").to_numpy()
        return pd.Index(parsed)
    head = text.str.slice(0, 10)
    tail_ok = text.str.slice(10).str.match(_TIME_SUFFIX)
    parsed = pd.to_datetime(head, format="%Y-%m-%d", errors="coerce")
    return pd.Index(parsed.where(tail_ok.astype(bool)))


def _as_date(s: pd.Series, date_format: str | None) -> _Typed:
    expected = date_format or "YYYY-MM-DD"
    rule = f"not a date in the expected format ({expected})"
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        out = s.dt.normalize().astype("datetime64[ns]")
        return _Typed(out, out.isna().to_numpy(), np.zeros(len(s), dtype=bool), rule)
    if _is_text_like(s):
        c = _encode(s)
        parsed = pd.Series(parse_dates(pd.Index(c.values, dtype=object), date_format))
        per_value = pd.to_datetime(parsed).dt.normalize().astype("datetime64[ns]").to_numpy()
        arr = c.take(per_value, np.datetime64("NaT"))
        na = np.isnat(arr)
        bad = ~c.na & na
    else:  # numbers are not dates
        arr = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")
        na = np.ones(len(s), dtype=bool)
        bad = s.notna().to_numpy()
    return _Typed(pd.Series(arr, index=s.index, copy=False), na, bad, rule)


def guess_date_formats(values: Sequence[str]) -> list[str]:
    """The formats of :data:`DATE_FORMATS` that read every one of ``values`` (a time of day
    after the date is allowed), best first; empty when none does.

    Examples
    --------
    >>> from rm_analytics.data.validation import guess_date_formats
    >>> guess_date_formats(["03/02/2024", "25/12/2023"])
    ['%d/%m/%Y']
    >>> guess_date_formats(["03/02/2024"])
    ['%m/%d/%Y', '%d/%m/%Y']

    ``25/12`` can only be day first; ``03/02`` alone could be either.
    """
    sample = pd.Index([str(v) for v in values][:500], dtype=object)
    if len(sample) == 0:
        return []
    fits = []
    for fmt in DATE_FORMATS:
        parsed = parse_dates(sample, fmt)
        if parsed.notna().all():
            fits.append(fmt)
    return fits


def _date_cause(
    src: str,
    column: str,
    bad_values: pd.Series,
    bad_rows: pd.Index,
    n_given: int,
    date_format: str | None,
    origin: str | None,
) -> str | None:
    """The root cause when a date format fails on most of a column: one sentence with the
    fix, or None when only a few cells are bad (then each row is its own problem)."""
    n_bad = len(bad_rows)
    if n_bad < 3 or n_bad * 2 < n_given:
        return None
    expected = f"'{date_format}'" if date_format else "YYYY-MM-DD"
    distinct = pd.unique(bad_values.astype(str).to_numpy())
    fits = guess_date_formats(distinct)
    example = f"row {int(bad_rows[0])} {str(bad_values.iloc[0])!r}"
    head = (
        f"{src}, column {column!r}: {n_bad:,} of {n_given:,} dates are not in the expected "
        f"format {expected} (e.g. {example})"
    )
    where = f" set in {origin}" if origin else ""
    if not fits:
        return f"{head}; no common date format reads them: check the column is a date"
    fmt = fits[0]
    ambiguous = [f for f in fits[1:] if sorted(f) == sorted(fmt)]
    also = (
        f" (or '{ambiguous[0]}': no day above 12 tells month-first from day-first; check "
        "with your HR system)"
        if ambiguous
        else ""
    )
    fix = (
        f'change date_format{where} to "{fmt}"'
        if origin
        else f"pass --date-format '{fmt}' (load_pilot(date_format=...)), or set "
        f'date_format: "{fmt}" for this table in a mapping file'
    )
    return f"{head}; they read as '{fmt}'{also}: {fix}"


def _parse_numbers(u: pd.Index) -> np.ndarray:
    parsed = pd.to_numeric(pd.Series(u.astype(str)).str.strip(), errors="coerce")
    return parsed.to_numpy(dtype=float, na_value=np.nan)


def _number_values(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values as float, cells not blank) of a column of numbers or text."""
    if pd.api.types.is_bool_dtype(s):
        s = s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        vals = s.to_numpy(dtype=float, na_value=np.nan)
        return vals, ~np.isnan(vals)
    c = _encode(s)
    return c.take(_parse_numbers(pd.Index(c.values, dtype=object)), np.nan), ~c.na


def _as_number(s: pd.Series, integer: bool) -> _Typed:
    vals, given = _number_values(s)
    bad = given & ~np.isfinite(vals)
    rule = "not a number"
    if integer:
        with np.errstate(invalid="ignore"):
            frac = ~np.isnan(vals) & (np.mod(np.where(np.isnan(vals), 0.0, vals), 1) != 0)
        if frac.any():
            bad = bad | frac
            rule = "not a whole number"
        out = pd.Series(np.where(bad, np.nan, vals), index=s.index).astype("Int64")
    else:
        out = pd.Series(np.where(bad, np.nan, vals), index=s.index)
    return _Typed(out, out.isna().to_numpy(), bad, rule)


def _as_choice(s: pd.Series, choices: Sequence[str]) -> _Typed:
    c = _encode(s)
    norm = (
        pd.Series(pd.Index(c.values, dtype=object).astype(str))
        .str.strip()
        .str.lower()
        .str.replace(" ", "_")
        .str.replace("-", "_")
    )
    pos = pd.Index(list(choices), dtype=object).get_indexer(norm)
    typed = _Coded(np.append(pos, -1)[c.codes], np.asarray(list(choices), dtype=object))
    bad = ~c.na & typed.na
    series = _categorical(typed, list(choices), s.index)
    return _Typed(series, typed.na, bad, "not one of " + ", ".join(choices), coded=typed)


_BOOL_RULE = "not yes/no (accepted: yes, no, true, false, y, n, 1, 0)"


def _bool_values(c: _Coded) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct value: (value, whether it is an accepted yes/no spelling)."""
    mapping = {t: True for t in C.TRUE_TOKENS} | {t: False for t in C.FALSE_TOKENS}
    norm = pd.Series(pd.Index(c.values, dtype=object).astype(str)).str.strip().str.lower()
    mapped = norm.map(mapping)
    known = mapped.notna().to_numpy()
    return mapped.where(known, False).to_numpy(dtype=bool), known


def _as_bool(s: pd.Series) -> _Typed:
    if pd.api.types.is_bool_dtype(s):
        out = s.astype("boolean")
        return _Typed(out, out.isna().to_numpy(), np.zeros(len(s), dtype=bool), "")
    c = _encode(s)
    value, known = _bool_values(c)
    ok = c.take(known, False)
    out = pd.arrays.BooleanArray(c.take(value, False), ~ok)
    return _Typed(pd.Series(out, index=s.index, copy=False), ~ok, ~c.na & ~ok, _BOOL_RULE)


#: Rule of a grade label that carries no number when no grade order is given.
WORD_GRADE_RULE = (
    "grade label without a number: the order of such grades is known only to the "
    "organisation; give all grades from lowest to highest (command line: --level-order "
    "L1,L2,...; Python: level_order=[...])"
)


def _as_level(s: pd.Series, level_order: Sequence[str] | None) -> _Typed:
    if level_order is None and isinstance(s.dtype, pd.CategoricalDtype) and s.dtype.ordered:
        level_order = [str(x) for x in s.dtype.categories]  # an ordered categorical says it
    c = _id_coded(s) if pd.api.types.is_float_dtype(s) else _clean_coded(s, strip=True)
    if level_order is not None:
        order = [str(x) for x in level_order]
        typed, cats = _sorted_categories(c, order)
        bad = ~c.na & typed.na
        rule = "not one of the levels given in level_order: " + ", ".join(order)
    else:
        typed, cats = _sorted_categories(c)
        # labels without a digit have no natural order (sorting them would be alphabetical):
        # each one is reported once, at its first row
        words = np.array([not _DIGITS.search(str(v)) for v in c.values], dtype=bool)
        first = np.zeros(len(s), dtype=bool)
        if words.any():
            seen = c.first_seen()
            rows = pd.Series(np.arange(len(s))).groupby(c.codes).first()
            first[[int(rows[k]) for k in seen if words[k]]] = True
        if first.any():
            bad, rule = first, WORD_GRADE_RULE
        else:  # numbered grades spelled in several schemes ("Level 4" with "L7")
            bad, rule = _mixed_level_spellings(c)
    series = _categorical(typed, cats, s.index, ordered=True)
    return _Typed(series, typed.na, bad, rule, coded=typed)


def level_spelling(label: str) -> str:
    """The spelling scheme of a grade label: lower case, every number replaced by ``#``
    (``L7`` -> ``l#``, ``Level 4`` -> ``level #``, ``Manager`` -> ``manager``).

    Examples
    --------
    >>> from rm_analytics.data.validation import level_spelling
    >>> level_spelling("L7"), level_spelling("Level 4"), level_spelling("Manager")
    ('l#', 'level #', 'manager')
    """
    return _DIGITS.sub("#", str(label).strip().lower())


def _mixed_level_spellings(c: _Coded) -> tuple[np.ndarray, str]:
    """Rows whose grade is spelled in another scheme than the most common one.

    Natural order (``L2 < L10``) ranks labels of one scheme only: "Level 4" against "L7",
    or Analyst against Manager, would be ranked by their letters. Such grades need an
    explicit ``level_order``; rows outside the most common scheme are the problems."""
    used = c.values
    if len(used) < 2:
        return np.zeros(len(c.codes), dtype=bool), ""
    schemes = pd.Series([level_spelling(v) for v in used.tolist()], dtype=object)
    if schemes.nunique() < 2:
        return np.zeros(len(c.codes), dtype=bool), ""
    counts = np.bincount(c.codes[c.codes >= 0], minlength=len(used))
    per_scheme = pd.Series(counts).groupby(schemes.to_numpy()).sum()
    per_scheme = per_scheme[per_scheme > 0]
    if len(per_scheme) < 2:
        return np.zeros(len(c.codes), dtype=bool), ""
    main = per_scheme.sort_values(ascending=False, kind="stable").index[0]
    main_examples = [v for v, sc in zip(used.tolist(), schemes, strict=True) if sc == main]
    others = [
        v for v, sc, k in zip(used.tolist(), schemes, counts, strict=True) if sc != main and k > 0
    ]
    bad_value = (schemes != main).to_numpy()
    shown = ", ".join(repr(v) for v in sorted(main_examples, key=natural_key)[:3])
    rule = (
        "grade labels are spelled in different ways (most rows: "
        f"{shown}; also {', '.join(repr(v) for v in others[:4])}"
        f"{' ...' if len(others) > 4 else ''}), so their order is unknown: give the grades "
        "from lowest to highest with level_order (--level-order, load_pilot(level_order=...) "
        "or level_order in a mapping file), or spell them one way"
    )
    return c.take(bad_value, False), rule


def _codes_of(t: pd.Series, coded: _Coded | None) -> _Coded:
    """Codes of a typed column for key checks (stored when typing, else computed)."""
    if coded is not None:
        return coded
    return _encode(t)


def _combined_key(parts: Sequence[_Coded], n: int) -> np.ndarray:
    """One int64 per row identifying the combination of the parts' values (blank = a value)."""
    key = np.zeros(n, dtype=np.int64)
    bound = 1
    for c in parts:
        width = len(c.values) + 1
        if bound * width >= 2**62:  # compress to dense codes before it could overflow
            codes, uniques = pd.factorize(key)
            key, bound = codes.astype(np.int64), max(len(uniques), 1)
        key *= width
        key += c.codes
        key += 1
        bound *= width
    return key


def _duplicated_all(key: np.ndarray) -> np.ndarray:
    """Rows whose key occurs more than once (``duplicated(keep=False)``), by sorting."""
    s = np.sort(key)
    repeated = s[1:][s[1:] == s[:-1]]
    if len(repeated) == 0:
        return np.zeros(len(key), dtype=bool)
    return np.isin(key, np.unique(repeated))


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


def _type_column(
    s: pd.Series,
    col: C.Column,
    table: str,
    *,
    date_format: str | None,
    level_order: Sequence[str] | None,
) -> _Typed:
    if col.kind == "id":
        return _as_id(s)
    if col.kind == "str":
        if (table, col.name) in CATEGORICAL_STR:
            return _as_category(s)
        return _as_text(s, strip=True)
    if col.kind == "text":
        return _as_text(s, strip=False)
    if col.kind == "date":
        return _as_date(s, date_format)
    if col.kind in ("int", "float"):
        return _as_number(s, integer=col.kind == "int")
    if col.kind == "choice":
        return _as_choice(s, col.choices or ())
    if col.kind == "bool":
        return _as_bool(s)
    if col.kind == "level":
        return _as_level(s, level_order)
    raise AssertionError(col.kind)  # pragma: no cover - contract kinds are closed


def _not_single_values(s: pd.Series, src: str, column: str, out: _Problems) -> bool:
    """Report the cells of a column that hold lists, dicts or arrays (not single values);
    False when there are none (the column failed for another reason)."""
    multi = np.fromiter(
        (isinstance(v, (list, tuple, dict, set, np.ndarray)) for v in s.tolist()),
        dtype=bool,
        count=len(s),
    )
    if not multi.any():
        return False
    out.add(
        src,
        s.index[multi],
        column,
        [str(v) for v in s[multi].tolist()],
        "the cell holds several values (a list or a mapping), not one value: write one value "
        "per cell",
    )
    return True


def _type_table(
    raw: RawTable,
    spec: C.Table,
    out: _Problems,
    *,
    date_format: str | None,
    level_order: Sequence[str] | None,
    coded: dict[tuple[str, str], _Coded],
) -> tuple[pd.DataFrame, list[str]]:
    """Type every column of one table; codes of text columns are left in ``coded``."""
    frame = raw.frame
    assert frame is not None
    src = raw.source
    header_row = 1 if not raw.typed else None
    frame = frame.copy(deep=False)  # the raw frame's columns are reused, never modified
    if raw.blank_rows:  # positions were kept when blank rows were dropped
        frame.index = pd.Index(frame.index + raw.first_row, name="row")
    else:
        frame.index = pd.RangeIndex(raw.first_row, raw.first_row + len(frame), name="row")
    index = frame.index

    # aliases
    present = set(frame.columns)
    for col in spec.columns:
        if col.name not in present:
            alias = next((a for a in col.aliases if a in present), None)
            if alias is not None:
                frame.columns = [col.name if c == alias else c for c in frame.columns]
                present = set(frame.columns)

    typed: dict[str, pd.Series] = {}
    n = len(frame)
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
            typed[col.name] = _empty_column(col, n, index, spec.name)
            if col.kind == "id":
                coded[(spec.name, col.name)] = _Coded(
                    np.full(n, -1, dtype=np.int8), np.array([], dtype=object)
                )
            continue
        s = frame[col.name]
        if spec.name == "surveys" and col.name == "value":
            typed[col.name] = s  # typed with the item's kind in _check_surveys
            continue
        try:
            r = _type_column(s, col, spec.name, date_format=date_format, level_order=level_order)
        except TypeError:  # unhashable cells: lists, dicts, arrays
            if not _not_single_values(s, src, col.name, out):
                raise
            typed[col.name] = _empty_column(col, n, index, spec.name)
            continue
        t = r.series
        bad = r.bad
        if bad is not None and bad.any():
            cause = None
            if col.kind == "date":
                out.unparsed[(spec.name, col.name)] = bad
                cause = _date_cause(
                    src,
                    col.name,
                    s[bad],
                    index[bad],
                    int((~r.na | bad).sum()),
                    date_format,
                    raw.date_format_origin,
                )
            out.add(src, index[bad], col.name, s[bad], r.rule, cause)
        if not col.nullable:
            missing = r.na & ~bad if bad is not None else r.na
            if missing.any():
                out.add(src, index[missing], col.name, None, "blank cell in a required column")
        if col.minimum is not None or col.maximum is not None:
            num = t.astype(float)
            bounds = []
            why = f" ({col.limit})" if col.limit else ""
            if col.minimum is not None:
                text = f"below the minimum of {C.format_bound(col.minimum)}{why}"
                bounds.append((num < col.minimum, text))
            if col.maximum is not None:
                text = f"above the maximum of {C.format_bound(col.maximum)}{why}"
                bounds.append((num > col.maximum, text))
            for mask, text in bounds:
                mask = mask.fillna(False).astype(bool)
                if mask.any():
                    m = mask.to_numpy()
                    out.add(src, index[m], col.name, s[m], text)  # the cell as in the file
        if col.unique:
            c = _codes_of(t, r.coded)
            counts = np.bincount(c.codes[c.codes >= 0], minlength=len(c.values))
            dup = c.take(counts > 1, False)
            if dup.any():
                rows = index[dup]
                out.add(
                    src,
                    rows,
                    col.name,
                    t[dup],
                    [
                        f"duplicate {col.name} ({'also' if first else 'first'} on row {other})"
                        for first, other in _duplicate_rows(pd.Series(rows), c.codes[dup])
                    ],
                )
        typed[col.name] = t
        if r.coded is not None:
            coded[(spec.name, col.name)] = r.coded

    extra = [c for c in frame.columns if c not in typed]
    result = pd.DataFrame(typed, index=index, copy=False)
    for c in extra:
        result[c] = frame[c]
    if spec.key:
        key = list(spec.key)
        parts = [_codes_of(result[k], coded.get((spec.name, k))) for k in key]
        dup = _duplicated_all(_combined_key(parts, n)) if n else np.zeros(0, dtype=bool)
        if dup.any():
            rows = result.index[dup]
            groups = [result.loc[dup, k].astype("string").fillna("<blank>").to_numpy() for k in key]
            out.add(
                src,
                rows,
                ", ".join(key),
                result.loc[dup, key].astype("string").fillna("").agg(" / ".join, axis=1),
                [
                    f"duplicate row ({'also' if first else 'first'} on row {other}; these "
                    "columns must be unique together)"
                    for first, other in _duplicate_rows(pd.Series(rows), groups)
                ],
            )
    return result, extra


def _duplicate_rows(rows: pd.Series, groups) -> list[tuple[bool, int]]:
    """For each row of a set of duplicates: (True, the set's next row) for its first row,
    (False, the set's first row) for the later ones, so no row is named its own duplicate."""
    first = rows.groupby(groups).transform("min")
    following = rows.where(rows != first).groupby(groups).transform("min")
    return [
        (True, int(n)) if r == f else (False, int(f))
        for r, f, n in zip(rows, first, following, strict=True)
    ]


# ---------------------------------------------------------------------------------------------
# Cross-column and cross-table rules


def _rows(frame: pd.DataFrame, mask) -> pd.Index:
    return frame.index[np.asarray(mask, dtype=bool)]


def _known_values(
    tables: dict[str, pd.DataFrame], coded: dict[tuple[str, str], _Coded], target: str, tcol: str
) -> set:
    """The distinct non-blank values of ``target.tcol`` as a set of str."""
    c = coded.get((target, tcol))
    if c is not None:
        return set(c.used().tolist())
    return set(tables[target][tcol].dropna().unique().tolist())


def _check_references(
    tables: dict[str, pd.DataFrame],
    sources: dict[str, str],
    out: _Problems,
    coded: dict[tuple[str, str], _Coded],
) -> None:
    known_sets: dict[tuple[str, str], set] = {}
    for name, frame in tables.items():
        spec = C.TABLES[name]
        for col in spec.columns:
            if not col.references or col.name not in frame:
                continue
            target, tcol = col.references
            if target not in tables:
                continue
            if col.references not in known_sets:
                known_sets[col.references] = _known_values(tables, coded, target, tcol)
            known = known_sets[col.references]
            vals = frame[col.name]
            mine = coded.get((name, col.name))
            if mine is not None:  # test each distinct value once
                values = mine.values.tolist()
                listed = np.fromiter(map(known.__contains__, values), dtype=bool, count=len(values))
                unknown = mine.take(~listed, False)
            else:
                unknown = (vals.notna() & ~vals.isin(list(known))).to_numpy()
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
    unreadable = out.unparsed.get(("employees", "termination_date"))
    if unreadable is not None:  # the unreadable date is the problem, reported already
        bad = bad & ~unreadable
    out.add(
        src,
        _rows(e, bad),
        "termination_type",
        e.termination_type[bad],
        "given but termination_date is blank",
    )
    bad = e.hire_date > today
    out.add(src, _rows(e, bad), "hire_date", e.hire_date[bad], "hire date in the future")
    earliest = C.EARLIEST_BIRTH_YEAR + C.MIN_WORKING_AGE
    bad = (e.hire_date.dt.year < earliest).to_numpy(dtype=bool)
    out.add(
        src,
        _rows(e, bad),
        "hire_date",
        e.hire_date[bad],
        f"hire date before {earliest} (plausibility: the earliest birth year "
        f"{C.EARLIEST_BIRTH_YEAR} plus the minimum working age {C.MIN_WORKING_AGE})",
    )
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
        young = ((e.hire_date.dt.year - by) < C.MIN_WORKING_AGE) & ~bad
        young = young.fillna(False).to_numpy(dtype=bool) & ~(e.hire_date.dt.year < earliest)
        if young.any():
            out.add(
                src,
                _rows(e, young),
                "hire_date",
                e.hire_date[young],
                [
                    f"hired at {int(y)} years or younger (birth_year {int(b)}): the minimum "
                    f"working age is {C.MIN_WORKING_AGE}"
                    for y, b in zip((e.hire_date.dt.year - by)[young], by[young], strict=True)
                ],
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


def _first_rows(e: pd.DataFrame, ids: _Coded | None):
    """A function giving, for a Series of employee ids, the hire and termination dates of
    each id's first row in ``e`` (as ``set_index("employee_id")``, dropping duplicates, then
    ``reindex``)."""
    dates = e[["hire_date", "termination_date"]]
    if ids is None:
        emp = dates.set_axis(pd.Index(e["employee_id"]))
        emp = emp[~emp.index.duplicated()]
        return lambda who: emp.reindex(who.to_numpy())
    codes, first_pos = np.unique(ids.codes, return_index=True)  # each id's first row
    first = np.full(len(ids.values) + 1, -1, dtype=np.int64)
    first[codes] = first_pos  # code -1 (blank) lands in the last slot
    lookup = dict(zip(ids.values.tolist(), first[:-1].tolist(), strict=True))
    blank = int(first[-1])  # blank ids match a blank employee_id, as in reindex
    hire = dates["hire_date"].to_numpy()
    term = dates["termination_date"].to_numpy()

    def find(who: pd.Series) -> pd.DataFrame:
        keys = who.to_numpy(dtype=object, na_value=None).tolist()
        rows = np.array([blank if k is None else lookup.get(k, -1) for k in keys], dtype=np.int64)
        ok = rows >= 0
        h = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[ns]")
        t = h.copy()
        h[ok], t[ok] = hire[rows[ok]], term[rows[ok]]
        return pd.DataFrame({"hire_date": h, "termination_date": t})

    return find


def _check_pairs_in_cohort(p: pd.DataFrame, c: pd.DataFrame, src: str, out: _Problems) -> None:
    """A pair's dates lie within its cohort: it starts between a few days before the cohort
    start and the cohort end, and ends at most a few months after the cohort end."""
    c = c.drop_duplicates("cohort_id").set_index("cohort_id")[["start_date", "end_date"]]
    m = c.reindex(p.cohort_id.astype(object).to_numpy())
    start = pd.Series(m.start_date.to_numpy(), index=p.index)
    end = pd.Series(m.end_date.to_numpy(), index=p.index)
    lo = start - pd.Timedelta(days=C.PAIR_DAYS_BEFORE_COHORT)
    hi = end + pd.Timedelta(days=C.PAIR_DAYS_AFTER_COHORT)
    bad = ((p.start_date < lo) | (p.start_date > end)).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        out.add(
            src,
            _rows(p, bad),
            "start_date",
            p.start_date[bad],
            [
                f"outside its cohort {k} ({a:%Y-%m-%d} to {b:%Y-%m-%d}): a pair starts at most "
                f"{C.PAIR_DAYS_BEFORE_COHORT} days before its cohort and not after its end"
                for k, a, b in zip(p.cohort_id[bad], start[bad], end[bad], strict=True)
            ],
        )
    bad = (p.end_date > hi).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        out.add(
            src,
            _rows(p, bad),
            "end_date",
            p.end_date[bad],
            [
                f"more than {C.PAIR_DAYS_AFTER_COHORT} days after the end of its cohort {k} "
                f"({b:%Y-%m-%d})"
                for k, b in zip(p.cohort_id[bad], end[bad], strict=True)
            ],
        )


def _check_pairs(
    p: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    src: str,
    out: _Problems,
    coded: dict[tuple[str, str], _Coded],
) -> None:
    bad = (p.mentor_id == p.mentee_id).fillna(False)
    out.add(
        src, _rows(p, bad), "mentee_id", p.mentee_id[bad], "mentor and mentee are the same person"
    )
    bad = p.end_date < p.start_date
    out.add(src, _rows(p, bad), "end_date", p.end_date[bad], "pair ends before it starts")
    if "cohorts" in tables:
        _check_pairs_in_cohort(p, tables["cohorts"], src, out)

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
        emp = _first_rows(tables["employees"], coded.get(("employees", "employee_id")))
        for role in ("mentor_id", "mentee_id"):
            m = emp(p[role])
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


def _survey_item_table(survey: pd.Series, item: pd.Series, n: int):
    """Per row: free-text item, yes/no item, default scale minimum and maximum.

    Computed once per (survey, item) pair of categories and broadcast through the codes.
    """
    s_cats = [str(x) for x in survey.cat.categories]
    i_cats = [str(x) for x in item.cat.categories]
    s_codes = survey.cat.codes.to_numpy()
    i_codes = item.cat.codes.to_numpy()
    width = len(i_cats) + 1
    is_text_item = np.array([False] + [C.is_free_text_item(i) for i in i_cats])
    is_text = is_text_item[i_codes.astype(np.intp) + 1]
    dense = (len(s_cats) + 1) * width <= 50_000  # few instruments and items: every pair
    dtype = np.int32 if dense else np.int64
    pair = (s_codes.astype(dtype) + 1) * width + (i_codes.astype(dtype) + 1)
    used = np.arange((len(s_cats) + 1) * width) if dense else pd.unique(pair)
    yes_no_u = np.zeros(len(used), dtype=bool)
    lo_u = np.full(len(used), np.nan)
    hi_u = np.full(len(used), np.nan)
    for j, code in enumerate(used.tolist()):
        sc, ic = divmod(code, width)
        if sc == 0 or ic == 0:  # a blank survey or item has no known scale
            continue
        s_name, i_name = s_cats[sc - 1], i_cats[ic - 1]
        yes_no_u[j] = (s_name, i_name) in C.YES_NO_ITEMS
        b = C.survey_scale(s_name, i_name)
        if b:
            lo_u[j], hi_u[j] = b
    pos = pair if dense else pd.Index(used).get_indexer(pair)
    return is_text, yes_no_u[pos], lo_u[pos], hi_u[pos]


def _check_surveys(
    sv: pd.DataFrame,
    src: str,
    out: _Problems,
    today: pd.Timestamp,
    coded: dict[tuple[str, str], _Coded],
) -> tuple[pd.DataFrame, np.ndarray]:
    """Type the value column by item kind (number, yes/no, free text) and check scales.

    Returns the typed table and the mask of rows without a text answer.
    """
    n = len(sv)
    raw_value = sv["value"]
    is_text, yes_no, lo, hi = _survey_item_table(sv["survey"], sv["item"], n)

    text_c = coded.get(("surveys", "text"))
    if text_c is None:
        text_c = _Coded(np.full(n, -1, dtype=np.int8), np.array([], dtype=object))
    if pd.api.types.is_numeric_dtype(raw_value):
        value = raw_value.to_numpy(dtype=float, na_value=np.nan).copy()
        text_codes = np.where(is_text, text_c.codes, -1)
        text_values = text_c.values
    else:
        raw_c = _encode(raw_value)
        vc = _Coded(raw_c.codes, _as_str_values(raw_c.values))
        # the answer's text: the text column, else the value cell (free-text items only)
        text_values = np.concatenate([text_c.values, vc.values])
        from_value = np.where(vc.codes >= 0, vc.codes + len(text_c.values), -1)
        text_codes = np.where(is_text, np.where(text_c.codes >= 0, text_c.codes, from_value), -1)
        numeric = ~is_text & ~yes_no
        value = np.full(n, np.nan)
        if numeric.any():
            nums = raw_c.take(_parse_numbers(pd.Index(raw_c.values, dtype=object)), np.nan)
            value[numeric] = nums[numeric]
            bad = numeric & ~raw_c.na & ~np.isfinite(nums)
            value[bad] = np.nan
            out.add(
                src,
                _rows(sv, bad),
                "value",
                raw_value[bad],
                "not a number (this item takes numbers)",
            )
        if yes_no.any():
            b, known = _bool_values(raw_c)
            ok = raw_c.take(known, False)
            value[yes_no] = np.where(ok, raw_c.take(b, False).astype(float), np.nan)[yes_no]
            bad = yes_no & ~raw_c.na & ~ok
            out.add(src, _rows(sv, bad), "value", raw_value[bad], _BOOL_RULE)
    value[is_text] = np.nan

    # scale bounds: the row's own, else the known default for (survey, item) or (survey, *)
    overridden = False
    if "scale_min" in sv:
        smin = sv.scale_min.to_numpy(dtype=float, na_value=np.nan)
        overridden = overridden or not np.isnan(smin).all()
        lo = np.where(np.isnan(smin), lo, smin)
    if "scale_max" in sv:
        smax = sv.scale_max.to_numpy(dtype=float, na_value=np.nan)
        overridden = overridden or not np.isnan(smax).all()
        hi = np.where(np.isnan(smax), hi, smax)
    if overridden:  # without a row's own scale, each item has its one default scale
        _check_item_scales(sv, src, out, value, lo, hi)
    unknown = np.isnan(lo) & np.isnan(hi)
    with np.errstate(invalid="ignore"):
        wild = unknown & (np.abs(value) > C.SCORE_LIMIT)
    if wild.any():
        out.add(
            src,
            _rows(sv, wild),
            "value",
            value[wild],
            f"outside -{C.SCORE_LIMIT} to {C.SCORE_LIMIT} (plausibility of an answer to an "
            "item without a known scale: no rating scale is wider)",
        )
    with np.errstate(invalid="ignore"):
        outside = (value < lo) | (value > hi)
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
    bad = (sv.response_date > today).to_numpy()
    out.add(
        src, _rows(sv, bad), "response_date", sv.response_date[bad], "response date in the future"
    )

    text = _Coded(text_codes, text_values)
    sv = sv.copy(deep=False)
    sv["value"] = value
    sv["text"] = text.strings(sv.index).array
    return sv, text.na


def _check_item_scales(
    sv: pd.DataFrame,
    src: str,
    out: _Problems,
    value: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> None:
    """Answers of one item (survey and item) given on a scale other than the item's usual
    one: averaging them would mix scales (a 1-5 index would read 10.8). The usual scale is
    the one of most answers; every other answer is a problem."""
    width = len(sv["item"].cat.categories) + 1
    item = (sv["survey"].cat.codes.to_numpy().astype(np.int64) + 1) * width + (
        sv["item"].cat.codes.to_numpy().astype(np.int64) + 1
    )
    own = np.zeros(len(sv), dtype=bool)  # rows with a scale of their own
    for c in ("scale_min", "scale_max"):
        if c in sv:
            own |= sv[c].notna().to_numpy(dtype=bool)
    answered = ~np.isnan(value) & ~(np.isnan(lo) & np.isnan(hi)) & np.isin(item, item[own])
    if not answered.any():
        return
    # NaN (no bound) as -inf so that equal scales compare equal
    f = pd.DataFrame(
        {
            "item": item[answered],
            "lo": np.nan_to_num(lo[answered], nan=-np.inf),
            "hi": np.nan_to_num(hi[answered], nan=-np.inf),
            "row": np.asarray(sv.index)[answered],
        }
    )
    counts = f.groupby(["item", "lo", "hi"], sort=False).size().rename("n").reset_index()
    if counts["item"].is_unique:
        return
    counts = counts.sort_values(["item", "n"], ascending=[True, False], kind="stable")
    usual = counts.drop_duplicates("item").set_index("item")[["lo", "hi"]]
    u = usual.reindex(f["item"].to_numpy())
    odd = (f["lo"].to_numpy() != u["lo"].to_numpy()) | (f["hi"].to_numpy() != u["hi"].to_numpy())
    first = f[~odd].groupby("item")["row"].min()
    b = f[odd]
    ub = u[odd]

    def show(x: float) -> str:
        return "?" if np.isinf(x) else f"{x:g}"

    rules = [
        f"this item's scale differs between rows: {show(a)} to {show(z)} here, "
        f"{show(ua)} to {show(uz)} on most rows (e.g. row {first[k]}); one item has one "
        "scale: rescale the answers, or give the other version its own item name"
        for a, z, ua, uz, k in zip(b["lo"], b["hi"], ub["lo"], ub["hi"], b["item"], strict=True)
    ]
    by_max = (b["hi"].to_numpy() != ub["hi"].to_numpy()) & ("scale_max" in sv)
    rules_a = np.asarray(rules, dtype=object)
    for col, mask, vals in (
        ("scale_max", by_max, b["hi"]),
        ("scale_min", ~by_max, b["lo"]),
    ):
        if mask.any():
            shown = [show(v) for v in vals[mask]]
            out.add(src, b["row"][mask], col, shown, rules_a[mask].tolist())


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


def _check_interventions(
    iv: pd.DataFrame, tables: dict[str, pd.DataFrame], src: str, out: _Problems, today: pd.Timestamp
) -> None:
    bad = (iv.date > today).to_numpy(dtype=bool)
    out.add(src, _rows(iv, bad), "date", iv.date[bad], "intervention date in the future")
    if "pairs" not in tables:
        return
    start = tables["pairs"].drop_duplicates("pair_id").set_index("pair_id").start_date
    began = pd.Series(start.reindex(iv.pair_id.to_numpy()).to_numpy(), index=iv.index)
    early = (iv.date < began).fillna(False).to_numpy(dtype=bool)
    if early.any():
        out.add(
            src,
            _rows(iv, early),
            "date",
            iv.date[early],
            [f"before the pair's start date {d:%Y-%m-%d}" for d in began[early]],
        )


def order_waves(sv: pd.DataFrame) -> pd.DataFrame:
    """Make ``wave`` an ordered categorical, ordered by each wave's median response date
    (the named pulse waves baseline < midpoint < endpoint always in that order).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> from rm_analytics.data.validation import order_waves
    >>> surveys = rm.load_sample().surveys
    >>> pulse = surveys[surveys.survey.eq("psych_safety")]
    >>> list(order_waves(pulse).wave.cat.categories[:4])
    ['baseline', 'midpoint', 'endpoint']
    """
    if len(sv) == 0 or sv["wave"].isna().all():
        return sv
    med = sv.groupby("wave", observed=True)["response_date"].median()
    order = sorted(
        med.index, key=lambda w: (med[w] if pd.notna(med[w]) else pd.Timestamp.max, natural_key(w))
    )
    # Pulse waves named baseline/midpoint/endpoint recur in every cohort, so their pooled
    # median dates can interleave; they keep their own order in the places they occupy.
    named = [i for i, w in enumerate(order) if w in C.PULSE_WAVES]
    for i, w in zip(named, sorted((order[i] for i in named), key=C.PULSE_WAVES.index), strict=True):
        order[i] = w
    sv = sv.copy(deep=False)
    sv["wave"] = sv["wave"].cat.set_categories(order, ordered=True)
    return sv


def validate_raw(
    raws: dict[str, RawTable],
    *,
    date_format: str | None = None,
    level_order: Sequence[str] | None = None,
    today: pd.Timestamp | None = None,
) -> ValidationResult:
    """Type and validate raw tables; returns typed tables and every problem found.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> import rm_analytics as rm
    >>> from rm_analytics.data.readers import find_tables, read_table
    >>> from rm_analytics.data.validation import validate_raw
    >>> folder = tempfile.TemporaryDirectory()
    >>> pilot = rm.load_sample()
    >>> files = pilot.save(folder.name)
    >>> found, problems, ignored = find_tables(folder.name)
    >>> raws = {name: read_table(name, file, sheet) for name, (file, sheet) in found.items()}
    >>> result = validate_raw(raws, today=pd.Timestamp("2026-09-30"))
    >>> result.problems
    []
    >>> result.tables["pairs"].dtypes[["pair_id", "status", "start_date"]]
    pair_id       string[python]
    status              category
    start_date    datetime64[ns]
    dtype: object
    >>> folder.cleanup()

    :func:`rm_analytics.load_pilot` does the same and raises
    :class:`~rm_analytics.DataValidationError` with every problem found.
    """
    today = (today or pd.Timestamp.today()).normalize()
    out = _Problems()
    tables: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    notes: list[dict] = []
    extras: dict[str, list[str]] = {}
    coded: dict[tuple[str, str], _Coded] = {}
    for name, raw in raws.items():
        spec = C.TABLES[name]
        out.items.extend(raw.problems)
        sources[name] = raw.source
        if raw.frame is None:
            continue
        names = [str(c) for c in raw.frame.columns]
        if len(set(names)) != len(names):  # a frame or mapped table naming a column twice
            out.items.extend(
                duplicate_header_problems(
                    raw.source,
                    [raw.headers.get(n, n) for n in names],
                    names,
                    None if raw.typed else 1,
                )
            )
            continue
        if len(raw.frame) == 0 and spec.required:
            out.file(raw.source, "the table has a header but no rows")
        typed, extra = _type_table(
            raw,
            spec,
            out,
            date_format=raw.date_format or date_format,
            level_order=raw.level_order if raw.level_order is not None else level_order,
            coded=coded,
        )
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

    _check_references(tables, sources, out, coded)
    checks = {
        "employees": lambda f, s: _check_employees(f, s, out, today),
        "cohorts": lambda f, s: _check_cohorts(f, s, out),
        "pairs": lambda f, s: _check_pairs(f, tables, s, out, coded),
        "control": lambda f, s: _check_control(f, tables, s, out),
        "sessions": lambda f, s: _check_sessions(f, tables, s, out, today),
        "skills": lambda f, s: _check_skills(f, s, out),
        "checkpoints": lambda f, s: _check_checkpoints(f, s, out),
        "outcomes": lambda f, s: _check_outcomes(f, s, out),
        "interventions": lambda f, s: _check_interventions(f, tables, s, out, today),
    }
    for name, check in checks.items():
        if name in tables and len(tables[name]):
            check(tables[name], sources[name])
    if "surveys" in tables:
        sv, no_text = _check_surveys(tables["surveys"], sources["surveys"], out, today, coded)
        tables["surveys"] = order_waves(sv)
        skipped = int((np.isnan(sv["value"].to_numpy()) & no_text).sum())
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
    if "employees" in tables and len(tables["employees"]):
        planned = int((tables["employees"].termination_date > today).sum())
        if planned:
            notes.append(
                dict(
                    table="employees",
                    stage="load",
                    check="planned termination after the analysis date",
                    rows=planned,
                    action="kept as employed",
                    detail=f"termination_date after today ({today:%Y-%m-%d}): a planned "
                    "leave, not an observed exit; employed at the analysis date",
                )
            )
    _follow_date_causes(out.items, sources)
    return ValidationResult(tables=tables, problems=out.items, notes=notes, extra_columns=extras)


def _follow_date_causes(items: list[Problem], sources: dict[str, str]) -> None:
    """Problems of dates in a table whose date format is wrong on most rows (the few dates
    that did parse are suspect: "in the future", "before hire", "not employed on the pair's
    start date") are attributed to that root cause, not listed as problems of their own."""
    from dataclasses import replace

    table_of = {src: name for name, src in sources.items()}
    causes: dict[str, str] = {}
    for p in items:
        if (
            p.cause
            and p.column
            and p.file in table_of
            and p.file not in causes
            and C.TABLES[table_of[p.file]].column(p.column).kind == "date"
        ):
            causes[p.file] = p.cause
    if not causes:
        return
    roster = causes.get(sources.get("employees", ""))
    for i, p in enumerate(items):
        if p.cause or p.file not in table_of:
            continue
        spec = C.TABLES[table_of[p.file]]
        cause = None
        if p.file in causes and p.column in spec.column_names:
            if spec.column(p.column).kind == "date" or p.column == "termination_type":
                cause = causes[p.file]
        elif roster and spec.name == "pairs" and "was not employed" in p.rule:
            cause = roster
        if cause:
            items[i] = replace(p, cause=cause)
