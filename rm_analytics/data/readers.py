"""Reading and writing pilot tables: CSV, gzip CSV, Parquet and Excel.

Readers return the table as it is in the file (strings for CSV and Excel, the stored types
for Parquet) together with what validation needs to name a row the way a person would:
the file label and the offset between the DataFrame position and the row number.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Problem
from .contract import EXTENSIONS, MISSING_TOKENS, TABLES

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class RawTable:
    """A table as read from its file, before typing and validation."""

    name: str
    frame: pd.DataFrame | None
    source: str
    """How messages name the file, e.g. ``employees.csv`` or ``pilot.xlsx[employees]``."""
    path: str
    first_row: int
    """Row number of the first record as a person counts it (2 below a header row)."""
    typed: bool = False
    """True when the file stores types (Parquet); False when every cell is text."""
    problems: list[Problem] = field(default_factory=list)
    blank_rows: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    """Normalised column name -> the header as written in the file (for messages)."""
    date_format: str | None = None
    """Format of this table's dates (a mapping file's ``date_format``); None: the loader's."""
    date_format_origin: str | None = None
    """Where ``date_format`` was set (e.g. ``rm-mapping.yaml, line 7``), for messages."""
    level_order: list[str] | None = None
    """Grade order of this table (a mapping file's ``level_order``); None: the loader's."""


def normalise_header(name: object) -> str:
    return str(name).replace("\ufeff", "").strip().lower().replace(" ", "_").replace("-", "_")


def find_tables(
    path: str | os.PathLike,
) -> tuple[dict[str, tuple[str, str | None]], list[Problem], list[str]]:
    """Locate the file of each table.

    Returns ``(found, problems, ignored)`` where ``found`` maps a table name to
    ``(file path, sheet name or None)``, ``problems`` lists ambiguities and missing
    inputs, and ``ignored`` lists files in the folder that are not tables.
    """
    p = Path(path)
    found: dict[str, tuple[str, str | None]] = {}
    problems: list[Problem] = []
    ignored: list[str] = []
    if not p.exists():
        problems.append(Problem(str(p), None, None, None, "no such file or folder"))
        return found, problems, ignored
    if p.is_file():
        if p.suffix.lower() not in (".xlsx", ".xlsm"):
            problems.append(
                Problem(
                    p.name,
                    None,
                    None,
                    None,
                    "a single file must be an Excel workbook with one sheet per table; "
                    "otherwise pass the folder holding one file per table",
                )
            )
            return found, problems, ignored
        return _workbook_tables(p)

    by_table: dict[str, list[Path]] = {}
    for f in sorted(p.iterdir()):
        if f.name.startswith(".") or f.is_dir():
            continue
        name = f.name.lower()
        ext = next((e for e in EXTENSIONS if name.endswith(e)), None)
        stem = name[: -len(ext)] if ext else None
        if ext and stem in TABLES:
            by_table.setdefault(stem, []).append(f)
        else:
            ignored.append(f.name)
    workbooks = [f for f in ignored if f.lower().endswith(".xlsx")]
    if not by_table and len(workbooks) == 1:
        wb_found, wb_problems, _ = _workbook_tables(p / workbooks[0])
        ignored.remove(workbooks[0])
        return wb_found, wb_problems, ignored
    for table, files in by_table.items():
        if len(files) > 1:
            problems.append(
                Problem(
                    ", ".join(f.name for f in files),
                    None,
                    None,
                    None,
                    f"more than one file for table {table!r}; keep exactly one",
                )
            )
        else:
            found[table] = (str(files[0]), None)
    return found, problems, ignored


def _workbook_tables(p: Path) -> tuple[dict[str, tuple[str, str | None]], list[Problem], list[str]]:
    from openpyxl import load_workbook

    found: dict[str, tuple[str, str | None]] = {}
    ignored: list[str] = []
    try:
        wb = load_workbook(p, read_only=True)
        sheets = list(wb.sheetnames)
        wb.close()
    except Exception as exc:  # openpyxl raises many types for damaged files
        return (
            found,
            [Problem(p.name, None, None, None, f"cannot open the workbook: {exc}")],
            ignored,
        )
    for sheet in sheets:
        key = normalise_header(sheet)
        if key in TABLES:
            found[key] = (str(p), sheet)
        else:
            ignored.append(f"{p.name}[{sheet}]")
    return found, [], ignored


def read_table(
    name: str,
    path: str,
    sheet: str | None = None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> RawTable:
    """Read one table's file; problems with the file itself are in ``.problems``.

    ``encoding`` and ``delimiter`` apply to CSV files (default: UTF-8 and a comma).
    """
    lower = path.lower()
    label = Path(path).name if sheet is None else f"{Path(path).name}[{sheet}]"
    if sheet is not None or lower.endswith((".xlsx", ".xlsm")):
        return _read_excel(name, path, sheet, label)
    if lower.endswith(".parquet"):
        return _read_parquet(name, path, label)
    return _read_csv(name, path, label, encoding=encoding, delimiter=delimiter)


#: Separators recognised when a CSV file's header holds a single column.
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def _delimiter_problem(label: str, header_line: str, delimiter: str) -> Problem | None:
    """One problem naming the separator when a header splits into a single column only."""
    if delimiter in header_line:
        return None
    counts = {d: header_line.count(d) for d in (";", "\t", "|")}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        return None
    shown = "\\t" if best == "\t" else best
    expected = "commas" if delimiter == "," else f'"{delimiter}"'
    rule = (
        f'the columns are separated by {_OTHER_DELIMITERS[best]}s ("{shown}"), not by '
        f"{expected}: save the file as comma-separated CSV, or read it through a mapping file "
        f'with `delimiter: "{shown}"` (docs/your-data.md); no row of this file was checked'
    )
    return Problem(label, 1, None, None, rule, cause=f"{label}: {rule}")


def _encoding_problem(label: str, data: bytes, exc: UnicodeDecodeError) -> Problem:
    """Explain a decoding failure: where, which bytes, and what the file probably is."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        guess = "it starts with a UTF-16 byte-order mark; save it as UTF-8"
    else:
        try:
            data.decode("cp1252")
            guess = (
                "it decodes as Windows-1252 / Latin-1; save it as UTF-8, or read it through "
                "a mapping file with `encoding: cp1252` (docs/your-data.md)"
            )
        except UnicodeDecodeError:
            guess = "save it as UTF-8"
    row = data.count(b"\n", 0, exc.start) + 1
    bad = data[exc.start : exc.start + 4]
    rule = f"the file is not UTF-8 (bytes at offset {exc.start} cannot be decoded); {guess}"
    return Problem(label, row, None, bad.hex(" "), rule, cause=f"{label}, row {row}: {rule}")


def _read_csv(
    name: str,
    path: str,
    label: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> RawTable:
    import pandas as pd

    raw = RawTable(name, None, label, path, first_row=2)
    sep = delimiter or ","
    opener = gzip.open if path.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raw.problems.append(Problem(label, None, None, None, f"cannot read the file: {exc}"))
        return raw
    if not data[:65536].strip() and not data.strip():  # (strip copies: look at the start first)
        raw.problems.append(
            Problem(label, None, None, None, "the file is empty (no header, no rows)")
        )
        return raw
    frame = (
        _read_csv_fast(data, _contract_names(name), raw.headers)
        if encoding is None and sep == ","
        else None
    )
    if frame is not None:
        raw.frame, raw.blank_rows = _drop_blank_rows(frame)
        return raw
    try:
        text = data.decode(encoding or "utf-8-sig")
    except UnicodeDecodeError as exc:
        raw.problems.append(_encoding_problem(label, data, exc))
        return raw
    except LookupError:
        raw.problems.append(Problem(label, None, None, None, f"unknown encoding {encoding!r}"))
        return raw
    text = text.removeprefix("\ufeff")
    first_line = text[: text.find("\n") + 1 or None]
    header = next(csv.reader(io.StringIO(first_line), delimiter=sep), [])
    if len(header) == 1:
        wrong = _delimiter_problem(label, first_line, sep)
        if wrong is not None:
            raw.problems.append(wrong)
            return raw
    normalised = [normalise_header(h) for h in header]
    raw.headers = dict(
        zip(normalised, (h.replace("\ufeff", "").strip() for h in header), strict=True)
    )
    dups = sorted({h for h in normalised if normalised.count(h) > 1})
    for h in dups:
        raw.problems.append(
            Problem(label, 1, h, None, "the header names this column more than once")
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=list(MISSING_TOKENS),
            skip_blank_lines=False,
        )
    except pd.errors.ParserError as exc:
        raw.problems.append(Problem(label, None, None, None, f"not a readable CSV file: {exc}"))
        return raw
    frame.columns = normalised if not dups else [normalise_header(c) for c in frame.columns]
    raw.frame, raw.blank_rows = _drop_blank_rows(frame)
    return raw


def _read_csv_fast(
    data: bytes, wanted: set[str], headers: dict[str, str] | None = None
) -> pd.DataFrame | None:
    """Read CSV bytes with pyarrow's multi-threaded parser into categoricals.

    Gives the same cells as the pandas reader below (text, the missing tokens as blank) for
    well-formed files, and None for anything else -- an encoding error, a ragged or blank
    line, a header naming a column twice or no column -- which the pandas reader then reads
    and explains. Contract columns stay categoricals (validation works on distinct values);
    extra columns become object columns, as the pandas reader gives them.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    end = body.find(b"\n")
    try:
        first = body[: end + 1 if end >= 0 else None].decode("utf-8")
    except UnicodeDecodeError:
        return None
    header = next(csv.reader(io.StringIO(first)), [])
    normalised = [normalise_header(h) for h in header]
    if not header or "" in header or len(set(normalised)) != len(normalised):
        return None
    if len(header) == 1 and any(d in first for d in (";", "\t", "|")):
        return None  # probably another separator: the reader below names it
    try:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(use_threads=True),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                null_values=list(MISSING_TOKENS),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        if table.column_names != header or any(t != pa.string() for t in table.schema.types):
            return None
        columns = {}
        for h, norm in zip(header, normalised, strict=True):
            # one dictionary for the whole column: no merging of per-block dictionaries
            encoded = pc.dictionary_encode(table.column(h).combine_chunks())
            cat = _dictionary_to_categorical(pa.chunked_array([encoded]))
            columns[norm] = cat if norm in wanted else np.asarray(cat, dtype=object)
    except (pa.ArrowException, ValueError, OverflowError):
        return None
    if headers is not None:
        headers.update(zip(normalised, (h.strip() for h in header), strict=True))
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows), copy=False)


def _drop_blank_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Remove rows with every cell blank, keeping the index as the file position."""
    if frame.shape[1] == 0 or len(frame) == 0:
        return frame, 0
    blank = frame.isna().all(axis=1)
    n = int(blank.sum())
    return (frame.loc[~blank] if n else frame), n


def _contract_names(name: str) -> set[str]:
    """Header names (normalised) of a table's contract columns and their aliases."""
    spec = TABLES[name]
    return {n for c in spec.columns for n in (c.name, *c.aliases)}


def _read_parquet(name: str, path: str, label: str) -> RawTable:
    import pandas as pd

    raw = RawTable(name, None, label, path, first_row=1, typed=True)
    try:
        frame = _read_parquet_fast(path, _contract_names(name))
    except Exception:  # anything unusual: the plain read below decides and explains
        frame = None
    if frame is None:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types
            raw.problems.append(
                Problem(label, None, None, None, f"not a readable Parquet file: {exc}")
            )
            return raw
    raw.headers = {normalise_header(c): str(c) for c in frame.columns}
    frame.columns = [normalise_header(c) for c in frame.columns]
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0:
        frame = frame.reset_index(drop=True)
    raw.frame = frame
    return raw


def _read_parquet_fast(path: str, wanted: set[str]) -> pd.DataFrame | None:
    """Read a Parquet file with its text columns of the contract as categoricals.

    Text columns are read dictionary-encoded, so validation works on each distinct value
    once and no Python string is made per row. The other columns are read as
    ``pandas.read_parquet`` reads them. Returns None when no column qualifies.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    names = [n for n in schema.names if not n.startswith("__index_level_")]
    if len(set(names)) != len(names):
        return None
    text = [
        f.name
        for f in schema
        if f.name in names
        and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        and normalise_header(f.name) in wanted
    ]
    if not text:
        return None
    table = pq.read_table(path, columns=text, read_dictionary=text, use_pandas_metadata=False)
    columns = {n: _dictionary_to_categorical(table.column(n)) for n in text}
    rest = [n for n in names if n not in columns]
    if rest:
        other = pd.read_parquet(path, columns=rest).reset_index(drop=True)
        columns.update({n: other[n] for n in rest})
    n_rows = table.num_rows
    frame = pd.DataFrame({n: columns[n] for n in names}, index=pd.RangeIndex(n_rows), copy=False)
    return frame


def _dictionary_to_categorical(col):
    """A dictionary-encoded Arrow column as a pandas Categorical (no string per row).

    Chunks of one Parquet row group share their dictionary; only distinct dictionaries are
    merged, so a column of millions of values hashes only its distinct values.
    """
    import numpy as np
    import pandas as pd

    dictionaries: list = []
    which: list[int] = []
    for chunk in col.chunks:
        d = chunk.dictionary
        if d.null_count:
            raise ValueError("null in a Parquet dictionary")
        if not (dictionaries and d.equals(dictionaries[-1])):
            dictionaries.append(d)
        which.append(len(dictionaries) - 1)
    values = [d.to_numpy(zero_copy_only=False).astype(object) for d in dictionaries]
    if len(values) == 1:
        categories = values[0]
        maps = [None]
    elif values:
        codes_all, uniques = pd.factorize(np.concatenate(values))
        categories = np.asarray(uniques, dtype=object)
        bounds = np.cumsum([0] + [len(v) for v in values])
        maps = [
            np.append(codes_all[a:b], -1).astype(np.int32)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
    else:
        categories, maps = np.array([], dtype=object), []
    parts = []
    for chunk, k in zip(col.chunks, which, strict=True):
        idx = chunk.indices.fill_null(-1).to_numpy()
        parts.append(idx if maps[k] is None else maps[k][idx])
    codes = np.concatenate(parts) if parts else np.array([], dtype=np.int32)
    dtype = pd.CategoricalDtype(pd.Index(categories, dtype=object))
    return pd.Categorical.from_codes(codes, dtype=dtype)


def _read_excel(name: str, path: str, sheet: str | None, label: str) -> RawTable:
    import pandas as pd

    raw = RawTable(name, None, label, path, first_row=2)
    try:
        frame = pd.read_excel(
            path,
            sheet_name=sheet if sheet is not None else 0,
            dtype=str,
            keep_default_na=False,
            na_values=list(MISSING_TOKENS),
            engine="openpyxl",
        )
    except Exception as exc:
        raw.problems.append(Problem(label, None, None, None, f"cannot read the sheet: {exc}"))
        return raw
    if frame.shape[1] == 0:
        raw.problems.append(
            Problem(label, None, None, None, "the sheet is empty (no header, no rows)")
        )
        return raw
    raw.headers = {normalise_header(c): str(c).strip() for c in frame.columns}
    frame.columns = [normalise_header(c) for c in frame.columns]
    raw.frame, raw.blank_rows = _drop_blank_rows(frame)
    return raw


# ---------------------------------------------------------------------------------------------
# Writing


def to_contract_frame(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A typed table converted to plain file values (ISO dates, yes/no booleans, text)."""
    import pandas as pd

    out = frame.reset_index(drop=True).copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.astype("string")
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%d").astype("string")
        elif pd.api.types.is_bool_dtype(s):
            out[col] = s.map({True: "yes", False: "no"}).astype("string")
    return out


def _text_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """A typed table with its categorical columns as text (other types kept)."""
    import pandas as pd

    out = frame.reset_index(drop=True)
    cats = [c for c in out.columns if isinstance(out[c].dtype, pd.CategoricalDtype)]
    return out.astype({c: "string" for c in cats}) if cats else out


def write_tables(
    tables: dict[str, pd.DataFrame],
    path: str | os.PathLike,
    *,
    format: str = "csv",
) -> list[str]:
    """Write tables in the contract's file layout; returns the files written.

    ``format`` is ``csv``, ``parquet`` or ``xlsx`` (one workbook ``pilot.xlsx`` with a sheet
    per table). CSV and Excel get plain file values (ISO dates, yes/no); Parquet keeps the
    column types as a warehouse export would (dates as timestamps, booleans, nullable
    integers), with categories written as text. Existing files of the same tables are replaced.
    """
    import pandas as pd

    out = Path(path)
    if format == "xlsx" and out.suffix.lower() == ".xlsx":
        workbook, out = out, out.parent
    else:
        workbook = out / "pilot.xlsx"
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    frames = {
        n: _text_categories(f) if format == "parquet" else to_contract_frame(n, f)
        for n, f in tables.items()
        if f is not None
    }
    if format == "csv":
        for n, f in frames.items():
            target = out / f"{n}.csv"
            f.to_csv(target, index=False, lineterminator="\n")
            written.append(str(target))
    elif format == "parquet":
        for n, f in frames.items():
            target = out / f"{n}.parquet"
            f.to_parquet(target, index=False)
            written.append(str(target))
    elif format == "xlsx":
        with pd.ExcelWriter(workbook, engine="openpyxl") as xw:
            for n, f in frames.items():
                f.to_excel(xw, sheet_name=n, index=False)
        written.append(str(workbook))
    else:
        raise ValueError(f"format must be csv, parquet or xlsx, not {format!r}")
    return written
