"""Reading a proposed matching (the roster and the proposed pairs) before a cohort starts.

:func:`read_proposal` is the input side of the pair check: the roster is validated against the
data contract with the options of ``validate``; the pairs may still lack their status and
dates.
"""

from __future__ import annotations

import os

import pandas as pd

from ..errors import DataValidationError, Problem


def read_proposal(
    data_dir: str | os.PathLike | None,
    config: str | os.PathLike | None = None,
    *,
    date_format: str | None = None,
    level_order: list[str] | None = None,
    today: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The roster (validated against the data contract, read with the same options as
    ``validate``) and the proposed pairs (read leniently: only ``pair_id``, ``cohort_id``,
    ``mentor_id`` and ``mentee_id`` are needed before a cohort starts) from ``DIR/employees.*``
    and ``DIR/pairs.*``, or through a mapping file (``config``; the file's own date formats
    and grade orders apply). The input of :func:`rm_analytics.check_pairs` and of the
    command ``rm-analytics check-pairs``.

    Returns
    -------
    (employees, pairs)
        Two DataFrames; ``pairs.attrs["source"]`` names the pairs file.

    Raises
    ------
    DataValidationError
        A table is missing or the roster breaks the data contract (file, row, column, value
        and rule of every problem).
    """
    from .readers import find_tables, read_table
    from .validation import validate_raw

    if config:
        return _read_mapped(data_dir, config)
    found, problems, _ = find_tables(data_dir)
    for name in ("employees", "pairs"):
        if name not in found and not problems:
            problems.append(
                Problem(
                    f"{name}.csv",
                    None,
                    None,
                    None,
                    f"check-pairs needs the {name} table in {os.fspath(data_dir)}",
                )
            )
    if problems:
        raise DataValidationError(problems)
    emp_raw = read_table("employees", *found["employees"])
    pairs_raw = read_table("pairs", *found["pairs"])
    problems = emp_raw.problems + pairs_raw.problems
    if problems:
        raise DataValidationError(problems)
    result = validate_raw(
        {"employees": emp_raw},
        date_format=date_format,
        level_order=level_order,
        today=pd.Timestamp(today) if today else None,
    )
    problems = [p for p in result.problems if not p.rule.startswith("required table")]
    if problems:
        raise DataValidationError(problems)
    pairs = pairs_raw.frame
    if date_format and "start_date" in pairs.columns:
        pairs["start_date"] = pd.to_datetime(pairs.start_date, format=date_format, errors="coerce")
    pairs.attrs["source"] = pairs_raw.source
    return result.tables["employees"], pairs


def _read_mapped(data_dir, config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`read_proposal` through a mapping file (messages name the original files)."""
    from .mapping import load_raw, read_mapping
    from .validation import validate_raw

    loaded = load_raw(read_mapping(config), data_dir, only=("employees", "pairs"))
    problems = list(loaded.problems)
    for name in ("employees", "pairs"):
        if name not in loaded.raws and not problems:
            problems.append(
                Problem(
                    f"{name}.csv",
                    None,
                    None,
                    None,
                    f"check-pairs needs the {name} table (in the mapping file or its folder)",
                )
            )
    if problems:
        raise DataValidationError(loaded.translate(problems))
    emp_raw, pairs_raw = loaded.raws["employees"], loaded.raws["pairs"]
    if emp_raw.frame is None or pairs_raw.frame is None:
        raise DataValidationError(loaded.translate(emp_raw.problems + pairs_raw.problems))
    result = validate_raw({"employees": emp_raw})
    problems = [p for p in result.problems if not p.rule.startswith("required table")]
    if problems:
        raise DataValidationError(loaded.translate(problems))
    pairs = pairs_raw.frame
    pairs.attrs["source"] = pairs_raw.source
    return result.tables["employees"], pairs
