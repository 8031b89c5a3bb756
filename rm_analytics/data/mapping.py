"""The mapping file: HRIS and survey-tool exports (or warehouse queries) read as the data contract.

A YAML file says, per table, where the rows come from (a file relative to the mapping file, or
a query on the database named by ``source:``), which header holds each contract column, how
vendor values map to contract values, the table's date format and grade order, and how a wide
survey export (one row per respondent, one column per item) becomes the long ``surveys``
table. Tables the file does not name are read from its folder as without a mapping. See
``docs/your-data.md``.

The mapping is applied at the reader boundary: validation sees contract-shaped tables, and
its problems are translated back to the original file, the row as seen in that file and the
original header (or the query and its row). Mistakes of the mapping itself (a header that is
not in the file, a value left unmapped, an unknown key) raise :class:`MappingError` naming the
mapping file, the line and the entry. Nothing is dropped silently: a value without a mapping
is an error.

.. code-block:: python

    from rm_analytics import load_pilot

    pilot = load_pilot(config="hr-exports/rm-mapping.yaml")

(a runnable example, from the sample's files, is in :func:`starter_mapping`).
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataValidationError, Problem
from . import contract as C

if TYPE_CHECKING:
    import pandas as pd

    from .readers import RawTable

#: The name ``rm-analytics init`` writes and the docs use.
MAPPING_FILE = "rm-mapping.yaml"

TOP_KEYS = ("source", "tables", "date_format", "level_order")
LONG_KEYS = (
    "file",
    "sheet",
    "query",
    "table",
    "source",
    "encoding",
    "delimiter",
    "skip_rows",
    "date_format",
    "columns",
    "values",
    "level_order",
    "layout",
)
WIDE_KEYS = (
    "file",
    "sheet",
    "query",
    "table",
    "source",
    "encoding",
    "delimiter",
    "skip_rows",
    "date_format",
    "layout",
    "survey",
    "respondent_id",
    "response_date",
    "wave",
    "pair_id",
    "items",
    "values",
    "scale_min",
    "scale_max",
)


# ---------------------------------------------------------------------------------------------
# Errors


@dataclass(frozen=True)
class MappingProblem(Problem):
    """A mistake of the mapping file: ``file`` is the mapping file, ``column`` the entry
    (e.g. ``tables.employees.columns.termination_type``), ``line`` its line."""

    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line else "")
        entry = f" ({self.column})" if self.column else ""
        return f"{where}{entry}: {self.rule}"


class MappingError(DataValidationError):
    """The mapping file is wrong: each problem names the mapping file, line and entry (and,
    for a header or value, the file's real headers or the unmapped values)."""

    def format(self, per_rule: int | None = None) -> str:
        mine = [p for p in self.problems if isinstance(p, MappingProblem)]
        others = [p for p in self.problems if not isinstance(p, MappingProblem)]
        files = sorted({p.file for p in mine})
        n = len(mine)
        lines = [
            f"{n} problem{'s' if n != 1 else ''} in the mapping file {', '.join(files)} "
            "(fix these first; nothing was validated yet):"
        ]
        lines += [f"  - {p}" for p in mine]
        if others:
            lines.append(DataValidationError(others).format(per_rule))
        return "\n".join(lines)


class _Collector:
    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[Problem] = []

    def add(self, entry: str, line: int | None, rule: str, value: Any = None) -> None:
        shown = None if value is None else str(value)
        self.items.append(MappingProblem(self.name, None, entry, shown, rule, None, line))


def _did_you_mean(word: str, options: Sequence[str], n: int = 1) -> str:
    """`` ; did you mean 'X'?`` (matched on normalised spelling), or empty."""
    norm = {_norm(o): o for o in options}
    close = difflib.get_close_matches(_norm(word), list(norm), n=n, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(norm[c]) for c in close) + "?"


def _norm(text: object) -> str:
    """Spelling-insensitive form of a header or label: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]+", "", str(text).lower())


def _headers_text(headers: Sequence[str], limit: int = 40) -> str:
    shown = ", ".join(repr(h) for h in list(headers)[:limit])
    more = len(headers) - limit
    return shown + (f" and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------------------------
# YAML with line numbers


class _Dict(dict):
    line: int | None = None
    lines: dict


class _List(list):
    line: int | None = None
    lines: list


def _yaml_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        """Safe YAML whose mappings and sequences remember their lines; keys stay text as
        written, and only true/false are booleans (a Likert label "Yes" stays "Yes")."""

    Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )

    def mapping(loader, node):
        loader.flatten_mapping(node)
        d = _Dict()
        d.line = node.start_mark.line + 1
        d.lines = {}
        d.duplicates = []
        for k_node, v_node in node.value:
            if isinstance(k_node, yaml.ScalarNode):
                key = k_node.value
            else:
                key = str(loader.construct_object(k_node, deep=True))
            if key in d:
                d.duplicates.append((key, k_node.start_mark.line + 1))
            d[key] = loader.construct_object(v_node, deep=True)
            d.lines[key] = k_node.start_mark.line + 1
        return d

    def sequence(loader, node):
        seq = _List(loader.construct_object(n, deep=True) for n in node.value)
        seq.line = node.start_mark.line + 1
        seq.lines = [n.start_mark.line + 1 for n in node.value]
        return seq

    Loader.add_constructor("tag:yaml.org,2002:map", mapping)
    Loader.add_constructor("tag:yaml.org,2002:seq", sequence)
    return Loader


def _line(d: Any, key: Any = None) -> int | None:
    if key is not None and isinstance(getattr(d, "lines", None), dict):
        return d.lines.get(key, getattr(d, "line", None))
    return getattr(d, "line", None)


# ---------------------------------------------------------------------------------------------
# The parsed mapping


@dataclass
class Field:
    """A wide-survey field: a column of the export or a fixed value."""

    column: str | None = None
    value: str | None = None
    line: int | None = None
    entry: str = ""


@dataclass
class TableSpec:
    """One entry of ``tables:``: where one table (or one part of it) comes from."""

    table: str
    entry: str
    line: int | None
    file: Path | None = None
    sheet: str | None = None
    query: str | None = None
    source: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    skip_rows: int = 0
    date_format: str | None = None
    date_format_line: int | None = None
    layout: str = "long"
    columns: dict[str, str] = field(default_factory=dict)
    column_lines: dict[str, int | None] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    """contract column -> {normalised label: target}"""
    value_lines: dict[str, int | None] = field(default_factory=dict)
    level_order: list[str] | None = None
    level_order_line: int | None = None
    # wide surveys
    survey: Field | None = None
    respondent_id: Field | None = None
    response_date: Field | None = None
    wave: Field | None = None
    pair_id: Field | None = None
    items: dict[str, str] = field(default_factory=dict)
    item_lines: dict[str, int | None] = field(default_factory=dict)
    answers: dict[str | None, dict[str, float]] = field(default_factory=dict)
    """item code (None: every item) -> {normalised label: number}"""
    answers_line: int | None = None
    scale_min: float | None = None
    scale_max: float | None = None


@dataclass
class Mapping:
    """A parsed mapping file."""

    path: Path
    source: str | None = None
    source_line: int | None = None
    date_format: str | None = None
    date_format_line: int | None = None
    level_order: list[str] | None = None
    level_order_line: int | None = None
    tables: dict[str, list[TableSpec]] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def name(self) -> str:
        return self.path.name

    def origin(self, line: int | None, entry: str) -> str:
        """``rm-mapping.yaml, line 7 (tables.employees.date_format)``."""
        return f"{self.name}" + (f", line {line}" if line else "") + f" ({entry})"


def read_mapping(path: str | os.PathLike) -> Mapping:
    """Read and check a mapping file; :class:`MappingError` lists every mistake with its line.

    Examples
    --------
    >>> import tempfile
    >>> from rm_analytics.data.sample import save_sample_exports
    >>> folder = tempfile.TemporaryDirectory()
    >>> exports = save_sample_exports(folder.name)
    >>> from rm_analytics.data.mapping import MappingError, read_mapping, write_starter_mapping
    >>> mapping = read_mapping(write_starter_mapping(exports))
    >>> spec = mapping.tables["employees"][0]
    >>> spec.file.name, spec.columns["level"], spec.line
    ('workers.csv', 'Grade', 8)

    A mistake in the file is reported with its line:

    >>> bad = exports / "bad.yaml"
    >>> import yaml
    >>> _ = bad.write_text(yaml.safe_dump({"tables": {"employes": {"file": "workers.csv"}}}))
    >>> try:
    ...     read_mapping(bad)
    ... except MappingError as err:
    ...     print(err)
    1 problem in the mapping file bad.yaml (fix these first; nothing was validated yet):
      - bad.yaml, line 2 (tables.employes): unknown table 'employes'; did you mean 'employees'?
    (tables: employees, cohorts, pairs, control, sessions, surveys, skills, checkpoints, outcomes,
    interventions, costs)
    >>> folder.cleanup()
    """
    import yaml

    p = Path(path)
    out = _Collector(p.name)
    if not p.is_file():
        raise MappingError(
            [MappingProblem(p.name, None, None, None, f"no such mapping file: {p}", None, None)]
        )
    text = p.read_text(encoding="utf-8-sig")
    try:
        doc = yaml.load(text, Loader=_yaml_loader())  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc)
        out.add("", line, f"not valid YAML: {what}")
        raise MappingError(out.items) from None
    m = Mapping(path=p.resolve())
    if not isinstance(doc, dict):
        out.add("", 1, "the mapping file must be a YAML mapping with a 'tables:' entry")
        raise MappingError(out.items)
    _check_keys(doc, "", TOP_KEYS, out)
    if doc.get("source") is not None:
        m.source = str(doc["source"])
        m.source_line = _line(doc, "source")
    if "date_format" in doc:
        m.date_format = _date_format(
            doc["date_format"], "date_format", _line(doc, "date_format"), out
        )
        m.date_format_line = _line(doc, "date_format")
    if "level_order" in doc:
        m.level_order = _level_order(doc["level_order"], "level_order", doc, out)
        m.level_order_line = _line(doc, "level_order")
    tables = doc.get("tables")
    if tables is None:
        tables = _Dict()
    if not isinstance(tables, dict):
        out.add("tables", _line(doc, "tables"), "expected one entry per table (a mapping)")
        raise MappingError(out.items)
    for name, spec in tables.items():
        entry = f"tables.{name}"
        if name not in C.TABLES:
            out.add(
                entry,
                _line(tables, name),
                f"unknown table {name!r}{_did_you_mean(name, list(C.TABLES))} "
                f"(tables: {', '.join(C.TABLES)})",
            )
            continue
        parts = spec if isinstance(spec, list) else [spec]
        specs = []
        for i, part in enumerate(parts):
            e = f"{entry}[{i}]" if isinstance(spec, list) else entry
            line = (
                spec.lines[i] if isinstance(spec, _List) and i < len(spec.lines) else None
            ) or _line(tables, name)
            if not isinstance(part, dict):
                out.add(e, line, "expected a mapping with file: or query: (and columns: ...)")
                continue
            s = _parse_spec(name, part, e, line, m, out)
            if s is not None:
                specs.append(s)
        if specs:
            m.tables[name] = specs
    for key, line in getattr(doc, "duplicates", []):
        out.add(key, line, "this key is given twice; the last one would win")
    if out.items:
        raise MappingError(out.items)
    return m


def _check_keys(d: dict, entry: str, allowed: Sequence[str], out: _Collector) -> None:
    for key in d:
        if key not in allowed:
            out.add(
                f"{entry}.{key}" if entry else key,
                _line(d, key),
                f"unknown key {key!r}{_did_you_mean(key, allowed)} (keys here: {', '.join(allowed)})",
            )
    for key, line in getattr(d, "duplicates", []):
        out.add(f"{entry}.{key}" if entry else key, line, "this key is given twice")


def _date_format(value: Any, entry: str, line: int | None, out: _Collector) -> str | None:
    if not isinstance(value, str) or "%" not in value:
        out.add(entry, line, f'a date format needs strftime codes, e.g. "%m/%d/%Y"; got {value!r}')
        return None
    return value


def _level_order(value: Any, entry: str, parent: dict, out: _Collector) -> list[str] | None:
    line = _line(parent, entry.rsplit(".", 1)[-1])
    if not isinstance(value, list) or not value:
        out.add(entry, line, "expected the grades as a list, lowest first")
        return None
    order = [str(v) for v in value]
    dups = sorted({v for v in order if order.count(v) > 1})
    if dups:
        out.add(entry, line, f"grade(s) listed twice: {', '.join(dups)}")
    return order


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse_spec(
    table: str, d: dict, entry: str, line: int | None, m: Mapping, out: _Collector
) -> TableSpec | None:
    spec = TableSpec(table=table, entry=entry, line=line)
    layout = str(d.get("layout", "long"))
    if layout not in ("long", "wide"):
        out.add(f"{entry}.layout", _line(d, "layout"), f"layout is long or wide, not {layout!r}")
        return None
    if layout == "wide" and table != "surveys":
        out.add(f"{entry}.layout", _line(d, "layout"), "layout: wide is for surveys only")
        return None
    spec.layout = layout
    _check_keys(d, entry, WIDE_KEYS if layout == "wide" else LONG_KEYS, out)

    where = [k for k in ("file", "query", "table") if k in d]
    if len(where) != 1:
        out.add(
            entry,
            line,
            "give exactly one of file: (relative to the mapping file), query: or table: "
            f"(with a source:); found {', '.join(where) or 'none'}",
        )
        return None
    if "file" in d:
        f = Path(str(d["file"]))
        f = f if f.is_absolute() else m.folder / f
        if not f.is_file():
            near = [x.name for x in m.folder.iterdir() if x.is_file()] if m.folder.is_dir() else []
            out.add(
                f"{entry}.file",
                _line(d, "file"),
                f"no such file: {f}{_did_you_mean(f.name, near)}",
                d["file"],
            )
            return None
        spec.file = f
        spec.sheet = str(d["sheet"]) if d.get("sheet") is not None else None
    else:
        key = where[0]
        spec.source = str(d["source"]) if d.get("source") is not None else m.source
        if not spec.source:
            out.add(
                f"{entry}.{key}",
                _line(d, key),
                f"{key}: needs a database: add source: <SQLAlchemy URL> at the top of the "
                "mapping file (or in this entry)",
            )
            return None
        if key == "query":
            spec.query = str(d["query"])
        else:
            name = str(d["table"])
            if not re.fullmatch(r"[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*){0,2}", name):
                out.add(f"{entry}.table", _line(d, "table"), f"not a table name: {name!r}")
                return None
            spec.query = f"select * from {name}"
    if d.get("encoding") is not None:
        spec.encoding = str(d["encoding"])
    if d.get("delimiter") is not None:
        spec.delimiter = str(d["delimiter"])
        if len(spec.delimiter) != 1:
            out.add(
                f"{entry}.delimiter",
                _line(d, "delimiter"),
                f'a delimiter is one character (";", "\\t", "|"), not {spec.delimiter!r}',
            )
    if "skip_rows" in d:
        n = d["skip_rows"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            out.add(f"{entry}.skip_rows", _line(d, "skip_rows"), "expected a whole number >= 0")
        else:
            spec.skip_rows = n
    if "date_format" in d:
        spec.date_format = _date_format(
            d["date_format"], f"{entry}.date_format", _line(d, "date_format"), out
        )
        spec.date_format_line = _line(d, "date_format")
    elif m.date_format:
        spec.date_format, spec.date_format_line = m.date_format, m.date_format_line
    if layout == "wide":
        _parse_wide(spec, d, entry, out)
        return spec

    contract = C.TABLES[table]
    names = list(contract.column_names)
    cols = d.get("columns") or {}
    if not isinstance(cols, dict):
        out.add(f"{entry}.columns", _line(d, "columns"), "expected contract column: header")
        cols = {}
    for col, header in cols.items():
        e = f"{entry}.columns.{col}"
        if col not in names:
            out.add(
                e,
                _line(cols, col),
                f"{col!r} is not a column of the {table} table{_did_you_mean(col, names)} "
                f"(columns: {', '.join(names)}); other columns of the file are kept as they are",
            )
            continue
        if header is None or isinstance(header, (dict, list)):
            out.add(e, _line(cols, col), "expected the file's header for this column")
            continue
        spec.columns[col] = _text(header)
        spec.column_lines[col] = _line(cols, col)
    vals = d.get("values") or {}
    if not isinstance(vals, dict):
        out.add(f"{entry}.values", _line(d, "values"), "expected column: {target: [labels]}")
        vals = {}
    for col, targets in vals.items():
        e = f"{entry}.values.{col}"
        if col not in names:
            out.add(e, _line(vals, col), f"{col!r} is not a column of the {table} table")
            continue
        if not isinstance(targets, dict) or not targets:
            out.add(
                e,
                _line(vals, col),
                "expected target: [labels in the file], e.g. voluntary: [Resignation]",
            )
            continue
        spec.values[col] = _value_map(targets, contract.column(col), e, out)
        spec.value_lines[col] = _line(vals, col)
    if "level_order" in d:
        if "level" not in names:
            out.add(f"{entry}.level_order", _line(d, "level_order"), f"{table} has no level")
        else:
            spec.level_order = _level_order(d["level_order"], f"{entry}.level_order", d, out)
            spec.level_order_line = _line(d, "level_order")
    elif m.level_order and "level" in names:
        spec.level_order, spec.level_order_line = m.level_order, m.level_order_line
    return spec


def _value_map(targets: dict, col: C.Column, entry: str, out: _Collector) -> dict[str, Any]:
    """``{target: [labels]}`` -> ``{normalised label: target}``; targets checked for choices."""
    result: dict[str, Any] = {}
    for target, labels in targets.items():
        line = _line(targets, target)
        if col.kind == "choice" and target not in (col.choices or ()):
            out.add(
                f"{entry}.{target}",
                line,
                f"{target!r} is not a value of {col.name}{_did_you_mean(target, col.choices or ())}"
                f" (values: {', '.join(col.choices or ())})",
            )
            continue
        if col.kind == "bool" and str(target).lower() not in C.TRUE_TOKENS + C.FALSE_TOKENS:
            out.add(f"{entry}.{target}", line, f"{col.name} takes yes or no, not {target!r}")
            continue
        items = labels if isinstance(labels, list) else [labels]
        for label in items:
            if label is None or isinstance(label, (dict, list)):
                out.add(f"{entry}.{target}", line, "expected the labels as a list of text")
                continue
            key = _norm_label(label)
            if key in result and result[key] != target:
                out.add(
                    f"{entry}.{target}",
                    line,
                    f"{label!r} is mapped to both {result[key]!r} and {target!r}",
                )
            result[key] = target
    return result


def _norm_label(label: object) -> str:
    """Labels match ignoring case and surrounding or repeated spaces."""
    return " ".join(_text(label).split()).casefold()


def _field(
    d: dict, key: str, entry: str, out: _Collector, *, fixed: bool, required: bool
) -> Field | None:
    if key not in d or d[key] is None:
        if required:
            out.add(f"{entry}.{key}", _line(d), f"a wide survey export needs {key}:")
        return None
    v = d[key]
    line = _line(d, key)
    e = f"{entry}.{key}"
    if isinstance(v, dict):
        if set(v) == {"column"}:
            return Field(column=_text(v["column"]), line=line, entry=e)
        if set(v) == {"value"} and fixed:
            return Field(value=_text(v["value"]), line=line, entry=e)
        out.add(
            e, line, "expected a header, {column: header}" + (" or {value: ...}" if fixed else "")
        )
        return None
    if isinstance(v, (list,)):
        out.add(e, line, "expected a header" + (" or a fixed value" if fixed else ""))
        return None
    # a header when the file has it, else a fixed value (decided when the file is read)
    return Field(column=_text(v), value=_text(v) if fixed else None, line=line, entry=e)


def _parse_wide(spec: TableSpec, d: dict, entry: str, out: _Collector) -> None:
    spec.survey = _field(d, "survey", entry, out, fixed=True, required=True)
    spec.respondent_id = _field(d, "respondent_id", entry, out, fixed=False, required=True)
    spec.response_date = _field(d, "response_date", entry, out, fixed=True, required=True)
    spec.wave = _field(d, "wave", entry, out, fixed=True, required=True)
    spec.pair_id = _field(d, "pair_id", entry, out, fixed=False, required=False)
    items = d.get("items")
    if isinstance(items, list):
        lines = getattr(items, "lines", [None] * len(items))
        spec.items = {_text(h): _text(h) for h in items}
        spec.item_lines = {_text(h): ln for h, ln in zip(items, lines, strict=False)}
    elif isinstance(items, dict) and items:
        for code, header in items.items():
            if header is None or isinstance(header, (dict, list)):
                out.add(f"{entry}.items.{code}", _line(items, code), "expected a header")
                continue
            spec.items[str(code)] = _text(header)
            spec.item_lines[str(code)] = _line(items, code)
    else:
        out.add(
            f"{entry}.items",
            _line(d, "items") or _line(d),
            "a wide survey export needs items: {item code: header}, e.g. {eng1: Q1_1}",
        )
    vals = d.get("values")
    if vals is not None:
        spec.answers_line = _line(d, "values")
        if not isinstance(vals, dict):
            out.add(f"{entry}.values", spec.answers_line, "expected label: number")
        else:
            common: dict[str, float] = {}
            for label, number in vals.items():
                if isinstance(number, dict):  # per item: {recommend: {Yes: 1, No: 0}}
                    per = {}
                    for lab, num in number.items():
                        per[_norm_label(lab)] = _number(
                            num, f"{entry}.values.{label}.{lab}", _line(number, lab), out
                        )
                    spec.answers[str(label)] = per
                else:
                    common[_norm_label(label)] = _number(
                        number, f"{entry}.values.{label}", _line(vals, label), out
                    )
            if common:
                spec.answers[None] = common
    for key in ("scale_min", "scale_max"):
        if key in d:
            setattr(spec, key, _number(d[key], f"{entry}.{key}", _line(d, key), out))


def _number(v: Any, entry: str, line: int | None, out: _Collector) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        try:
            return float(str(v))
        except ValueError:
            out.add(entry, line, f"expected a number, got {v!r}")
            return float("nan")
    return float(v)


# ---------------------------------------------------------------------------------------------
# Applying the mapping


@dataclass
class _Origin:
    """Where the rows of one validated table came from, to name them in messages."""

    source: str
    first_row: int
    label: str
    """The file or query of a table read from one place (its rows keep their numbers)."""
    columns: dict[str, dict[str, str]]
    """label -> contract column -> header as written in that file"""
    labels: Any = None
    """per row position: label (None: every row is ``label``, numbered as in the file)"""
    rows: Any = None
    """per row position: row number in its file"""
    value_columns: Any = None
    """per row position: header the survey answer came from (wide exports)"""

    def where(self, row: int) -> tuple[str, int, int]:
        """(label, row in that file, position) of a validation row number."""
        pos = row - self.first_row
        if self.labels is None or not (0 <= pos < len(self.labels)):
            return self.label, row, -1
        return str(self.labels[pos]), int(self.rows[pos]), pos

    def column(self, name: str | None, label: str, pos: int) -> str | None:
        if not name:
            return name
        if name == "value" and self.value_columns is not None and pos >= 0:
            return str(self.value_columns[pos])
        cols = self.columns.get(label, {})
        return ", ".join(cols.get(c.strip(), c.strip()) for c in name.split(","))


_ROW_REF = re.compile(r"\brow (\d+)\b")


def translate(problems: Sequence[Problem], origins: dict[str, _Origin]) -> list[Problem]:
    """Problems of validation named as in the original files: file, row and header."""
    out: list[Problem] = []
    for p in problems:
        o = origins.get(p.file)
        if o is None:
            out.append(p)
            continue
        if p.row is None:
            label, row, pos = (o.label, None, -1)
        else:
            label, row, pos = o.where(p.row)

        def ref(m: re.Match, o=o, label=label) -> str:
            other, r, _ = o.where(int(m.group(1)))
            return f"row {r}" + ("" if other == label else f" of {other}")

        rule = _ROW_REF.sub(ref, p.rule) if o.labels is not None else p.rule
        column = o.column(p.column, label, pos)
        cause = p.cause
        if cause and p.column and column != p.column:
            cause = cause.replace(f"column {p.column!r}", f"column {column!r}", 1)
        if cause and o.labels is None:
            cause = cause.replace(p.file, label, 1)
        out.append(Problem(label, row, column, p.value, rule, cause))
    return out


@dataclass
class Loaded:
    """Raw tables of a mapping (and the folder), ready for validation."""

    raws: dict[str, RawTable]
    origins: dict[str, _Origin]
    notes: list[dict]
    problems: list[Problem]
    ignored: list[str]
    files: list[Path]
    queries: list[dict]

    def translate(self, problems: Sequence[Problem]) -> list[Problem]:
        return translate(problems, self.origins)


def load_raw(
    mapping: Mapping,
    data: str | os.PathLike | None = None,
    *,
    only: Sequence[str] | None = None,
) -> Loaded:
    """Read every table: the mapped ones as the mapping says, the others from ``data`` (default:
    the mapping file's folder). Mapping mistakes raise :class:`MappingError`.

    Examples
    --------
    >>> import tempfile
    >>> from rm_analytics.data.sample import save_sample_exports
    >>> folder = tempfile.TemporaryDirectory()
    >>> exports = save_sample_exports(folder.name)
    >>> from rm_analytics.data.mapping import load_raw, read_mapping, write_starter_mapping
    >>> loaded = load_raw(read_mapping(write_starter_mapping(exports)))
    >>> raw = loaded.raws["employees"]
    >>> raw.source, raw.frame.columns[:3].tolist()
    ('workers.csv', ['employee_id', 'hire_date', 'termination_date'])
    >>> folder.cleanup()

    The raw tables carry contract column names; :func:`rm_analytics.load_pilot` validates them.
    """
    from .readers import find_tables, read_table
    from .sources import Connections, resolve_file_url

    folder = Path(data) if data is not None else mapping.folder
    out = _Collector(mapping.name)
    loaded = Loaded({}, {}, [], [], [], [], [])
    wanted = [t for t in C.TABLES if only is None or t in only]
    with Connections(mapping.folder) as connections:
        for table in wanted:
            specs = mapping.tables.get(table)
            if not specs:
                continue
            parts = []
            unreadable = []
            for spec in specs:
                raw = _read_spec(spec, connections)
                if spec.file is not None:
                    loaded.files.append(spec.file)
                else:
                    loaded.queries.append(
                        {"table": table, "query": spec.query, "source": spec.source}
                    )
                if raw.problems or raw.frame is None:
                    loaded.problems.extend(raw.problems)
                    unreadable.append(raw.source)
                    continue
                part = _apply(spec, raw, mapping, out, loaded.notes)
                if part is not None:
                    parts.append(part)
            if unreadable:  # named already; the table is left out of validation (no cascade)
                from .readers import RawTable

                loaded.raws[table] = RawTable(table, None, " + ".join(unreadable), "", 1)
            elif parts and len(parts) == len(specs):
                raw, origin = _combine(table, parts)
                loaded.raws[table] = raw
                loaded.origins[raw.source] = origin
    if out.items:
        raise MappingError(out.items + loaded.problems)

    # the tables the mapping does not name: from the folder, as without a mapping
    found, problems, ignored = find_tables(folder)
    mapped = set(mapping.tables)
    own = {f.resolve() for f in loaded.files} | {mapping.path}
    for url in {s.source for specs in mapping.tables.values() for s in specs if s.source}:
        m = re.match(
            r"^(?:sqlite|duckdb)(?:\+\w+)?:///([^?]+)", resolve_file_url(url, mapping.folder)
        )
        if m:
            own.add(Path(m.group(1)).resolve())
    for p in problems:
        if not any(f"table {t!r}" in p.rule for t in mapped):
            loaded.problems.append(p)
    for name, (file, sheet) in found.items():
        if name in mapped or name not in wanted:
            if name in mapped and Path(file).resolve() not in own:
                loaded.notes.append(
                    dict(
                        table=name,
                        stage="load",
                        check=f"not read: {Path(file).name}",
                        rows=0,
                        action="ignored",
                        detail=f"the mapping file names where {name} comes from",
                    )
                )
            continue
        raw = read_table(name, file, sheet)
        if mapping.date_format:
            raw.date_format = mapping.date_format
            raw.date_format_origin = mapping.origin(mapping.date_format_line, "date_format")
        if mapping.level_order and name == "employees":
            raw.level_order = mapping.level_order
        loaded.raws[name] = raw
        loaded.files.append(Path(file))
    loaded.ignored = [f for f in ignored if (folder / f.split("[")[0]).resolve() not in own]
    return loaded


def _read_spec(spec: TableSpec, connections) -> RawTable:
    from .readers import read_table
    from .sources import read_query

    if spec.file is not None:
        raw = read_table(
            spec.table,
            str(spec.file),
            spec.sheet,
            encoding=spec.encoding,
            delimiter=spec.delimiter,
        )
    else:
        assert spec.query is not None and spec.source is not None
        raw = read_query(spec.table, spec.source, spec.query, connections)
    if raw.frame is not None and spec.skip_rows:
        raw.frame = raw.frame.loc[raw.frame.index >= spec.skip_rows]
    return raw


@dataclass
class _Part:
    spec: TableSpec
    raw: RawTable
    frame: pd.DataFrame
    columns: dict[str, str]
    rows: Any
    value_columns: Any = None


def _find_header(header: str, raw: RawTable) -> str | None:
    """The frame column holding ``header`` (as written, or spelled differently)."""
    from .readers import normalise_header

    frame_cols = list(raw.frame.columns)
    for norm, original in raw.headers.items():
        if original == header and norm in frame_cols:
            return norm
    n = normalise_header(header)
    if n in frame_cols:
        return n
    loose = [c for c in frame_cols if _norm(raw.headers.get(c, c)) == _norm(header)]
    return loose[0] if len(loose) == 1 else None


def _original_headers(raw: RawTable) -> list[str]:
    return [raw.headers.get(c, c) for c in raw.frame.columns]


def _missing_header(spec: TableSpec, raw: RawTable, entry: str, line, header: str, out) -> None:
    headers = _original_headers(raw)
    out.add(
        entry,
        line,
        f"{header!r} is not a column of {raw.source}{_did_you_mean(header, headers)} "
        f"(its columns: {_headers_text(headers)})",
        header,
    )


def _apply(
    spec: TableSpec, raw: RawTable, m: Mapping, out: _Collector, notes: list
) -> _Part | None:
    import numpy as np

    if spec.layout == "wide":
        return _apply_wide(spec, raw, m, out, notes)
    frame = raw.frame
    contract = C.TABLES[spec.table]
    before = len(out.items)
    rename: dict[str, str] = {}
    for col, header in spec.columns.items():
        found = _find_header(header, raw)
        if found is None:
            _missing_header(
                spec, raw, f"{spec.entry}.columns.{col}", spec.column_lines.get(col), header, out
            )
            continue
        rename[found] = col
    if len(out.items) > before:
        return None
    clash = {c: f"{c}_unmapped" for c in frame.columns if c in rename.values() and c not in rename}
    frame = frame.rename(columns={**clash, **rename})
    columns = {}
    for col in contract.columns:
        if col.name in frame.columns:
            src = next((k for k, v in rename.items() if v == col.name), col.name)
            columns[col.name] = raw.headers.get(src, src)
        else:
            alias = next((a for a in col.aliases if a in frame.columns), None)
            if alias is not None:
                columns[col.name] = raw.headers.get(alias, alias)
    missing = [
        c.name
        for c in contract.columns
        if c.required
        and c.name not in frame.columns
        and not any(a in frame.columns for a in c.aliases)
    ]
    for col in missing:
        headers = _original_headers(raw)
        guess = suggest_header(spec.table, col, headers) or near_header(spec.table, col, headers)
        hint = f"; did you mean {guess!r}?" if guess else ""
        out.add(
            f"{spec.entry}.columns",
            spec.line,
            f"no column for the required {col!r} in {raw.source}: add `{col}: <header>` under "
            f"columns{hint} (its columns: {_headers_text(headers)})",
        )
    frame = frame.copy(deep=False)
    for col, mapping in spec.values.items():
        e = f"{spec.entry}.values.{col}"
        if col not in frame.columns:
            out.add(e, spec.value_lines.get(col), f"{raw.source} has no column {col!r} to map")
            continue
        frame[col], n = _map_values(
            frame[col], mapping, raw, columns.get(col, col), e, spec.value_lines.get(col), out
        )
        notes.append(
            dict(
                table=spec.table,
                stage="load",
                check=f"values mapped: {col} ({raw.source})",
                rows=n,
                action="recoded",
                detail=f"by {m.origin(spec.value_lines.get(col), e)}",
            )
        )
    if spec.level_order is not None and "level" in frame.columns:
        _check_levels(frame["level"], spec, raw, columns.get("level", "level"), m, out)
        raw.level_order = spec.level_order
    if spec.date_format:
        raw.date_format = spec.date_format
        raw.date_format_origin = m.origin(spec.date_format_line, f"{spec.entry}.date_format")
    if rename:
        notes.append(
            dict(
                table=spec.table,
                stage="load",
                check=f"columns mapped ({raw.source})",
                rows=0,
                action="renamed",
                detail=", ".join(f"{raw.headers.get(k, k)} -> {v}" for k, v in rename.items()),
            )
        )
    rows = np.asarray(frame.index, dtype=np.int64) + raw.first_row
    return _Part(spec, raw, frame, columns, rows)


def _distinct(s: pd.Series):
    """(codes, distinct values) of a column, blanks as code -1."""
    import pandas as pd

    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(), list(s.cat.categories)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, list(uniques)


def _unmapped_text(raw: RawTable, rows, header: str) -> str:
    first = ", ".join(str(r) for r in rows[:3])
    return (
        f"{len(rows)} row(s) of {raw.source} (column {header!r}, first row"
        f"{'s' if len(rows) > 1 else ''} {first})"
    )


def _map_values(s, mapping: dict, raw: RawTable, header: str, entry: str, line, out):
    """Map a column's values; unmapped ones are errors (a value that already is a target
    passes). Returns the new column and the number of cells changed."""
    import numpy as np
    import pandas as pd

    codes, values = _distinct(s)
    targets = {_norm_label(t): t for t in set(mapping.values())}
    new = []
    bad = []
    for v in values:
        key = _norm_label(v)
        if key in mapping:
            new.append(mapping[key])
        elif key in targets:
            new.append(targets[key])
        else:
            new.append(None)
            bad.append(v)
    for v in bad:
        idx = values.index(v)
        rows = [int(s.index[i]) + raw.first_row for i in np.flatnonzero(codes == idx)]
        out.add(
            entry,
            line,
            f"{_text(v)!r} on {_unmapped_text(raw, rows, header)} is not mapped: add it under "
            f"one of {', '.join(map(str, dict.fromkeys(mapping.values())))}",
            v,
        )
    lookup = np.array(new + [None], dtype=object)
    mapped = pd.Series(lookup[codes], index=s.index, dtype=object)
    changed = int(
        sum(
            (codes == i).sum()
            for i, (a, b) in enumerate(zip(values, new, strict=True))
            if _text(a) != _text(b)
        )
    )
    return mapped, changed


def _check_levels(s, spec: TableSpec, raw: RawTable, header: str, m: Mapping, out) -> None:
    import numpy as np

    codes, values = _distinct(s)
    known = {_text(x) for x in spec.level_order or []}
    for i, v in enumerate(values):
        text = " ".join(_text(v).split())
        if text not in known:
            rows = [int(s.index[j]) + raw.first_row for j in np.flatnonzero(codes == i)]
            out.add(
                f"{spec.entry}.level_order",
                spec.level_order_line,
                f"grade {text!r} on {_unmapped_text(raw, rows, header)} is not in level_order: "
                "add it in its place (lowest first)",
                text,
            )


def _resolve_field(
    f: Field, raw: RawTable, out: _Collector, *, fixed: bool
) -> tuple[str | None, str | None]:
    """(frame column, fixed value) of a wide-survey field; a mistake is recorded."""
    if f.column is not None:
        found = _find_header(f.column, raw)
        if found is not None:
            return found, None
        if f.value is None or not fixed:
            _missing_header(None, raw, f.entry, f.line, f.column, out)
            return None, None
        headers = _original_headers(raw)
        near = difflib.get_close_matches(_norm(f.column), [_norm(h) for h in headers], 1, 0.8)
        if near:
            h = next(h for h in headers if _norm(h) == near[0])
            out.add(
                f.entry,
                f.line,
                f"{f.column!r} is not a column of {raw.source}; did you mean the column {h!r}? "
                f"(for a fixed value write {{value: {f.column}}})",
                f.column,
            )
            return None, None
    return None, f.value


def _apply_wide(
    spec: TableSpec, raw: RawTable, m: Mapping, out: _Collector, notes: list
) -> _Part | None:
    import numpy as np
    import pandas as pd

    frame = raw.frame
    before = len(out.items)
    fields = {}
    for name in ("respondent_id", "survey", "wave", "response_date", "pair_id"):
        f = getattr(spec, name)
        if f is None:
            continue
        fields[name] = _resolve_field(
            f, raw, out, fixed=name in ("survey", "wave", "response_date")
        )
    items = {}
    for code, header in spec.items.items():
        found = _find_header(header, raw)
        if found is None:
            _missing_header(
                spec, raw, f"{spec.entry}.items.{code}", spec.item_lines.get(code), header, out
            )
        else:
            items[code] = found
    if len(out.items) > before:
        return None
    n = len(frame)
    file_rows = np.asarray(frame.index, dtype=np.int64) + raw.first_row

    def column(name: str):
        col, value = fields.get(name, (None, None))
        if col is not None:
            return frame[col].to_numpy(dtype=object)
        return np.full(n, value, dtype=object)

    base = {name: column(name) for name in ("respondent_id", "survey", "wave", "response_date")}
    if "pair_id" in fields:
        base["pair_id"] = column("pair_id")
    columns = {
        name: raw.headers.get(fields[name][0], fields[name][0])
        for name in fields
        if fields[name][0] is not None
    }
    parts = []
    value_headers = []
    recoded = 0
    unmapped: dict[str, list] = {}
    for code, col in items.items():
        s = frame[col]
        header = raw.headers.get(col, col)
        answers = spec.answers.get(code) or spec.answers.get(None)
        if answers and not C.is_free_text_item(code):
            values, k = _map_answers(s, answers, code, raw, header, unmapped)
            recoded += k
        else:
            values = s.to_numpy(dtype=object)
        part = dict(base)
        part["item"] = np.full(n, code, dtype=object)
        part["value"] = values
        if spec.scale_min is not None:
            part["scale_min"] = np.full(n, spec.scale_min)
        if spec.scale_max is not None:
            part["scale_max"] = np.full(n, spec.scale_max)
        parts.append(pd.DataFrame(part))
        value_headers.append(header)
    for label, where in unmapped.items():
        headers = ", ".join(repr(h) for h, _ in where)
        rows = sorted({r for _, rs in where for r in rs})
        n_answers = sum(len(rs) for _, rs in where)
        out.add(
            f"{spec.entry}.values",
            spec.answers_line or spec.line,
            f"answer {label!r} is not mapped: {n_answers} answer(s) in column(s) {headers} of "
            f"{raw.source} (first rows {', '.join(map(str, rows[:3]))}); add it under values: "
            "with its number",
            label,
        )
    if len(out.items) > before:
        return None
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(base))
    for name in ("survey", "wave", "response_date"):
        col, value = fields.get(name, (None, None))
        if col is None and value is not None:
            notes.append(
                dict(
                    table="surveys",
                    stage="load",
                    check=f"fixed {name} ({raw.source})",
                    rows=len(long),
                    action="set",
                    detail=f"{value!r} from {m.origin(getattr(spec, name).line, getattr(spec, name).entry)}",
                )
            )
    notes.append(
        dict(
            table="surveys",
            stage="load",
            check=f"wide export ({raw.source})",
            rows=len(long),
            action="reshaped",
            detail=f"{n} respondent row(s) x {len(items)} item(s) -> one row per answer"
            + (f"; {recoded} answer label(s) recoded to numbers" if recoded else ""),
        )
    )
    if spec.date_format:
        raw.date_format = spec.date_format
        raw.date_format_origin = m.origin(spec.date_format_line, f"{spec.entry}.date_format")
    rows = np.tile(file_rows, len(items))
    value_columns = np.repeat(np.asarray(value_headers, dtype=object), n)
    return _Part(spec, raw, long, columns, rows, value_columns)


def _map_answers(s, answers: dict, code: str, raw, header: str, unmapped: dict):
    """Answer labels to numbers; numbers pass; yes/no items keep yes/no; the others are
    collected in ``unmapped`` (label -> [(header, rows)]) as errors."""
    import numpy as np
    import pandas as pd

    codes, values = _distinct(s)
    yes_no = code in {item for _, item in C.YES_NO_ITEMS}
    new: list[Any] = []
    changed = 0
    for i, v in enumerate(values):
        key = _norm_label(v)
        if key in answers:
            new.append(answers[key])
            changed += int((codes == i).sum())
            continue
        try:
            new.append(float(str(v).strip()))
            continue
        except ValueError:
            pass
        if yes_no and key in C.TRUE_TOKENS + C.FALSE_TOKENS:
            new.append(v)
            continue
        rows = [int(s.index[j]) + raw.first_row for j in np.flatnonzero(codes == i)]
        unmapped.setdefault(_text(v), []).append((header, rows))
        new.append(None)
    lookup = np.array(new + [None], dtype=object)
    return pd.Series(lookup[codes], dtype=object).to_numpy(dtype=object), changed


def _combine(table: str, parts: list[_Part]) -> tuple[RawTable, _Origin]:
    import numpy as np
    import pandas as pd

    from .readers import RawTable

    first = parts[0]
    labels = [p.raw.source for p in parts]
    columns = {p.raw.source: p.columns for p in parts}
    if len(parts) == 1 and first.spec.layout == "long":
        raw = first.raw
        raw.frame = first.frame
        return raw, _Origin(raw.source, raw.first_row, raw.source, columns)
    frames = [p.frame.reset_index(drop=True) for p in parts]
    with warnings.catch_warnings():  # all-blank columns (e.g. no pair ids) stay as they are
        warnings.simplefilter("ignore", FutureWarning)
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    for c in frame.columns:  # categoricals of different files concatenate as text
        if isinstance(frame[c].dtype, pd.CategoricalDtype):
            frame[c] = frame[c].astype(object)
    label = " + ".join(dict.fromkeys(labels))
    source = f"{table} ({label})"
    raw = RawTable(table, frame, source, "", first_row=1)
    formats = {p.raw.date_format for p in parts}
    if len(formats) == 1:
        raw.date_format = first.raw.date_format
        raw.date_format_origin = first.raw.date_format_origin
    elif formats:
        _per_part_dates(frame, parts, table)
    levels = [p.raw.level_order for p in parts if p.raw.level_order is not None]
    raw.level_order = levels[0] if levels else None
    raw.headers = {}
    per_row = np.concatenate([np.full(len(p.frame), p.raw.source, dtype=object) for p in parts])
    rows = np.concatenate([np.asarray(p.rows, dtype=np.int64) for p in parts])
    value_columns = None
    if any(p.value_columns is not None for p in parts):
        value_columns = np.concatenate(
            [
                p.value_columns
                if p.value_columns is not None
                else np.full(len(p.frame), p.columns.get("value", "value"), dtype=object)
                for p in parts
            ]
        )
    origin = _Origin(source, 1, label, columns, per_row, rows, value_columns)
    return raw, origin


def _per_part_dates(frame: pd.DataFrame, parts: list[_Part], table: str) -> None:
    """Exports of one table with different date formats: parse each part's dates with its
    own format into ISO text (unreadable cells stay as they were, for validation to name)."""
    import pandas as pd

    from .validation import parse_dates

    start = 0
    for p in parts:
        stop = start + len(p.frame)
        fmt = p.raw.date_format
        for col in C.TABLES[table].columns:
            if col.kind != "date" or col.name not in frame.columns or not fmt:
                continue
            cells = frame[col.name].iloc[start:stop]
            text = cells.astype(object).where(cells.notna(), None)
            parsed = pd.Series(
                parse_dates(pd.Index(text.fillna("").astype(str)), fmt), index=cells.index
            )
            iso = parsed.dt.strftime("%Y-%m-%d")
            frame.loc[cells.index, col.name] = iso.where(parsed.notna(), text).to_numpy()
        start = stop


def input_description(config: str | os.PathLike, data: str | os.PathLike | None = None) -> dict:
    """The files and queries a mapping reads (for a report's input fingerprint; database URLs
    with their passwords redacted)."""
    from .readers import find_tables
    from .sources import redact

    mapping = read_mapping(config)
    files = [mapping.path]
    queries = []
    for specs in mapping.tables.values():
        for s in specs:
            if s.file is not None:
                files.append(s.file)
            else:
                queries.append(
                    {"table": s.table, "query": s.query, "source": redact(s.source or "")}
                )
    found, _, _ = find_tables(Path(data) if data is not None else mapping.folder)
    files += [Path(f) for t, (f, _) in found.items() if t not in mapping.tables]
    return {"files": sorted(set(files)), "queries": queries, "root": mapping.folder}


# ---------------------------------------------------------------------------------------------
# Header suggestions (``rm-analytics init`` and "did you mean")

#: Header spellings of vendor exports per contract column (compared spelling-insensitively).
SYNONYMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("employees", "employee_id"): (
        "Employee ID",
        "Employee Number",
        "Worker ID",
        "Person ID",
        "Person Number",
        "User ID",
        "userId",
        "Associate ID",
        "Emp ID",
        "EEID",
        "Personnel Number",
        "Staff ID",
        "Employee #",
    ),
    ("employees", "hire_date"): (
        "Hire Date",
        "Original Hire Date",
        "Most Recent Hire Date",
        "Start Date",
        "Date of Hire",
        "Hire Dt",
        "Seniority Date",
        "Service Date",
        "Employment Start Date",
    ),
    ("employees", "termination_date"): (
        "Termination Date",
        "Term Date",
        "Date of Termination",
        "End Date",
        "Leave Date",
        "Last Day of Work",
        "Separation Date",
        "Exit Date",
        "Employment End Date",
    ),
    ("employees", "termination_type"): (
        "Termination Reason",
        "Termination Category",
        "Term Reason",
        "Termination Type",
        "Reason for Leaving",
        "Separation Reason",
        "Event Reason",
        "Primary Termination Reason",
        "Exit Reason",
        "Voluntary/Involuntary",
    ),
    ("employees", "department"): (
        "Department",
        "Supervisory Organization",
        "Division",
        "Business Unit",
        "Org Unit",
        "Organization",
        "Cost Center",
        "Team",
        "Function",
        "Dept",
    ),
    ("employees", "level"): (
        "Job Level",
        "Level",
        "Grade",
        "Pay Grade",
        "Job Grade",
        "Management Level",
        "Band",
        "Career Level",
        "Job Profile Level",
        "Grade Level",
        "Seniority Level",
    ),
    ("employees", "manager_id"): (
        "Manager ID",
        "Manager Employee ID",
        "Supervisor ID",
        "Reports To ID",
        "Manager",
        "Reports To",
        "Line Manager ID",
        "Manager User ID",
        "Manager Worker ID",
    ),
    ("employees", "birth_year"): ("Birth Year", "Year of Birth", "YOB"),
    ("employees", "annual_salary"): (
        "Annual Salary",
        "Base Salary",
        "Annual Base Pay",
        "Salary",
        "Total Base Pay",
        "Base Pay",
        "Annualized Base Salary",
    ),
    ("employees", "performance_rating"): (
        "Performance Rating",
        "Rating",
        "Last Performance Rating",
        "Performance Score",
        "Overall Rating",
    ),
    ("employees", "location"): ("Location", "Work Location", "Office", "Site", "Country"),
    ("cohorts", "cohort_id"): ("Cohort ID", "Cohort", "Program ID", "Wave ID"),
    ("cohorts", "start_date"): ("Start Date", "Kick-off Date", "Launch Date", "Begin Date"),
    ("cohorts", "end_date"): ("End Date", "Close Date", "Finish Date"),
    ("cohorts", "cadence_days"): ("Cadence Days", "Cadence", "Meeting Frequency Days"),
    ("cohorts", "planned_sessions"): ("Planned Sessions", "Number of Sessions", "Sessions"),
    ("pairs", "pair_id"): ("Pair ID", "Pair", "Match ID", "Pairing ID", "Mentorship ID"),
    ("pairs", "cohort_id"): ("Cohort ID", "Cohort", "Program ID"),
    ("pairs", "mentor_id"): ("Mentor ID", "Mentor", "Mentor Employee ID", "Junior ID"),
    ("pairs", "mentee_id"): (
        "Mentee ID",
        "Mentee",
        "Mentee Employee ID",
        "Senior ID",
        "Executive ID",
    ),
    ("pairs", "status"): ("Status", "Pair Status", "Match Status"),
    ("pairs", "start_date"): ("Start Date", "Match Date", "Pair Start"),
    ("pairs", "end_date"): ("End Date", "Pair End", "Close Date"),
    ("surveys", "respondent_id"): (
        "Respondent ID",
        "ExternalReference",
        "External Reference",
        "External Data Reference",
        "Employee ID",
        "Person ID",
        "User ID",
        "Participant ID",
        "Email",
    ),
    ("surveys", "response_date"): (
        "Response Date",
        "EndDate",
        "End Date",
        "RecordedDate",
        "Recorded Date",
        "Submitted At",
        "Submission Date",
        "Completed At",
        "Response Time",
        "Date",
    ),
    ("surveys", "wave"): ("Wave", "Survey Wave", "Cycle", "Survey Cycle", "Round", "Period"),
    ("surveys", "survey"): ("Survey", "Survey Name", "Instrument"),
    ("surveys", "pair_id"): ("Pair ID", "Pair", "Match ID"),
    ("surveys", "item"): ("Item", "Question", "Question ID", "Question Code"),
    ("surveys", "value"): ("Value", "Answer", "Score", "Response", "Rating"),
    ("sessions", "pair_id"): ("Pair ID", "Pair", "Match ID"),
    ("sessions", "date"): ("Date", "Session Date", "Meeting Date"),
    ("sessions", "duration_minutes"): ("Duration Minutes", "Duration", "Minutes", "Length"),
    ("sessions", "status"): ("Status", "Session Status", "Outcome"),
    ("skills", "employee_id"): ("Employee ID", "Person ID", "Worker ID", "Participant ID"),
    ("skills", "score"): ("Score", "Rating", "Assessment Score"),
    ("control", "employee_id"): ("Employee ID", "Person ID", "Worker ID"),
    ("outcomes", "employee_id"): ("Employee ID", "Person ID", "Worker ID"),
}


def suggest_header(table: str, column: str, headers: Sequence[str]) -> str | None:
    """The header of ``headers`` that most likely holds the contract column: its own name,
    then the vendor synonyms in order; None when nothing fits.

    Examples
    --------
    >>> from rm_analytics.data.mapping import suggest_header
    >>> suggest_header("employees", "hire_date", ["Worker ID", "Hire Date", "Dept"])
    'Hire Date'
    >>> suggest_header("employees", "employee_id", ["Worker ID", "Hire Date", "Dept"])
    'Worker ID'
    """
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(_norm(h), h)
    spec = C.TABLES[table].column(column)
    for name in (column, *spec.aliases, *SYNONYMS.get((table, column), ())):
        if _norm(name) in by_norm:
            return by_norm[_norm(name)]
    return None


# ---------------------------------------------------------------------------------------------
# A starter mapping from the headers found (``rm-analytics init --data DIR``)

#: Words in a file name that suggest its table.
TABLE_HINTS: dict[str, tuple[str, ...]] = {
    "employees": (
        "employee",
        "worker",
        "roster",
        "hris",
        "staff",
        "people",
        "headcount",
        "personnel",
    ),
    "cohorts": ("cohort", "program"),
    "pairs": ("pair", "match"),
    "control": ("control", "waitlist"),
    "sessions": ("session", "meeting"),
    "surveys": (
        "survey",
        "pulse",
        "engagement",
        "qualtrics",
        "glint",
        "cultureamp",
        "feedback",
        "response",
    ),
    "skills": ("skill", "assessment"),
    "checkpoints": ("checkpoint", "milestone"),
    "outcomes": ("outcome", "promotion"),
}

#: Termination reasons by keyword (checked in this order: "involuntary" contains "voluntary").
REASON_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "involuntary",
        (
            "involuntary",
            "dismiss",
            "layoff",
            "lay off",
            "redundan",
            "for cause",
            "misconduct",
            "performance",
            "eliminat",
            "reduction",
            "terminated",
            "fired",
        ),
    ),
    (
        "other",
        (
            "retire",
            "death",
            "deceased",
            "end of contract",
            "contract end",
            "fixed term",
            "fixed-term",
            "mutual",
            "transfer",
            "other",
        ),
    ),
    (
        "voluntary",
        (
            "voluntary",
            "resign",
            "quit",
            "abandon",
            "personal",
            "relocat",
            "better opportunity",
            "career",
            "left",
        ),
    ),
)

#: Word grades from lowest to highest (spelling-insensitive).
GRADE_WORDS = (
    "intern",
    "trainee",
    "apprentice",
    "junior",
    "associate",
    "analyst",
    "senior associate",
    "senior analyst",
    "specialist",
    "consultant",
    "senior consultant",
    "lead",
    "principal",
    "supervisor",
    "team lead",
    "assistant manager",
    "manager",
    "senior manager",
    "associate director",
    "director",
    "senior director",
    "vice president",
    "vp",
    "senior vice president",
    "svp",
    "executive vice president",
    "evp",
    "c-level",
    "executive",
    "chief",
)

#: Known answer scales: normalised label -> number.
LIKERT_SCALES: tuple[dict[str, int], ...] = (
    {
        "strongly disagree": 1,
        "disagree": 2,
        "neither agree nor disagree": 3,
        "agree": 4,
        "strongly agree": 5,
    },
    {
        "strongly disagree": 1,
        "disagree": 2,
        "somewhat disagree": 3,
        "neither agree nor disagree": 4,
        "somewhat agree": 5,
        "agree": 6,
        "strongly agree": 7,
    },
    {"very dissatisfied": 1, "dissatisfied": 2, "neutral": 3, "satisfied": 4, "very satisfied": 5},
    {"never": 1, "rarely": 2, "sometimes": 3, "often": 4, "always": 5},
)

SURVEY_NAMES = (
    ("engagement", ("engag",), "eng"),
    ("psych_safety", ("psych", "safety"), "ps"),
    ("retention_intent", ("retention", "intent", "stay"), "ri"),
    ("feedback", ("feedback",), ""),
)


def _classify_reason(value: str) -> str | None:
    v = value.lower()
    for target, words in REASON_WORDS:
        if any(w in v for w in words):
            return target
    return None


def _grade_rank(value: str) -> int | None:
    key = " ".join(re.sub(r"[^a-z ]+", " ", value.lower()).split())
    return GRADE_WORDS.index(key) if key in GRADE_WORDS else None


def _yaml_text(value: object) -> str:
    """A YAML scalar: plain when safe, else double-quoted."""
    text = str(value)
    if (
        re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ./()&'-]*", text)
        and text.strip() == text
        and (text.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "~"))
    ):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _read_for_init(path: Path) -> tuple[RawTable | None, str | None]:
    """The file's rows (text) and the delimiter when it is not a comma."""
    from .readers import read_table

    raw = read_table("employees", str(path))
    delimiter = None
    if raw.problems and "separated by" in raw.problems[0].rule:
        m = re.search(r'\("(.+?)"\)', raw.problems[0].rule)
        delimiter = "\t" if m and m.group(1) == "\\t" else (m.group(1) if m else None)
        raw = read_table("employees", str(path), delimiter=delimiter)
    if raw.problems and "UTF-8" in raw.problems[0].rule:
        raw = read_table("employees", str(path), encoding="cp1252", delimiter=delimiter)
        if raw.frame is not None:
            raw.encoding = "cp1252"  # type: ignore[attr-defined]
    return (raw if raw.frame is not None else None), delimiter


def _guess_table(stem: str, headers: list[str]) -> tuple[str | None, int]:
    best, score = None, 0
    name = _norm(stem)
    for table, spec in C.TABLES.items():
        s = sum(
            2 if c.required else 1 for c in spec.columns if suggest_header(table, c.name, headers)
        )
        if name == table or any(w in name for w in TABLE_HINTS.get(table, ())):
            s += 4
        if s > score:
            best, score = table, s
    return best, score


def _looks_wide_survey(stem: str, raw: RawTable) -> list[str]:
    """The item columns of a wide survey export (empty when the file is not one)."""
    headers = [raw.headers.get(c, c) for c in raw.frame.columns]
    if any(_norm(h) in ("item", "question") for h in headers):
        return []
    labels = {k for scale in LIKERT_SCALES for k in scale}
    items = []
    for c in raw.frame.columns:
        h = raw.headers.get(c, c)
        if re.fullmatch(r"(?i)q\d+(_\d+)*", h):
            items.append(h)
            continue
        vals = raw.frame[c].dropna().astype(str).head(2000)
        if len(vals) and vals.map(lambda v: _norm_label(v) in labels).mean() > 0.8:
            items.append(h)
    return items if len(items) >= 2 else []


def starter_mapping(folder: str | os.PathLike) -> str:
    """A mapping file (YAML text) proposed from the headers and values found in ``folder``.

    Examples
    --------
    A folder of exports: the sample in the contract's layout, except the roster, which comes
    from an HRIS with its own headers.

    >>> import tempfile
    >>> from rm_analytics.data.sample import save_sample_exports
    >>> folder = tempfile.TemporaryDirectory()
    >>> exports = save_sample_exports(folder.name)
    >>> from rm_analytics.data.mapping import starter_mapping
    >>> text = starter_mapping(exports)
    >>> for line in text.splitlines()[6:15]:
    ...     print(line)
    tables:
      employees:
        file: workers.csv
        columns:
          employee_id: Worker ID
          hire_date: Hire Date
          department: Department
          level: Grade
          manager_id: Manager ID
    >>> folder.cleanup()
    """
    from .contract import EXTENSIONS
    from .validation import guess_date_formats, natural_key

    folder = Path(folder)
    lines = [
        "# rm-analytics mapping file, proposed by `rm-analytics init` from the files in this folder.",
        "# Check every entry, fix the lines marked TODO, then run:",
        "#   rm-analytics validate --config " + MAPPING_FILE,
        "# Format: docs/your-data.md. Tables not named below are read from this folder as",
        "# <table>.csv (.parquet, .xlsx) in the data contract's layout.",
        "# source: postgresql://user@host/database   # optional: tables from SQL queries",
        "tables:",
    ]
    native, entries, unknown = [], {}, []
    for f in sorted(folder.iterdir()):
        name = f.name.lower()
        ext = next((e for e in EXTENSIONS if name.endswith(e)), None)
        if f.is_dir() or f.name.startswith(".") or ext is None:
            continue
        stem = f.name[: -len(ext)]
        raw, delimiter = _read_for_init(f)
        if raw is None:
            unknown.append(f"{f.name} (cannot read it)")
            continue
        headers = [raw.headers.get(c, c) for c in raw.frame.columns]
        if stem.lower() in C.TABLES and delimiter is None:
            required = [c for c in C.TABLES[stem.lower()].columns if c.required]
            if all(
                c.name in raw.frame.columns or any(a in raw.frame.columns for a in c.aliases)
                for c in required
            ):
                native.append(f.name)
                continue
        items = _looks_wide_survey(stem, raw)
        table, score = ("surveys", 99) if items else _guess_table(stem, headers)
        if table is None or score < 4:
            unknown.append(f.name)
            continue
        text = _init_entry(
            f, stem, raw, headers, table, items, delimiter, guess_date_formats, natural_key
        )
        entries.setdefault(table, []).append(text)
    for table in C.TABLES:
        parts = entries.get(table)
        if not parts:
            continue
        if len(parts) == 1:
            lines.append(f"  {table}:")
            lines += ["    " + ln if ln else "" for ln in parts[0]]
        else:
            lines.append(f"  {table}:   # several exports make one table")
            for p in parts:
                lines.append("  - " + p[0])
                lines += ["    " + ln if ln else "" for ln in p[1:]]
    if not entries:
        lines.append("  {}   # TODO: no vendor export recognised; name the tables' files here")
    for n in native:
        lines.append(f"# {n}: already in the data contract's layout, read as it is")
    for u in unknown:
        lines.append(f"# TODO {u}: not recognised as a table; add it under tables: if it is one")
    return "\n".join(lines) + "\n"


def _init_entry(
    f, stem, raw, headers, table, items, delimiter, guess_date_formats, natural_key
) -> list[str]:
    out = [f"file: {_yaml_text(f.name)}"]
    if delimiter:
        out.append(f'delimiter: "{chr(92) + "t" if delimiter == chr(9) else delimiter}"')
    if getattr(raw, "encoding", None):
        out.append(f"encoding: {raw.encoding}")
    frame = raw.frame
    col_of = {raw.headers.get(c, c): c for c in frame.columns}
    if items:
        return out + _init_wide(stem, raw, headers, items, col_of, guess_date_formats)
    spec = C.TABLES[table]
    found: dict[str, str] = {}
    used: set[str] = set()
    for col in spec.columns:
        h = suggest_header(table, col.name, [x for x in headers if x not in used])
        if h is not None:
            found[col.name] = h
            used.add(h)
    dates = [c.name for c in spec.columns if c.kind == "date" and c.name in found]
    fmts = None
    for col in dates:
        vals = frame[col_of[found[col]]].dropna().astype(str).unique()[:500]
        fits = guess_date_formats(list(vals)) if len(vals) else []
        if fits and fits[0] != "%Y-%m-%d":
            fmts = fits
            break
    if fmts:
        amb = [x for x in fmts[1:] if sorted(x) == sorted(fmts[0])]
        note = f"   # TODO check: '{amb[0]}' reads these dates too" if amb else ""
        out.append(f'date_format: "{fmts[0]}"{note}')
    out.append("columns:")
    for col in spec.columns:
        if col.name in found and found[col.name] == col.name:
            continue  # read as it is
        if col.name in found:
            out.append(f"  {col.name}: {_yaml_text(found[col.name])}")
        elif col.required:
            near = near_header(table, col.name, [h for h in headers if h not in used])
            hint = f"; did you mean {near!r}?" if near else ""
            out.append(f"  # TODO {col.name}: no column found{hint} (required)")
    values: list[str] = []
    for col in spec.columns:
        if col.kind != "choice" or col.name not in found:
            continue
        distinct = sorted(frame[col_of[found[col.name]]].dropna().astype(str).str.strip().unique())
        if all(v.lower().replace(" ", "_") in (col.choices or ()) for v in distinct):
            continue
        groups: dict[str, list[str]] = {}
        todo = []
        for v in distinct:
            target = _classify_reason(v) if col.name == "termination_type" else None
            if target is None and v.lower() in (col.choices or ()):
                target = v.lower()
            (groups.setdefault(target, []) if target else todo).append(v)
        values.append(f"  {col.name}:")
        for target in col.choices or ():
            if target in groups:
                values.append(f"    {target}: [{', '.join(_yaml_text(v) for v in groups[target])}]")
        if todo:
            values.append(f"    # TODO map: {', '.join(_yaml_text(v) for v in todo)}")
    if out[-1] == "columns:":
        out.pop()  # every header is the contract's own
    if values:
        out += ["values:"] + values
    if "level" in found:
        levels = [str(v).strip() for v in frame[col_of[found["level"]]].dropna().unique()]
        if levels and not any(re.search(r"\d", v) for v in levels):
            ranked = sorted(
                levels, key=lambda v: (_grade_rank(v) is None, _grade_rank(v) or 0, natural_key(v))
            )
            unknown = [v for v in levels if _grade_rank(v) is None]
            note = (
                f"   # TODO place: {', '.join(unknown)}" if unknown else "   # lowest first: check"
            )
            out.append(f"level_order: [{', '.join(_yaml_text(v) for v in ranked)}]{note}")
    return out


def _init_wide(stem, raw, headers, items, col_of, guess_date_formats) -> list[str]:
    out = ["layout: wide   # one row per respondent, one column per item"]
    survey, prefix = None, ""
    for name, words, pre in SURVEY_NAMES:
        if any(w in stem.lower() for w in words):
            survey, prefix = name, pre
            break
    out.append(f"survey: {survey}" if survey else "survey: engagement   # TODO: the instrument")
    frame = raw.frame
    if re.search(r'"ImportId"', " ".join(frame.iloc[:2].astype(str).agg(" ".join, axis=1))):
        out.append("skip_rows: 2   # Qualtrics: question text and ImportId rows under the header")
    rest = [h for h in headers if h not in items]
    for field_name in ("respondent_id", "response_date", "wave", "pair_id"):
        h = suggest_header("surveys", field_name, rest)
        if h is not None:
            rest.remove(h)
            out.append(f"{field_name}: {_yaml_text(h)}")
        elif field_name == "respondent_id":
            out.append("respondent_id: TODO   # the column with the employee id")
        elif field_name == "response_date":
            out.append("response_date: TODO   # the column with the date of the answer")
        elif field_name == "wave":
            out.append("wave: {value: baseline}   # TODO: a column, or this export's wave")
    codes = [f"{prefix}{i}" if prefix else _norm(h) or f"item{i}" for i, h in enumerate(items, 1)]
    out.append(
        "items: {"
        + ", ".join(f"{c}: {_yaml_text(h)}" for c, h in zip(codes, items, strict=True))
        + "}"
    )
    labels = set()
    for h in items:
        labels |= {_norm_label(v) for v in frame[col_of[h]].dropna().astype(str).unique()}
    labels = {v for v in labels if not re.fullmatch(r"-?\d+(\.\d+)?", v)}
    if labels:
        scale = next((s for s in LIKERT_SCALES if labels <= set(s)), None)
        originals = {}
        for h in items:
            for v in frame[col_of[h]].dropna().astype(str).unique():
                originals.setdefault(_norm_label(v), v.strip())
        if scale:
            pairs = sorted(
                ((originals.get(k, k), n) for k, n in scale.items() if k in labels),
                key=lambda x: x[1],
            )
            out.append("values: {" + ", ".join(f"{_yaml_text(k)}: {n}" for k, n in pairs) + "}")
        else:
            shown = ", ".join(f"{_yaml_text(originals.get(v, v))}: TODO" for v in sorted(labels))
            out.append("values: {" + shown + "}   # TODO: the number of each answer")
    return out


def write_starter_mapping(
    folder: str | os.PathLike, out: str | os.PathLike | None = None, *, force: bool = False
) -> Path:
    """Write :func:`starter_mapping` of ``folder`` to ``out`` (default ``folder/rm-mapping.yaml``);
    an existing file is replaced only with ``force``.

    Examples
    --------
    >>> import tempfile
    >>> from rm_analytics.data.sample import save_sample_exports
    >>> folder = tempfile.TemporaryDirectory()
    >>> exports = save_sample_exports(folder.name)
    >>> from rm_analytics.data.mapping import write_starter_mapping
    >>> path = write_starter_mapping(exports)
    >>> path.name
    'rm-mapping.yaml'
    >>> import rm_analytics as rm
    >>> rm.load_pilot(config=path, today="2026-09-30").employees.shape
    (1500, 12)
    >>> folder.cleanup()

    Check the proposal (lines marked TODO especially) before relying on it.
    """
    target = Path(out) if out is not None else Path(folder) / MAPPING_FILE
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists; pass --force to replace it")
    if not Path(folder).is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    target.write_text(starter_mapping(folder), encoding="utf-8")
    return target


def near_header(
    table: str, column: str, headers: Sequence[str], cutoff: float = 0.75
) -> str | None:
    """The header spelled most like the column's name or one of its synonyms (for "did you
    mean"), or None.

    Examples
    --------
    >>> from rm_analytics.data.mapping import near_header
    >>> near_header("employees", "hire_date", ["Worker ID", "Hir Date", "Dept"])
    'Hir Date'
    """
    names = [_norm(n) for n in (column, *SYNONYMS.get((table, column), ()))]
    best, score = None, cutoff
    for h in headers:
        for n in names:
            r = difflib.SequenceMatcher(None, _norm(h), n).ratio()
            if r > score:
                best, score = h, r
    return best
