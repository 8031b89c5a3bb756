"""The one result contract of every analysis: a tidy ``summary``, notes with codes, ``plot``,
an HTML view, ``to_frame()`` and ``to_dict()``.

Every public analysis of :mod:`rm_analytics.metrics` (the ``pilot_*`` functions, their
DataFrame engines, and the pair-level checks ``flag_pairs``, ``pair_delivery``,
``scale_scores``, ``cronbach_alpha``, ``check_pairs``) returns a :class:`Result` or a subclass:

``summary``
    A tidy DataFrame, one row per estimate. Its first column is always ``metric`` (what the
    row estimates); then, where they apply, the columns that say for whom or when
    (``group``, ``role``, ``horizon``, ``wave``, ``item``, ...); then
    ``estimate, ci_low, ci_high, p_value, n`` (see :data:`ESTIMATE_COLUMNS`); then any further
    columns (``se``, ``method``, counts). Record-level tables (one row per pair, person or
    flag) are not summaries: they are fitted attributes such as ``flags_`` or ``pairs_``.
fitted attributes
    Everything else the analysis computed ends in ``_`` (``km_``, ``frame_``, ``flags_``,
    ``verdict_``), as in scikit-learn and lifelines.
``notes``
    Plain-language statements about what was (not) estimated and why, each a :class:`Note`:
    a string with a ``code`` from :data:`NOTE_CODES`, so a program can filter them
    (``result.notes_with("no_events")``).
``arguments``
    The call's arguments (``params`` is its old, deprecated name: statsmodels' ``params``
    are estimates).
``plot(ax=None)``
    Draws the result on ``ax`` (a new figure when None) and returns the axes, where a plot
    makes sense.
``to_frame()``, ``to_dict()``, ``_repr_html_()``
    A copy of the summary; JSON-ready content (title, summary records, notes with codes,
    arguments); the view in Jupyter.

Vocabulary of the summaries
---------------------------

============  =========================================================================
column        values
============  =========================================================================
``metric``    snake_case name of the estimate (``retention``, ``hazard_ratio``,
              ``change``, ``mean_safety``, ``pairs_flagged``, ...)
``group``     ``treated`` (the pilot's participants analysed), ``control``, or
              ``treated vs control`` for a contrast between them
``role``      ``mentor`` (the junior), ``mentee`` (the senior leader), ``both`` (the two
              roles together) or ``control``
``horizon``   months (retention) or years (promotion) from the cohort start
============  =========================================================================

Note codes (:data:`NOTE_CODES`): ``method`` (how a figure was estimated), ``assumption``
(what it rests on that the data cannot check), ``no_events`` (a group had no events),
``few_clusters`` (too few clusters for cluster-robust inference), ``small_sample`` (few people,
events or cohorts), ``not_estimable`` (a figure could not be computed, and why),
``excluded_rows`` (rows left out, and why), ``missing_data`` (a table or answer is absent),
``privacy`` (figures hidden to protect individuals) and ``info`` (anything else).

Arguments take the same words: ``population``/``role`` is ``"mentor"``, ``"mentee"`` or
``"both"`` everywhere (the plural spellings of version 0.1 still work, with a
:class:`DeprecationWarning`). "Not enough data" is always
:class:`~rm_analytics.errors.InsufficientDataError`, which a report turns into "not
available: <reason>"; a bad argument is a ``ValueError`` or ``TypeError``.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: Columns a tidy estimate table has after its key columns, in this order, where they apply.
ESTIMATE_COLUMNS = ["estimate", "ci_low", "ci_high", "p_value", "n"]

#: The codes a :class:`Note` may carry, with their meaning.
NOTE_CODES: dict[str, str] = {
    "method": "how a figure was estimated: estimator, interval, test or convention",
    "assumption": "what a figure rests on that the data cannot check (parallel trends, an "
    "opt-in control, a heuristic threshold)",
    "no_events": "a group had no events (exits, promotions), so an estimate does not exist or "
    "is only bounded",
    "few_clusters": "too few clusters, or treated clusters, for cluster-robust inference",
    "small_sample": "few people, events or cohorts: low power, wide intervals, a weak check",
    "not_estimable": "a figure could not be computed (or not reliably), and why",
    "excluded_rows": "rows, people or pairs left out of the analysis, with the reason",
    "missing_data": "a table, column or answer that an analysis or check needs is absent",
    "privacy": "figures hidden or coarsened to protect individuals",
    "info": "anything else (the default)",
}

#: Role names of summaries and arguments.
ROLES = ("mentor", "mentee", "both", "control")
#: Group names of summaries: the pilot's participants analysed and the comparison group.
TREATED, CONTROL = "treated", "control"
#: The ``group`` of a contrast between the two.
CONTRAST = "treated vs control"

#: Spellings of version 0.1 accepted (with a DeprecationWarning) where a role is an argument.
OLD_ROLE_NAMES = {"mentors": "mentor", "mentees": "mentee", "all": "both"}


def normalise_role(
    value: str, *, argument: str = "role", allowed: Sequence[str] = ("mentor", "mentee", "both")
) -> str:
    """``value`` in the one role vocabulary (``mentor``, ``mentee``, ``both``).

    The plural spellings ``mentors``/``mentees`` are accepted with a
    :class:`DeprecationWarning`; anything else not in ``allowed`` is a ``ValueError``.

    >>> normalise_role("mentor", argument="population")
    'mentor'
    """
    if isinstance(value, str) and value in OLD_ROLE_NAMES and OLD_ROLE_NAMES[value] in allowed:
        new = OLD_ROLE_NAMES[value]
        warnings.warn(
            f"{argument}={value!r} is now {argument}={new!r}", DeprecationWarning, stacklevel=3
        )
        return new
    if value not in allowed:
        words = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{argument} must be one of {words}, not {value!r}")
    return value


def tidy(summary: pd.DataFrame, keys: Sequence[str] = ()) -> pd.DataFrame:
    """The summary's columns in the contract's order: ``metric``, the ``keys`` (those
    present), the :data:`ESTIMATE_COLUMNS` present, then the other columns as they were."""
    cols = list(summary.columns)
    first = ["metric", *[k for k in keys if k in cols and k != "metric"]]
    first = [c for c in first if c in cols]
    est = [c for c in ESTIMATE_COLUMNS if c in cols and c not in first]
    rest = [c for c in cols if c not in first and c not in est]
    return summary[first + est + rest]


class Note(str):
    """A note on a result: the message (the string itself) and a ``code`` from
    :data:`NOTE_CODES`.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> n = rm.Note("no mentor left by month 12", code="no_events")
    >>> n, n.code
    ('no mentor left by month 12', 'no_events')
    >>> n.to_dict()
    {'code': 'no_events', 'message': 'no mentor left by month 12'}

    Every result's notes are Notes, so they can be filtered by code:

    >>> res = rm.roi_from_retention(rm.pilot_retention(rm.load_sample(), horizons=(12,)),
    ...                             costs=40_000, replacement_cost=10_000)
    >>> print(res.notes_with("not_estimable")[0])
    ROI not demonstrated: the 95% confidence interval of the attrition difference (-0.118 to +0.089)
    includes 0, so no point ROI is claimed (Phillips: without supported improvement, assume none);
    the ROI range over that interval is reported instead.
    """

    code: str

    def __new__(cls, message: str, code: str = "info") -> Note:
        obj = super().__new__(cls, message)
        code = getattr(message, "code", code) if code == "info" else code
        if code not in NOTE_CODES:
            raise ValueError(f"unknown note code {code!r}; codes: {', '.join(NOTE_CODES)}")
        obj.code = code
        return obj

    @property
    def message(self) -> str:
        return str(self)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self)}


def as_note(item: str | tuple[str, str]) -> Note:
    """A :class:`Note` from a Note, a string (code ``info``) or a ``(message, code)`` pair."""
    if isinstance(item, tuple):
        return Note(*item)
    return Note(item)


def renamed(new: str, old: str) -> property:
    """A deprecated attribute ``old`` that reads ``new`` (a fitted attribute's name of
    version 0.1, before fitted attributes ended in ``_``)."""

    def getter(self):
        warnings.warn(
            f"{type(self).__name__}.{old} is now {type(self).__name__}.{new}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self, new)

    return property(getter, doc=f"Deprecated name of :attr:`{new}`.")


def json_value(x: Any) -> Any:
    """``x`` as plain JSON: numbers (NaN and infinities as None), text, dates as ISO text,
    lists and dicts of those; anything else as its text."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64)):
        stamp = pd.Timestamp(x)
        return None if pd.isna(stamp) else stamp.isoformat()
    if isinstance(x, (pd.Timedelta, np.timedelta64)):
        return None if pd.isna(x) else str(pd.Timedelta(x))
    if isinstance(x, dict):
        return {str(k): json_value(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set, np.ndarray, pd.Series, pd.Index)):
        return [json_value(v) for v in list(x)]
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    return str(x)


class Result:
    """A fitted analysis: ``summary`` (tidy DataFrame), ``notes`` (list of :class:`Note`),
    ``arguments`` (the call's arguments), :meth:`plot`, :meth:`to_frame`, :meth:`to_dict`.

    See the module docstring for the contract and its vocabulary.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.pilot_goals(rm.load_sample())
    >>> res.title
    'SMART-goal progress'
    >>> cols = ["metric", "checkpoint", "estimate", "n"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
             metric checkpoint  estimate  n
      mean_progress      week6     3.143 35
      mean_progress   endpoint     3.913 23
     share_goal_met   endpoint     0.478 23
    share_off_track      week6     0.171 35
    >>> round(float(res.row(metric="share_goal_met").estimate), 3)
    0.478
    >>> sorted(res.to_dict())
    ['arguments', 'notes', 'summary', 'title']

    A Result can be built directly, e.g. to pass figures to a report:

    >>> import pandas as pd
    >>> mine = rm.Result(pd.DataFrame({"metric": ["pairs"], "estimate": [12.0]}),
    ...                  notes=[("one cohort only", "small_sample")], cohort="C01")
    >>> mine
    <Result: Result>
    metric  estimate
     pairs      12.0
    note [small_sample]: one cohort only
    >>> mine.notes_with("small_sample"), mine.arguments
    (['one cohort only'], {'cohort': 'C01'})
    """

    #: Short title used in HTML reprs and reports.
    title: str = "Result"

    def __init__(
        self,
        summary: pd.DataFrame | None = None,
        notes: Iterable[str | tuple[str, str]] | None = None,
        **arguments: Any,
    ) -> None:
        self.summary: pd.DataFrame = summary if summary is not None else pd.DataFrame()
        self.notes: list[Note] = []
        for item in notes or []:
            n = as_note(item)
            if n not in self.notes:
                self.notes.append(n)
        self.arguments: dict[str, Any] = dict(arguments)

    @property
    def params(self) -> dict[str, Any]:
        """Deprecated name of :attr:`arguments` (statsmodels' ``params`` are estimates)."""
        warnings.warn(
            "Result.params is now Result.arguments (the call's arguments)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.arguments

    # -- conveniences ----------------------------------------------------------------------
    def note(self, text: str, code: str = "info") -> None:
        """Add a note once (a repeated message is ignored)."""
        if text not in self.notes:
            self.notes.append(Note(text, code))

    def notes_with(self, code: str) -> list[Note]:
        """The notes with a given code."""
        return [n for n in self.notes if n.code == code]

    def row(self, **where: Any) -> pd.Series:
        """The one summary row matching column=value conditions (KeyError if not exactly one)."""
        s = self.summary
        mask = pd.Series(True, index=s.index)
        for col, value in where.items():
            mask &= s[col].eq(value) if value is not None else s[col].isna()
        hits = s[mask.to_numpy()]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} summary rows match {where}")
        return hits.iloc[0]

    def to_frame(self) -> pd.DataFrame:
        """The summary as a new DataFrame (changing it leaves the result as it was)."""
        return self.summary.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready content: title, summary records (NaN as None, dates as ISO text), notes
        with their codes and the call's arguments."""
        records = [
            {str(k): json_value(v) for k, v in rec.items()}
            for rec in self.summary.to_dict(orient="records")
        ]
        return {
            "title": self.title,
            "summary": records,
            "notes": [Note(n).to_dict() for n in self.notes],
            "arguments": json_value(self.arguments),
        }

    def plot(self, ax=None):
        """Draw the result on ``ax`` (a new figure when None) and return the axes."""
        raise NotImplementedError(f"{type(self).__name__} has no plot")

    # -- display ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            body = self.summary.to_string(index=False) if len(self.summary) else "(empty)"
        notes = "".join(f"\nnote [{n.code}]: {n}" for n in self.notes)
        return f"<{type(self).__name__}: {self.title}>\n{body}{notes}"

    def _repr_html_(self) -> str:
        table = self.summary.to_html(
            index=False, float_format=lambda x: f"{x:.4g}", na_rep="", border=0
        )
        notes = "".join(
            f"<li><code>{html.escape(n.code)}</code> {html.escape(n)}</li>" for n in self.notes
        )
        notes_html = f"<ul class='rm-notes'>{notes}</ul>" if notes else ""
        return f"<div class='rm-result'><strong>{html.escape(self.title)}</strong>{table}{notes_html}</div>"


class Unavailable(Result):
    """The stand-in :func:`attempt` returns for an analysis the pilot has not enough data for:
    an empty ``summary``, the reason as a ``not_estimable`` note (and as :attr:`reason`),
    false in a boolean test, and a :meth:`plot` that states the reason.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.Unavailable("pilot_skills", "no skills table")
    >>> bool(res), res.reason
    (False, 'no skills table')
    >>> res
    <Unavailable: pilot_skills>
    not available: no skills table
    """

    def __init__(self, title: str, reason: str, **arguments: Any) -> None:
        super().__init__(None, [(reason, "not_estimable")], **arguments)
        self.title = title
        self.reason = reason

    def __bool__(self) -> bool:
        return False

    def plot(self, ax=None):
        """An empty panel that says why there is no figure. Returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 1.2))
        ax.set_axis_off()
        ax.text(0, 0.5, f"Not available: {self.reason}", va="center", wrap=True)
        return ax

    def __repr__(self) -> str:
        return f"<Unavailable: {self.title}>\nnot available: {self.reason}"

    def _repr_html_(self) -> str:
        return (
            f"<div class='rm-result'><strong>{html.escape(self.title)}</strong>"
            f"<p>Not available: {html.escape(self.reason)}</p></div>"
        )


def attempt(analysis, *args: Any, **kwargs: Any) -> Result:
    """Run ``analysis(*args, **kwargs)``; when the pilot has not enough data for it, return
    an :class:`Unavailable` that says why instead of raising.

    "Not enough data" is :class:`~rm_analytics.InsufficientDataError` (a missing optional
    table or survey, too few people, no cohort started by the analysis date); any other
    error is raised as usual. An argument that is itself :class:`Unavailable` (e.g. the
    retention result an ROI needs) makes the result unavailable too, naming it. A notebook
    that walks through every analysis then runs to the end on any pilot the data contract
    allows, and each part says what it could not compute.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> sample = rm.load_sample()                   # a pilot of the required tables only:
    >>> minimal = rm.Pilot({t: sample.tables[t] for t in ("employees", "cohorts", "pairs")})
    >>> skills = rm.attempt(rm.pilot_skills, minimal)
    >>> bool(skills), skills.reason
    (False, 'the skills analysis needs the skills table, which the pilot data do not have')
    >>> delivery = rm.attempt(rm.pair_delivery, sample)  # an available one returns as usual
    >>> bool(delivery), type(delivery).__name__
    (True, 'PairDelivery')
    >>> rm.attempt(rm.prepost, skills)
    <Unavailable: prepost>
    not available: it needs pilot_skills, which is not available: the skills analysis needs ...
    """
    from .errors import InsufficientDataError

    title = getattr(analysis, "__name__", type(analysis).__name__)
    for value in (*args, *kwargs.values()):
        if isinstance(value, Unavailable):
            return Unavailable(
                title, f"it needs {value.title}, which is not available: {value.reason}"
            )
    try:
        return analysis(*args, **kwargs)
    except InsufficientDataError as exc:
        return Unavailable(title, str(exc))
