"""Report parameters: the one parameter object shared by the command line, :func:`render` and
the notebooks, and the checks of a notebook's ``parameters`` cell against given values."""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import RmAnalyticsError
from ..stats import DEFAULT_SEED


class ReportParameterError(RmAnalyticsError, ValueError):
    """A parameter is unknown, mistyped or out of range (nothing was executed)."""


#: The smallest group the sponsor report may show (survey vendors' usual promise). The
#: ``min_cell_size`` parameter can raise it, never lower it.
MIN_CELL_SIZE_FLOOR = 5


@dataclass
class ReportParameters:
    """Parameters shared by the report notebooks (the notebooks' ``parameters`` cells).

    ``as_of`` empty means the latest date recorded in the data (see
    :meth:`rm_analytics.Pilot.analysis_date`);
    ``today`` empty means the real date (for "not in the future" checks). ``date_format``
    and ``level_order`` say how to read the files, as for :func:`rm_analytics.load_pilot`.
    ``seed`` seeds every resampling the sections run: the RMST permutation test of the
    retention analysis (and of the synthesis' pooled fit) and a wild cluster bootstrap of the
    engagement analysis; the same data, parameters and seed give the same metrics.json.

    Costs and assumptions of the return on investment (``docs/report.md``): ``cost_software``,
    ``cost_external`` (external fees and facilitation) and ``cost_other`` (``{"line": amount}``)
    are added to the cost computed from the data, as are the lines of an optional ``costs``
    table; ``salary_loading`` (employer on-costs on salaries), ``kickoff_hours`` (per
    participant) and ``coordinator_hours_per_pair`` cost people's time.

    What the recommendation reads about power: ``plausible_hazard_ratio`` (the effect a
    program could plausibly have on the rate of leaving, 0.7 = 30% lower),
    ``realistic_cohorts`` (how many cohorts of the pilot's size a realistic program runs) and
    ``assumed_control_attrition`` (the controls' share leaving by the horizon, used only when
    the data cannot estimate it).

    The sequential decision plan across cohorts (set before the first cohort):
    ``sequential_looks`` looks (0: no plan), ``sequential_information`` the plan's total
    statistical information for the log hazard ratio (0: the looks are the cohorts, equally
    spaced; see :func:`rm_analytics.planned_information`) and ``sequential_spending``
    (``"obrien_fleming"`` or ``"pocock"``).

    Privacy of the sponsor report (:mod:`rm_analytics.report.privacy`): ``min_cell_size`` is
    the minimum group size (5 or more); a survey wave, skills phase or goal check counts
    ``survey_window_days`` after its first answer, with the answers given by then.

    Examples
    --------
    >>> from rm_analytics.report import ReportParameters
    >>> params = ReportParameters(currency="USD", horizon_months=24)
    >>> params.currency, params.horizon_months, params.min_cell_size
    ('USD', 24, 5)
    >>> ReportParameters.from_mapping({"currency": "GBP", "not_a_parameter": 1}).currency
    'GBP'
    >>> try:
    ...     ReportParameters(min_cell_size=2).check()
    ... except ValueError as err:
    ...     print(err)
    parameter min_cell_size=2: expected a whole number >= 5: the sponsor report never shows a group
    of fewer than 5 people (a larger value hides more)
    """

    data: str = "data/sample"
    config: str = ""
    cohort: str = "all"
    as_of: str = ""
    today: str = ""
    organisation: str = "Your organisation"
    title: str = "Reverse-mentoring pilot: evaluation report"
    currency: str = "EUR"
    horizon_months: int = 12
    replacement_cost_share: float = 0.21
    primary_population: str = "mentor"
    min_cell_size: int = 5
    survey_window_days: int = 21
    seed: int = DEFAULT_SEED
    date_format: str = ""
    level_order: list = field(default_factory=list)
    # costs not in the data (added to the program cost; a ``costs`` table adds more lines)
    cost_software: float = 0.0
    cost_external: float = 0.0
    cost_other: dict = field(default_factory=dict)
    # assumptions of the cost of people's time
    salary_loading: float = 1.3
    kickoff_hours: float = 3.0
    coordinator_hours_per_pair: float = 8.0
    # what the recommendation reads about power
    plausible_hazard_ratio: float = 0.7
    realistic_cohorts: int = 10
    assumed_control_attrition: float = 0.15
    sequential_looks: int = 4
    sequential_information: float = 0.0
    sequential_spending: str = "obrien_fleming"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ReportParameters:
        """Pick the known names from a mapping (e.g. a notebook's ``globals()``)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def check(self) -> None:
        """Raise ValueError naming the parameter when a value is out of range."""
        problems = check_parameter_values({f.name: getattr(self, f.name) for f in fields(self)})
        if problems:
            raise ValueError("; ".join(problems))


def check_parameter_values(values: dict[str, Any]) -> list[str]:
    """Range checks of known parameters (names absent from ``values`` are not checked).

    Examples
    --------
    >>> from rm_analytics.report.parameters import check_parameter_values
    >>> check_parameter_values({"min_cell_size": 10})
    []
    >>> check_parameter_values({"min_cell_size": 0})
    ['parameter min_cell_size=0: expected a whole number >= 5: the sponsor report never shows a
    group of fewer than 5 people (a larger value hides more)']
    """
    problems: list[str] = []

    def bad(name: str, rule: str) -> None:
        problems.append(f"parameter {name}={values[name]!r}: {rule}")

    for name in ("as_of", "today"):
        if values.get(name):
            try:
                pd.Timestamp(str(values[name]))
            except (ValueError, TypeError):
                bad(name, "expected a date as YYYY-MM-DD")
    if "min_cell_size" in values and not (
        isinstance(values["min_cell_size"], int)
        and not isinstance(values["min_cell_size"], bool)
        and values["min_cell_size"] >= MIN_CELL_SIZE_FLOOR
    ):
        bad(
            "min_cell_size",
            f"expected a whole number >= {MIN_CELL_SIZE_FLOOR}: the sponsor report never shows "
            f"a group of fewer than {MIN_CELL_SIZE_FLOOR} people (a larger value hides more)",
        )
    if "survey_window_days" in values and not (
        isinstance(values["survey_window_days"], int)
        and not isinstance(values["survey_window_days"], bool)
        and 1 <= values["survey_window_days"] <= 366
    ):
        bad(
            "survey_window_days",
            "expected a whole number of days from 1 to 366: a survey wave reaches the sponsor "
            "report that many days after its first answer",
        )
    if "horizon_months" in values and not (
        isinstance(values["horizon_months"], int) and 1 <= values["horizon_months"] <= 120
    ):
        bad("horizon_months", "expected a whole number of months from 1 to 120")
    if "replacement_cost_share" in values and not (
        isinstance(values["replacement_cost_share"], (int, float))
        and 0 < values["replacement_cost_share"] <= 5
    ):
        bad("replacement_cost_share", "expected a share of annual salary above 0 and at most 5")
    if "currency" in values and not (
        isinstance(values["currency"], str)
        and len(values["currency"]) == 3
        and values["currency"].isalpha()
    ):
        bad("currency", "expected a three-letter currency code such as EUR")
    for name in ("cost_software", "cost_external", "kickoff_hours", "coordinator_hours_per_pair"):
        v = values.get(name)
        if name in values and not (
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1e12
        ):
            bad(name, "expected an amount or number of hours >= 0")
    if "cost_other" in values:
        v = values["cost_other"]
        if not isinstance(v, dict) or not all(
            isinstance(k, str) and k.strip() and isinstance(a, (int, float)) and a >= 0
            for k, a in v.items()
        ):
            bad("cost_other", 'expected cost lines as {"name": amount >= 0, ...}')
    if "salary_loading" in values and not (
        isinstance(values["salary_loading"], (int, float)) and 1 <= values["salary_loading"] <= 5
    ):
        bad("salary_loading", "expected a multiplier of salary from 1 to 5")
    if "plausible_hazard_ratio" in values and not (
        isinstance(values["plausible_hazard_ratio"], (int, float))
        and 0 < values["plausible_hazard_ratio"] < 1
    ):
        bad("plausible_hazard_ratio", "expected a hazard ratio between 0 and 1, e.g. 0.7")
    if "realistic_cohorts" in values and not (
        isinstance(values["realistic_cohorts"], int) and values["realistic_cohorts"] >= 1
    ):
        bad("realistic_cohorts", "expected a whole number of cohorts >= 1")
    if "assumed_control_attrition" in values and not (
        isinstance(values["assumed_control_attrition"], (int, float))
        and 0 < values["assumed_control_attrition"] < 1
    ):
        bad("assumed_control_attrition", "expected a share between 0 and 1, e.g. 0.15")
    if "sequential_looks" in values and not (
        isinstance(values["sequential_looks"], int)
        and not isinstance(values["sequential_looks"], bool)
        and 0 <= values["sequential_looks"] <= 50
    ):
        bad("sequential_looks", "expected a whole number of looks from 0 (no plan) to 50")
    if "sequential_information" in values and not (
        isinstance(values["sequential_information"], (int, float))
        and values["sequential_information"] >= 0
    ):
        bad("sequential_information", "expected a number >= 0 (0: one look per cohort)")
    if "sequential_spending" in values and values["sequential_spending"] not in (
        "obrien_fleming",
        "pocock",
    ):
        bad("sequential_spending", "expected 'obrien_fleming' or 'pocock'")
    if "primary_population" in values and values["primary_population"] not in (
        "mentor",
        "mentee",
        "both",
    ):
        bad("primary_population", "expected 'mentor', 'mentee' or 'both'")
    return problems


@dataclass(frozen=True)
class NotebookParameter:
    """A name of a notebook's ``parameters`` cell with its default and type name."""

    name: str
    default: Any
    type: str  # str, int, float, bool, list, dict, none


def _type_name(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    for t in (int, float, str, list, dict):
        if isinstance(value, t):
            return t.__name__
    raise TypeError(type(value).__name__)


def notebook_parameters(path: str | os.PathLike) -> dict[str, NotebookParameter]:
    """The names, defaults and types of a notebook's cell tagged ``parameters``.

    The cell must hold plain assignments of literals (``name = 12``, ``name: str = "x"``,
    comments); anything else is an error, because papermill only passes plain values and a
    computed default would hide what the report depends on.

    Examples
    --------
    >>> from rm_analytics.report import notebook_parameters, notebook_path
    >>> declared = notebook_parameters(notebook_path("sponsor"))
    >>> list(declared)[:5]
    ['data', 'config', 'cohort', 'as_of', 'today']
    >>> declared["currency"]
    NotebookParameter(name='currency', default='EUR', type='str')
    """
    # plain JSON (nbformat v4: "source" is a string or a list of lines): reading it through
    # nbformat would import nbformat and jsonschema (~2 s) before the data are even validated
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = [
        c for c in nb.get("cells", []) if "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if len(cells) != 1:
        raise ReportParameterError(
            f"{Path(path).name} must have exactly one cell tagged 'parameters', found {len(cells)}"
        )
    source = cells[0].get("source", "")
    tree = ast.parse(source if isinstance(source, str) else "".join(source))
    out: dict[str, NotebookParameter] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            raise ReportParameterError(
                f"{Path(path).name}: the parameters cell must hold plain assignments only "
                f"(line {node.lineno})"
            )
        if not isinstance(target, ast.Name):
            raise ReportParameterError(
                f"{Path(path).name}: parameters cell line {node.lineno} must assign a name"
            )
        try:
            default = ast.literal_eval(value)
            kind = _type_name(default)
        except (ValueError, TypeError, SyntaxError):
            raise ReportParameterError(
                f"{Path(path).name}: parameter {target.id!r} must be a plain literal "
                f"(line {node.lineno})"
            ) from None
        out[target.id] = NotebookParameter(target.id, default, kind)
    return out


_TRUE = {"true", "yes", "1", "on"}


_FALSE = {"false", "no", "0", "off"}


def _coerce_text(p: NotebookParameter, text: str) -> Any:
    t = text.strip()
    if p.type == "str":
        return text
    if p.type == "int":
        try:
            return int(t)
        except ValueError:
            raise ReportParameterError(
                f"parameter {p.name} expects a whole number, got {text!r}"
            ) from None
    if p.type == "float":
        try:
            return float(t)
        except ValueError:
            raise ReportParameterError(
                f"parameter {p.name} expects a number, got {text!r}"
            ) from None
    if p.type == "bool":
        if t.lower() in _TRUE:
            return True
        if t.lower() in _FALSE:
            return False
        raise ReportParameterError(f"parameter {p.name} expects true or false, got {text!r}")
    if p.type in ("list", "dict", "none"):
        try:
            value = json.loads(t)
        except json.JSONDecodeError:
            if p.type == "list":
                return [x.strip() for x in t.split(",") if x.strip()]
            if p.type == "none":
                return text
            raise ReportParameterError(
                f"parameter {p.name} expects a JSON object, got {text!r}"
            ) from None
        return value
    raise ReportParameterError(f"parameter {p.name} has an unsupported type {p.type}")


def check_parameters(
    declared: Mapping[str, NotebookParameter],
    given: Mapping[str, Any],
    *,
    from_text: bool = False,
    notebook: str = "the notebook",
) -> dict[str, Any]:
    """Check given values against a notebook's declared parameters; return typed values.

    Unknown names and values of the wrong type raise :class:`ReportParameterError` (with
    ``from_text=True`` strings from the command line are converted to the declared type).
    Value ranges are checked by :func:`check_parameter_values`.

    Examples
    --------
    >>> from rm_analytics.report import check_parameters, notebook_parameters, notebook_path
    >>> declared = notebook_parameters(notebook_path("sponsor"))
    >>> check_parameters(declared, {"currency": "USD", "horizon_months": "24"}, from_text=True)
    {'currency': 'USD', 'horizon_months': 24}
    >>> try:
    ...     check_parameters(declared, {"curency": "USD"})
    ... except ValueError as err:
    ...     print(str(err).split(";")[0])
    unknown parameter curency for the notebook
    """

    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ReportParameterError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for "
            f"{notebook}; known: {', '.join(sorted(declared))}"
        )
    out: dict[str, Any] = {}
    for name, value in given.items():
        p = declared[name]
        if from_text and isinstance(value, str):
            value = _coerce_text(p, value)
        try:
            kind = _type_name(value)
        except TypeError:
            raise ReportParameterError(
                f"parameter {name} must be a plain value (str, int, float, bool, list, dict), "
                f"not {type(value).__name__}"
            ) from None
        ok = p.type == "none" or kind == p.type or (p.type == "float" and kind == "int")
        if not ok:
            raise ReportParameterError(
                f"parameter {name} expects {p.type} (default {p.default!r}), got {kind} {value!r}"
            )
        out[name] = float(value) if p.type == "float" else value
    problems = check_parameter_values(out)
    if problems:
        raise ReportParameterError("; ".join(problems))
    return out


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["a=1", "b=x y"] -> {"a": "1", "b": "x y"}`` (the ``-p name=value`` options).

    Examples
    --------
    >>> from rm_analytics.report import parse_assignments
    >>> parse_assignments(["currency=USD", "title=Pilot review"])
    {'currency': 'USD', 'title': 'Pilot review'}
    """
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ReportParameterError(f"expected -p name=value, got {item!r}")
        out[name.strip()] = value
    return out
