"""Integrity of a table file, checked before and while it is read.

A file that is not what its name says (a workbook named ``.csv``, binary data, UTF-16 text,
a named pipe, a truncated gzip stream), a CSV whose structure is broken (a quote left open
that swallows the rows after it, rows with missing or extra fields), a header that names a
column twice, an Excel formula without a saved value and a Parquet column of lists are each
reported as a :class:`~rm_analytics.errors.Problem` naming the file, the row and the column,
instead of being read into a table with rows lost or cells blank.

The checks cost nothing on well-formed files: the CSV structure is only re-read with Python's
``csv`` module when a cheap count of quotes and line ends says the fast parser may have read
several lines into one record, and a workbook's formulas are only looked at when its sheet
holds any.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Sequence

from ..errors import Problem

#: Bytes a text (CSV) file is sniffed on.
SNIFF_BYTES = 65536

#: Signatures of file formats a table file may turn out to be, with their names.
_SIGNATURES = (
    (b"PK\x03\x04", "zip", "a zip archive (an Excel .xlsx workbook is one)"),
    (b"PAR1", "parquet", "a Parquet file"),
    (b"\x1f\x8b", "gzip", "gzip-compressed data"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls", "an Excel 97-2003 (.xls) workbook"),
    (b"%PDF", "pdf", "a PDF document"),
)


def regular_file_problem(path: str, label: str) -> Problem | None:
    """A problem when ``path`` is not a regular file (a folder, a named pipe, a device,
    a socket): such a "file" is refused before it is opened, so that reading never blocks."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return Problem(label, None, None, None, f"cannot read the file: {exc.strerror or exc}")
    if stat.S_ISREG(mode):
        return None
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a named pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    return Problem(
        label,
        None,
        None,
        None,
        f"this is {kind}, not a file: export the table to a regular file (nothing was read "
        "from it)",
    )


def file_kind(head: bytes) -> tuple[str, str] | None:
    """``(kind, description)`` of a file whose first bytes are a known binary signature."""
    for magic, kind, text in _SIGNATURES:
        if head.startswith(magic):
            return kind, text
    return None


def _renamed_hint(table: str, kind: str) -> str:
    return {
        "zip": f"if it is an Excel workbook, name it {table}.xlsx",
        "parquet": f"name it {table}.parquet",
        "gzip": f"name it {table}.csv.gz",
        "xls": "save it as .xlsx (Excel Workbook) or as CSV UTF-8",
        "pdf": "export the table itself as CSV, Excel or Parquet",
    }[kind]


def text_file_problem(label: str, table: str, head: bytes) -> Problem | None:
    """The problem of a file read as CSV text whose first bytes say it is something else:
    another format by its signature, UTF-16 text without a byte-order mark, or binary data.
    UTF-16 with a byte-order mark is left to the decoder's message (it names it)."""
    found = file_kind(head)
    if found:
        kind, text = found
        return Problem(
            label,
            None,
            None,
            None,
            f"the file is {text}, not CSV text: {_renamed_hint(table, kind)}; "
            "no row of this file was checked",
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" not in head:
        return None
    sample = head[: len(head) - len(head) % 2]
    pairs = len(sample) // 2
    odd_nul = sample[1::2].count(0)
    even_nul = sample[0::2].count(0)
    # UTF-16 text of mostly ASCII characters: one byte of each pair is 0, the other never
    if max(odd_nul, even_nul) >= 0.4 * pairs and min(odd_nul, even_nul) <= 0.01 * pairs:
        rule = (
            "the file is UTF-16 text without a byte-order mark (every other byte is 0): "
            "save it as UTF-8 (CSV UTF-8 in Excel); no row of this file was checked"
        )
        return Problem(label, None, None, None, rule, cause=f"{label}: {rule}")
    at = head.index(b"\x00")
    row = head.count(b"\n", 0, at) + 1
    return Problem(
        label,
        row,
        None,
        None,
        f"the file holds binary data (a NUL byte at offset {at}), not CSV text: is it the "
        "right file? No row of this file was checked",
    )


def binary_file_problem(label: str, table: str, head: bytes, expected: str) -> Problem | None:
    """The problem of a file read as a workbook or Parquet file (``expected``: ``xlsx`` or
    ``parquet``) whose first bytes say it is something else; None when they fit."""
    if len(head) == 0:
        return Problem(label, None, None, None, "the file is empty (0 bytes)")
    want = {"xlsx": b"PK\x03\x04", "parquet": b"PAR1"}[expected]
    if head.startswith(want):
        return None
    found = file_kind(head)
    name = "an Excel workbook (.xlsx)" if expected == "xlsx" else "a Parquet file"
    if found:
        kind, text = found
        hint = _renamed_hint(table, kind)
        return Problem(label, None, None, None, f"the file is {text}, not {name}: {hint}")
    try:
        head[:4096].decode("utf-8")
        text_like = b"\x00" not in head[:4096]
    except UnicodeDecodeError as exc:
        text_like = exc.start > 4000  # a character cut at the end of the sample
    hint = (
        f"it holds text: if it is a CSV file, name it {table}.csv"
        if text_like
        else "it holds no known format: is it the right file?"
    )
    return Problem(label, None, None, None, f"the file is not {name}: {hint}")


def read_gzip(path: str, label: str) -> tuple[bytes | None, Problem | None]:
    """The decompressed bytes of a gzip file (every member of it), or a problem naming where
    a truncated or damaged stream ends: the row after the last complete line."""
    import zlib

    try:
        with open(path, "rb") as fh:
            packed = fh.read()
    except OSError as exc:
        return None, Problem(
            label, None, None, None, f"cannot read the file: {exc.strerror or exc}"
        )
    if not packed.startswith(b"\x1f\x8b"):
        return None, Problem(
            label,
            None,
            None,
            None,
            "the file is not gzip-compressed: name it without .gz"
            + (" (it holds text)" if b"\x00" not in packed[:4096] else ""),
        )
    parts: list[bytes] = []
    rest = packed
    fault = None
    while rest:
        d = zlib.decompressobj(31)
        try:
            parts.append(d.decompress(rest))
        except zlib.error as exc:
            fault = f"damaged data: {exc}"
            break
        if not d.eof:
            parts.append(d.flush())
            fault = "the compressed stream ends early"
            break
        rest = d.unused_data
        if not rest.strip(b"\x00"):  # padding after the last member
            break
    data = b"".join(parts)
    if fault is None:
        return data, None
    row = data.count(b"\n") + 1
    return None, Problem(
        label,
        row,
        None,
        None,
        f"the compressed file is truncated or damaged ({fault}): it holds {row - 1:,} "
        f"complete line(s) and breaks off within row {row}; copy or export it again "
        "(no row of this file was checked)",
    )


# ---------------------------------------------------------------------------------------------
# CSV structure


def csv_may_have_merged_rows(body: bytes, records: int) -> bool:
    """Whether a fast parse of ``body`` that gave ``records`` records (header excluded) may
    have read several lines into one record: a value spans lines, or a quote is left open.

    Cheap (two byte counts); True sends the file to :func:`csv_structure_problems`."""
    if b'"' not in body:  # without quotes no value spans lines
        return False
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1) - 1
    return records < lines or body.count(b'"') % 2 == 1


def _open_quote_field(line: str, sep: str) -> int | None:
    """0-based field of ``line`` whose opening quote is not closed on the line (None when
    every quote on it closes)."""
    field, start_of_field, quoted, i = 0, True, False, 0
    n = len(line)
    while i < n:
        ch = line[i]
        if quoted:
            if ch == '"':
                if i + 1 < n and line[i + 1] == '"':
                    i += 1
                else:
                    quoted = False
        elif ch == '"' and start_of_field:
            quoted = True
        elif ch == sep:
            field += 1
            start_of_field = True
            i += 1
            continue
        start_of_field = False
        i += 1
    return field if quoted else None


def field_at(prefix: str, sep: str) -> int:
    """0-based field in which the text after ``prefix`` (the start of a line) lies."""
    field, quoted = 0, False
    for ch in prefix:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            field += 1
    return field


def _name(header: Sequence[str], i: int) -> str:
    return header[i] if 0 <= i < len(header) else f"field {i + 1}"


def csv_structure_problems(
    text: str, label: str, sep: str, header: Sequence[str], *, limit: int = 1000
) -> list[Problem]:
    """Rows whose structure is broken, from a strict parse of ``text`` (header included).

    * A quote opened in a field and closed lines later (or never) holds the lines after it:
      reported at the row and column where it opens, naming the rows it swallowed, when the
      parse fails on it (strict mode) or when a swallowed line looks like a row of the table
      (it has as many separators as the header).
    * A row with fewer or more fields than the header (a blank line is not a row).

    Rows are counted as records (header = row 1), as a spreadsheet shows them; where a record
    spans several lines the line in the file is named too. At most ``limit`` problems.
    """
    n_fields = len(header)
    if '"' not in text:  # no quotes: every line is a row; done when each has every field
        want = n_fields - 1
        if all(line.count(sep) == want or not line.strip() for line in text.split("\n")):
            return []
    lines_of = text.splitlines()
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    row = 0  # records so far (the header is record 1)
    end = 0  # physical line where the previous record ended

    def at(line: int) -> str:
        return f"row {row} (line {line} of the file)" if line != row else f"row {row}"

    def open_quote(start: int, stop: int | None, field: int | None, reason: str) -> Problem:
        if field is None and start - 1 < len(lines_of):
            field = _open_quote_field(lines_of[start - 1], sep)
        col = _name(header, field) if field is not None else None
        until = "the end of the file" if stop is None else f"line {stop}"
        value = lines_of[start - 1] if start - 1 < len(lines_of) else None
        quoted = value[value.rfind('"') :] if value and '"' in value else value
        return Problem(
            label,
            row,
            col,
            quoted,
            f"a quote opens a value here and is not closed on its line: the lines after it, "
            f"up to {until}, were read into this one cell ({reason}); close the quote, or "
            'double a quote that is part of the text ("")',
        )

    while len(problems) < limit:
        start = end + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row += 1
            stop = reader.line_num if "expected after" in str(exc) else None
            problems.append(open_quote(start, stop, None, f"the CSV parser stopped: {exc}"))
            break
        end = reader.line_num
        row += 1  # a blank line is a row too (read as a row of blank cells)
        if row == 1 or not record:
            continue
        if end > start and n_fields > 1:
            swallowed = next(
                (
                    j
                    for j, value in enumerate(record)
                    if "\n" in value
                    and any(part.count(sep) >= n_fields - 1 for part in value.splitlines()[1:])
                ),
                None,
            )
            if swallowed is not None:
                problems.append(
                    open_quote(
                        start,
                        end,
                        swallowed,
                        f"{end - start:,} line(s) that look like rows of the table",
                    )
                )
                continue
        k = len(record)
        if k < n_fields:
            gone = [_name(header, i) for i in range(k, n_fields)]
            shown = ", ".join(repr(g) for g in gone[:3]) + (" ..." if len(gone) > 3 else "")
            problems.append(
                Problem(
                    label,
                    row,
                    gone[0],
                    None,
                    f"{at(start)} has {k} field(s), the header {n_fields}: no cell for "
                    f"{shown}; a separator is missing (fill blank cells with nothing between "
                    "two commas, never leave them out)",
                )
            )
        elif k > n_fields:
            extra = record[n_fields:]
            problems.append(
                Problem(
                    label,
                    row,
                    _name(header, n_fields - 1),
                    sep.join(extra),
                    f"{at(start)} has {k} fields, the header {n_fields}: {k - n_fields} more "
                    "after the last column; quote a value that holds the separator, or give "
                    "the extra column a header",
                )
            )
    return problems


# ---------------------------------------------------------------------------------------------
# Headers


def duplicate_header_problems(
    label: str, header: Sequence[str], normalised: Sequence[str], row: int | None
) -> list[Problem]:
    """One problem per column the header names more than once, after headers are matched
    the way the loader matches them (ignoring case, surrounding spaces, spaces vs
    underscores), listing the spellings and their positions."""
    seen: dict[str, list[int]] = {}
    for i, n in enumerate(normalised):
        seen.setdefault(n, []).append(i)
    out = []
    for n, where in seen.items():
        if len(where) < 2:
            continue
        if n == "":
            cols = ", ".join(str(i + 1) for i in where)
            out.append(
                Problem(
                    label,
                    row,
                    None,
                    None,
                    f"columns {cols} have no header: give each column a header, or delete "
                    "the empty columns",
                )
            )
            continue
        spelled = ", ".join(f"{str(header[i]).strip()!r} (column {i + 1})" for i in where)
        out.append(
            Problem(
                label,
                row,
                n,
                None,
                f"the header names this column more than once: {spelled}; headers are matched "
                "ignoring case and spaces, so keep one of them (or rename the other)",
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Excel


_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_HAS_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_VALUE = re.compile(rb"<(?:\w+:)?v\s*>([^<]+)<", re.S)
_ATTR_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_ATTR_TYPE = re.compile(rb'\bt="(\w+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*>(.*?)</(?:\w+:)?f>", re.S)


def _sheet_xml_path(z, sheet: str | None) -> str | None:
    """The zip member of a sheet (by name; the first sheet when None)."""
    wb = z.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    sheets = re.findall(r"<(?:\w+:)?sheet\b([^>]*)/?>", wb)
    rid = None
    for attrs in sheets:
        name = re.search(r'\bname="([^"]*)"', attrs)
        r = re.search(r'\br:id="([^"]*)"|\bid="([^"]*)"', attrs)
        if r is None:
            continue
        from html import unescape

        if sheet is None or (name and unescape(name.group(1)) == sheet):
            rid = r.group(1) or r.group(2)
            break
    if rid is None:
        return None
    for rel in re.findall(r"<Relationship\b([^>]*)/?>", rels):
        if re.search(rf'\bId="{re.escape(rid)}"', rel):
            target = re.search(r'\bTarget="([^"]*)"', rel)
            if target is None:
                return None
            t = target.group(1)
            return t.lstrip("/") if t.startswith("/") else "xl/" + t
    return None


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def excel_formula_problems(
    path: str, sheet: str | None, label: str, header: Sequence[str], *, limit: int = 1000
) -> list[Problem]:
    """Cells holding a formula without a saved value.

    A workbook written by a script (or saved without calculating) stores formulas but no
    results; every reader then sees a blank cell. Each such cell is a problem at its row and
    column, with the formula as the value. A formula whose saved result is an empty text is
    a blank cell, not a problem.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            member = _sheet_xml_path(z, sheet)
            if member is None or member not in z.namelist():
                return []
            xml = z.read(member)
    except (KeyError, OSError, zipfile.BadZipFile):
        return []  # the workbook reader reports a damaged file
    if not _HAS_FORMULA.search(xml):
        return []
    out: list[Problem] = []
    for m in _CELL.finditer(xml):
        body = m.group(2)
        if not body or not _HAS_FORMULA.search(body):
            continue
        if _VALUE.search(body):
            continue
        t = _ATTR_TYPE.search(m.group(1))
        if t and t.group(1) in (b"str", b"inlineStr") and re.search(rb"<(?:\w+:)?v", body):
            continue  # a saved empty text
        ref = _ATTR_REF.search(m.group(1))
        f = _FORMULA.search(body)
        formula = "=" + f.group(1).decode("utf-8", "replace") if f else "(shared formula)"
        from html import unescape

        row = int(ref.group(2)) if ref else None
        col = _name(header, _column_index(ref.group(1))) if ref else None
        out.append(
            Problem(
                label,
                row,
                col,
                unescape(formula),
                "a formula without a saved value (the workbook was written by a program or "
                "saved without calculating): every reader sees a blank cell; open the "
                "workbook in Excel or LibreOffice and save it, or export the sheet as CSV",
            )
        )
        if len(out) >= limit:
            break
    return out


# ---------------------------------------------------------------------------------------------
# Parquet


def parquet_nested_problems(schema, label: str, names: dict[str, str]) -> list[Problem]:
    """Columns of lists, structs or maps (one value per cell is the contract).

    ``names`` maps the file's column names to the ones messages use."""
    import pyarrow as pa

    out = []
    for f in schema:
        if f.name.startswith("__index_level_"):
            continue
        if (
            pa.types.is_nested(f.type)
            or pa.types.is_dictionary(f.type)
            and pa.types.is_nested(f.type.value_type)
        ):
            kind = (
                "lists"
                if pa.types.is_list(f.type)
                or pa.types.is_large_list(f.type)
                or pa.types.is_fixed_size_list(f.type)
                else "maps"
                if pa.types.is_map(f.type)
                else "structs"
                if pa.types.is_struct(f.type)
                else "nested values"
            )
            out.append(
                Problem(
                    label,
                    None,
                    names.get(f.name, f.name),
                    None,
                    f"the column holds {kind} (Parquet type {f.type}), not one value per "
                    "cell: write one value per cell (one row per list element, or one "
                    "column per field)",
                )
            )
    return out
