"""The :class:`MetricsCollector`, whose content becomes ``<report>.metrics.json``: every figure
a report shows, with its interval, ``n``, verdict and the exact text displayed."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .formatting import UNITS, fmt_count, fmt_interval, fmt_value, is_finite
from .privacy import PrivacyPolicy
from .verdicts import verdict

#: Version of the ``*.metrics.json`` layout; bump on any incompatible change.
METRICS_SCHEMA = "rm-analytics/metrics"


METRICS_SCHEMA_VERSION = "1.2"


#: Top-level keys of ``*.metrics.json`` that :meth:`MetricsCollector.attach` cannot use.
RESERVED_KEYS = (
    "schema",
    "schema_version",
    "package_version",
    "report",
    "metrics",
    "sections",
    "recommendation",
    "primary_estimand",
    "summary_sentences",
)


#: MIME type of the notebook output that carries the metrics out of the kernel.
METRICS_MIMETYPE = "application/vnd.rm-analytics.metrics+json"


@dataclass
class Metric:
    """One figure of a report, as written to ``*.metrics.json``.

    ``display`` is the exact text shown in the report (e.g. ``"12% (5% to 19%)"``);
    ``suppressed`` is true when the report's privacy policy hid the figure (then ``estimate``,
    the interval, the p-value and ``n`` are null and ``display`` says why, e.g.
    ``"hidden (fewer than 5 people)"``). ``role`` is ``"primary"`` for the pre-declared
    headline estimand, ``"supporting"`` for analyses that support it without a verdict of
    their own, else empty.
    """

    key: str
    label: str
    estimate: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    unit: str = "number"
    n: int | None = None
    section: str = ""
    headline: str | None = None
    better: str | None = None
    verdict: str | None = None
    verdict_reason: str | None = None
    method: str = ""
    note: str = ""
    suppressed: bool = False
    display: str = ""
    role: str = ""
    p_value: float | None = None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("estimate", "ci_low", "ci_high", "p_value"):
            d[k] = json_number(d[k])
        return d


def json_number(x: Any) -> float | int | None:
    if x is None or not is_finite(x):
        return None
    v = float(x)
    return int(v) if v.is_integer() and abs(v) < 2**53 else float(np.round(v, 10))


@dataclass
class MetricsCollector:
    """Collects the figures a report shows; written as ``<report>.metrics.json``.

    A notebook fills it (sections call :meth:`add`) and calls :meth:`publish` once at the end:
    the content travels to :func:`rm_analytics.report.render` as a notebook output with the
    MIME type :data:`METRICS_MIMETYPE` (hidden in the HTML). The JSON holds no timestamps,
    so the same inputs and seed give the same file; timings go to the run manifest.

    Sections may add top-level entries that are not figures with :meth:`attach` (the
    program lead's report adds ``pairs``: one entry per pair).

    Privacy: ``policy`` (a :class:`~rm_analytics.report.privacy.PrivacyPolicy`; by default
    the sponsor's, with ``min_cell_size`` as the minimum group, or none when
    ``min_cell_size`` is None) decides which figures are hidden: a figure whose ``n`` (or any
    of the ``groups`` it compares) is from 1 to ``k - 1`` people, a ``people`` count from 1 to
    ``k - 1``, a mean whose interval has no width, and figures the policy hides so that other
    reports cannot reveal a hidden one. A hidden figure carries no estimate, interval,
    p-value or ``n``; its display says why.
    """

    report: dict[str, Any] = field(default_factory=dict)
    currency: str = "EUR"
    min_cell_size: int | None = 5
    metrics: dict[str, Metric] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    recommendation: dict[str, Any] | None = None
    attachments: dict[str, Any] = field(default_factory=dict)
    """Top-level entries added with :meth:`attach` (e.g. the program lead's ``pairs``)."""
    primary: dict[str, Any] | None = None
    """The declared primary estimand with its figures (see :mod:`.estimand`)."""
    sentences: dict[str, str] = field(default_factory=dict)
    """The first page's sentence per headline slot."""
    policy: PrivacyPolicy | None = None

    def __post_init__(self) -> None:
        if self.policy is None:
            k = self.min_cell_size
            self.policy = PrivacyPolicy(k or 5, active=k is not None)

    def add(
        self,
        key: str,
        estimate: Any,
        ci_low: Any = None,
        ci_high: Any = None,
        *,
        label: str,
        unit: str = "number",
        n: int | None = None,
        section: str = "",
        headline: str | None = None,
        better: str | None = None,
        null: float | None = None,
        scale: str = "linear",
        margin: float | None = None,
        method: str = "",
        note: str = "",
        digits: int | None = None,
        role: str = "",
        p_value: Any = None,
        no_interval: str = "",
        groups: Any = None,
        hide: str | None = None,
        who: str = "people",
    ) -> Metric:
        """Record a figure; with ``better`` set, its :func:`verdict` is computed and stored
        (with the method's own ``p_value`` when given; ``no_interval`` says why there is no
        interval when the caller knows).

        ``groups`` are the sizes of the groups the figure compares (default: ``n``); the
        privacy policy hides the figure when one of them is small. ``hide`` hides it for a
        reason the caller decided (a reason code of
        :data:`~rm_analytics.report.privacy.HIDDEN_REASONS`, e.g. ``"complement"``); ``who``
        names the units counted in the display of a hidden figure ("people", "pairs").

        Keys are unique (adding a key again replaces it).
        """
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}; units are {', '.join(UNITS)}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ValueError(f"metric key {key!r} must be snake_case")
        m = Metric(
            key=key,
            label=label,
            estimate=json_number(estimate),
            ci_low=json_number(ci_low),
            ci_high=json_number(ci_high),
            unit=unit,
            n=None if n is None else int(n),
            section=section,
            headline=headline,
            better=better,
            method=method,
            note=note,
            role=role,
            p_value=json_number(p_value),
        )
        policy = self.policy
        sizes = [m.n] if groups is None else list(groups)
        if unit == "people" and groups is None:
            sizes = [m.estimate, m.n]
        why = policy.reason(
            *sizes,
            estimate=m.estimate,
            ci=(m.ci_low, m.ci_high),
            key=f"metric:{key}",
            equal=unit in ("number", "points"),
        )
        if why is None and policy.active and hide:
            why = hide
        policy.note(f"metric:{key}", sizes, why is not None)
        if why is not None:
            m.estimate = m.ci_low = m.ci_high = m.p_value = None
            m.n = None
            m.suppressed = True
            m.display = policy.hidden(why, who)
            m.note = (m.note + " " if m.note else "") + (
                f"Hidden: the report shows no figure about fewer than {policy.min_group} "
                "people, nor one from which such a figure could be worked out."
            )
        else:
            m.display = (
                fmt_interval(
                    m.estimate, m.ci_low, m.ci_high, unit, currency=self.currency, digits=digits
                )
                if (m.ci_low is not None or m.ci_high is not None or better is not None)
                else fmt_value(m.estimate, unit, currency=self.currency, digits=digits)
            )
        if better is not None:
            v = verdict(
                m.estimate,
                m.ci_low,
                m.ci_high,
                better=better,
                null=(1.0 if scale == "log" else 0.0) if null is None else null,
                scale=scale,
                margin=margin,
                p_value=m.p_value,
                no_interval=no_interval,
            )
            m.verdict, m.verdict_reason = v.label, v.reason
        self.metrics[key] = m
        return m

    def attach(self, name: str, value: Any, *, confidential: bool = True) -> None:
        """Add a top-level entry ``name`` to the metrics JSON: the extension point for content
        that is not a figure, such as the program lead's ``pairs`` list.

        ``name`` is snake_case and not one of the JSON's own keys (:data:`RESERVED_KEYS`);
        ``value`` is JSON-friendly (lists, dicts, text, numbers; NaN is written as null,
        dates as ISO text). Adding a name again replaces it. ``confidential`` content
        (pair-level, named) is refused for a sponsor report.
        """
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name in RESERVED_KEYS:
            raise ValueError(
                f"attachment name {name!r} must be snake_case and not one of "
                f"{', '.join(RESERVED_KEYS)}"
            )
        if confidential and self.report.get("audience") == "sponsor":
            raise ValueError(f"{name!r} is confidential and cannot go into a sponsor report")
        self.attachments[name] = value

    def section_status(self, key: str, status: str, reason: str = "", title: str = "") -> None:
        """Record whether a section was computed (``ok``), ``pending`` or ``unavailable``."""
        self.sections[key] = {"status": status, "reason": reason, "title": title}

    def get(self, key: str) -> Metric | None:
        return self.metrics.get(key)

    def headlines(self) -> dict[str, Metric]:
        """Metrics marked as headline figures, by headline slot."""
        return {m.headline: m for m in self.metrics.values() if m.headline}

    def to_dict(self) -> dict[str, Any]:
        """The ``*.metrics.json`` content (schema :data:`METRICS_SCHEMA_VERSION`)."""
        from .._version import __version__

        return {
            "schema": METRICS_SCHEMA,
            "schema_version": METRICS_SCHEMA_VERSION,
            "package_version": __version__,
            "report": _plain(self.report),
            "metrics": {k: self.metrics[k].to_json() for k in sorted(self.metrics)},
            "sections": {k: dict(self.sections[k]) for k in self.sections},
            "recommendation": self.recommendation,
            "primary_estimand": _plain(self.primary),
            "summary_sentences": dict(sorted(self.sentences.items())),
            **{k: _plain(self.attachments[k]) for k in sorted(self.attachments)},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n"

    def write(self, path: str | os.PathLike) -> Path:
        """Write the JSON atomically (temporary file, then rename)."""
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, target)
        return target

    def publish(self) -> None:
        """Emit the metrics as a hidden notebook output for :func:`rm_analytics.report.render`."""
        from IPython.display import display

        display({METRICS_MIMETYPE: self.to_dict(), "text/plain": ""}, raw=True)

    def table(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """The metrics as a people-readable table: figure, value, verdict, n."""
        ms = [self.metrics[k] for k in keys] if keys is not None else list(self.metrics.values())
        return pd.DataFrame(
            {
                "Figure": [m.label for m in ms],
                "Value (95% interval)": [m.display for m in ms],
                "Verdict": [m.verdict or "" for m in ms],
                "People": [
                    "hidden" if m.suppressed else ("" if m.n is None else fmt_count(m.n))
                    for m in ms
                ],
            }
        )


def _plain(obj: Any) -> Any:
    """JSON-safe copy: NaN -> None, numpy scalars -> Python, dates -> ISO strings."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return json_number(obj)
    if isinstance(obj, (pd.Timestamp,)):
        return None if pd.isna(obj) else obj.date().isoformat()
    if obj is pd.NaT or obj is pd.NA:
        return None
    return obj


def read_metrics(path: str | os.PathLike) -> dict[str, Any]:
    """Read a ``*.metrics.json`` file and check its schema."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("schema") != METRICS_SCHEMA:
        raise ValueError(f"{path} is not an rm-analytics metrics file")
    major = str(data.get("schema_version", "")).split(".")[0]
    if major != METRICS_SCHEMA_VERSION.split(".")[0]:
        raise ValueError(
            f"{path} has metrics schema {data.get('schema_version')}, this version reads "
            f"{METRICS_SCHEMA_VERSION}"
        )
    return data
