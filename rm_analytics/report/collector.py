"""Formatting for people, verdicts generated from numbers, small-cell suppression, and the
:class:`MetricsCollector` whose content becomes ``<report>.metrics.json``.

Everything a report says in words is computed here from numbers, so a null result reads as a
null result. The rules are documented on each function and tested.

Verdict rules (:func:`verdict`), for an estimate with a 95% confidence interval and a value of
"no effect" (``null``, 0 for differences, 1 for ratios):

=============================  ================================================================
label                          rule
=============================  ================================================================
``not enough evidence yet``    no estimate, or no interval (too few people or events), or the
                               interval includes "no effect" and the estimate is not
                               suggestive (below)
``clear improvement``          the whole 95% interval lies on the favourable side of no effect
``suggestive improvement``     the 95% interval includes no effect, but an 80% interval would
                               not: ``|estimate - null| / se >= 1.2816`` with
                               ``se = (ci_high - ci_low) / (2 * 1.96)`` (on the log scale for
                               ratios), i.e. a one-sided p-value below 0.10
``no meaningful difference``   only when an equivalence ``margin`` is given: the whole 95%
                               interval lies within ``null +/- margin``
``suggestive deterioration``   as "suggestive improvement", on the unfavourable side
``clear deterioration``        the whole 95% interval lies on the unfavourable side
=============================  ================================================================
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Version of the ``*.metrics.json`` layout; bump on any incompatible change.
METRICS_SCHEMA = "rm-analytics/metrics"
METRICS_SCHEMA_VERSION = "1.0"
#: MIME type of the notebook output that carries the metrics out of the kernel.
METRICS_MIMETYPE = "application/vnd.rm-analytics.metrics+json"

#: Units a metric can have; they decide how it is formatted.
UNITS = ("count", "people", "share", "pp", "percent", "ratio", "currency", "number", "points")

_Z95 = 1.959963984540054
_Z80 = 1.2815515655446004

VERDICT_LABELS = (
    "clear improvement",
    "suggestive improvement",
    "no meaningful difference",
    "not enough evidence yet",
    "suggestive deterioration",
    "clear deterioration",
)


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


# -- formatting ---------------------------------------------------------------------------
NOT_ESTIMABLE = "not estimable"


def fmt_number(x: Any, digits: int = 1) -> str:
    """``1234.5 -> "1,234.5"``; whole numbers without decimals when ``digits=0``."""
    if not _finite(x):
        return NOT_ESTIMABLE
    return f"{float(x):,.{digits}f}".replace("-", "\u2212")


def fmt_count(x: Any) -> str:
    """A whole number with thousands separators: ``1500 -> "1,500"``."""
    if not _finite(x):
        return NOT_ESTIMABLE
    return f"{round(float(x)):,}"


def fmt_pct(x: Any, digits: int = 0, *, signed: bool = False) -> str:
    """A share (0.123) as a percentage: ``"12%"``; ``signed`` adds ``+`` to positive values."""
    if not _finite(x):
        return NOT_ESTIMABLE
    v = float(x) * 100
    if abs(v) < 0.5 * 10**-digits:
        v = 0.0
    text = f"{v:{'+' if signed else ''}.{digits}f}%"
    return text.replace("-", "\u2212")


def fmt_pp(x: Any, digits: int = 0) -> str:
    """A difference of shares in percentage points: ``0.05 -> "+5 pp"``."""
    if not _finite(x):
        return NOT_ESTIMABLE
    v = float(x) * 100
    if abs(v) < 0.5 * 10**-digits:
        v = 0.0
    return f"{v:+.{digits}f} pp".replace("-", "\u2212")


_CURRENCY_SYMBOLS = {"EUR": "\u20ac", "USD": "$", "GBP": "\u00a3", "JPY": "\u00a5"}


def fmt_currency(x: Any, currency: str = "EUR", *, digits: int = 0) -> str:
    """An amount: ``12345 -> "€12,345"``; ``1.2e6 -> "€1.2m"``; unknown codes as suffix."""
    if not _finite(x):
        return NOT_ESTIMABLE
    v = float(x)
    sign = "\u2212" if v < 0 else ""
    v = abs(v)
    body = f"{v / 1e6:,.1f}m" if v >= 1e6 else f"{v:,.{digits}f}"
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency.upper()}"


def fmt_value(
    x: Any, unit: str = "number", *, currency: str = "EUR", digits: int | None = None
) -> str:
    """Format one value by unit (see :data:`UNITS`)."""
    if unit in ("count", "people"):
        return fmt_count(x)
    if unit == "share":
        return fmt_pct(x, 0 if digits is None else digits)
    if unit == "pp":
        return fmt_pp(x, 0 if digits is None else digits)
    if unit == "percent":  # already in percent (e.g. ROI %)
        if not _finite(x):
            return NOT_ESTIMABLE
        return fmt_number(x, 0 if digits is None else digits) + "%"
    if unit == "ratio":
        return fmt_number(x, 2 if digits is None else digits)
    if unit == "currency":
        return fmt_currency(x, currency, digits=0 if digits is None else digits)
    if unit == "points":  # a difference on a rating scale, signed
        if not _finite(x):
            return NOT_ESTIMABLE
        return f"{float(x):+,.{2 if digits is None else digits}f}".replace("-", "\u2212")
    if unit == "number":
        return fmt_number(x, 1 if digits is None else digits)
    raise ValueError(f"unknown unit {unit!r}; units are {', '.join(UNITS)}")


def fmt_interval(
    estimate: Any,
    ci_low: Any = None,
    ci_high: Any = None,
    unit: str = "number",
    *,
    currency: str = "EUR",
    digits: int | None = None,
) -> str:
    """``"12% (5% to 19%)"``: an estimate and its interval, formatted by unit.

    Without an estimate: ``"not estimable"``; without an interval: the estimate followed by
    ``"(no interval)"`` so a reader never mistakes a point estimate for a sure value.
    Differences (``pp``, ``points``) keep their sign on both bounds: ``"+5 pp (−2 pp to +12 pp)"``.
    """
    est = fmt_value(estimate, unit, currency=currency, digits=digits)
    if not _finite(estimate):
        return NOT_ESTIMABLE
    if not (_finite(ci_low) and _finite(ci_high)):
        return f"{est} (no interval)"
    lo = fmt_value(ci_low, unit, currency=currency, digits=digits)
    hi = fmt_value(ci_high, unit, currency=currency, digits=digits)
    return f"{est} ({lo} to {hi})"


# -- verdicts --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """A plain-language verdict: ``label`` (one of :data:`VERDICT_LABELS`) and ``reason``."""

    label: str
    reason: str

    @property
    def favourable(self) -> bool:
        return self.label in ("clear improvement", "suggestive improvement")

    @property
    def unfavourable(self) -> bool:
        return self.label in ("clear deterioration", "suggestive deterioration")

    def __str__(self) -> str:
        return self.label


def verdict(
    estimate: Any,
    ci_low: Any,
    ci_high: Any,
    *,
    better: str = "higher",
    null: float = 0.0,
    scale: str = "linear",
    margin: float | None = None,
) -> Verdict:
    """The verdict on one result from its estimate and 95% interval (rules in the module doc).

    Parameters
    ----------
    estimate, ci_low, ci_high
        The estimate and its 95% confidence interval (NaN or None when not estimable).
    better
        ``"higher"`` when larger values favour the program, ``"lower"`` otherwise (hazard
        ratios of leaving, costs).
    null
        The value meaning "no effect" (0 for differences, 1 for ratios).
    scale
        ``"log"`` for ratios (hazard ratio, odds ratio): the interval is symmetric on the log
        scale, so the standard error is taken there.
    margin
        Optional equivalence margin (same scale as the estimate) for "no meaningful
        difference"; without it a null result is always "not enough evidence yet".
    """
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', not {better!r}")
    if scale not in ("linear", "log"):
        raise ValueError(f"scale must be 'linear' or 'log', not {scale!r}")
    if not _finite(estimate):
        return Verdict("not enough evidence yet", "the result could not be estimated from the data")
    if not (_finite(ci_low) and _finite(ci_high)):
        return Verdict(
            "not enough evidence yet", "there are too few people or events for an interval"
        )
    est, lo, hi = float(estimate), float(ci_low), float(ci_high)
    if lo > hi:
        lo, hi = hi, lo
    sign = 1.0 if better == "higher" else -1.0
    if margin is not None and null - margin <= lo and hi <= null + margin:
        return Verdict(
            "no meaningful difference",
            f"the whole 95% interval lies within {margin:g} of no effect",
        )
    if lo > null or hi < null:
        favourable = (lo > null) == (sign > 0)
        return Verdict(
            "clear improvement" if favourable else "clear deterioration",
            "the whole 95% interval lies on one side of no effect",
        )
    if scale == "log":
        if min(est, lo, hi, null) <= 0:
            return Verdict("not enough evidence yet", "the interval is not usable on a log scale")
        e, lo_, hi_, n0 = math.log(est), math.log(lo), math.log(hi), math.log(null)
    else:
        e, lo_, hi_, n0 = est, lo, hi, null
    se = (hi_ - lo_) / (2 * _Z95)
    if se > 0 and abs(e - n0) / se >= _Z80:
        favourable = ((e - n0) * sign) > 0
        return Verdict(
            "suggestive improvement" if favourable else "suggestive deterioration",
            "the 95% interval includes no effect, but an 80% interval would not",
        )
    return Verdict(
        "not enough evidence yet",
        "the 95% interval includes no effect; the data cannot tell a gain from a loss yet",
    )


def recommendation(verdicts: Mapping[str, Verdict | str | None], *, roi_low: Any = None) -> dict:
    """The recommendation (continue, scale or reshape) from the headline verdicts.

    Rules, in order:

    1. no headline result estimated -> ``"no recommendation yet"``;
    2. any clear deterioration -> ``"reshape"``;
    3. the retention result (key ``"retention"``) or at least two results are a clear
       improvement, none deteriorates, and the lower end of the ROI range (when given) is
       above zero -> ``"scale"``;
    4. any suggestive deterioration -> ``"reshape"``;
    5. otherwise -> ``"continue"`` (keep running cohorts and collect the evidence).

    Returns a dict with ``action`` and ``reason``.
    """
    labels = {
        k: (v.label if isinstance(v, Verdict) else v) for k, v in verdicts.items() if v is not None
    }
    if not labels:
        return {
            "action": "no recommendation yet",
            "reason": "none of the headline results has been estimated yet",
        }
    clear = [k for k, v in labels.items() if v == "clear improvement"]
    worse = [k for k, v in labels.items() if v == "clear deterioration"]
    maybe_worse = [k for k, v in labels.items() if v == "suggestive deterioration"]
    if worse:
        return {
            "action": "reshape",
            "reason": f"{_join(worse)} clearly deteriorated; change the design before another cohort",
        }
    roi_ok = roi_low is None or (_finite(roi_low) and float(roi_low) > 0)
    if ("retention" in clear or len(clear) >= 2) and not maybe_worse and roi_ok:
        return {
            "action": "scale",
            "reason": f"{_join(clear)} clearly improved"
            + ("" if roi_low is None else " and even the conservative ROI is positive"),
        }
    if maybe_worse:
        return {
            "action": "reshape",
            "reason": f"{_join(maybe_worse)} may have deteriorated; review the design",
        }
    return {
        "action": "continue",
        "reason": "the evidence so far does not justify scaling up or stopping; run the next "
        "cohort and keep measuring",
    }


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# -- privacy ---------------------------------------------------------------------------------
def suppress_small(
    df: pd.DataFrame,
    count_columns: str | Sequence[str],
    min_cell_size: int = 5,
    *,
    dependent: Sequence[str] = (),
    marker: str | None = None,
) -> pd.DataFrame:
    """Hide counts of people from 1 to ``min_cell_size - 1`` (zero stays visible).

    The hidden counts, and the ``dependent`` columns of the same rows (rates, means computed
    from them), are replaced by ``marker`` (default ``"<5"`` for ``min_cell_size=5``). The
    result has object columns where something was hidden; the input is not modified.
    """
    cols = [count_columns] if isinstance(count_columns, str) else list(count_columns)
    missing = [c for c in [*cols, *dependent] if c not in df.columns]
    if missing:
        raise KeyError(f"suppress_small: no column(s) {', '.join(missing)}")
    mark = marker if marker is not None else f"<{min_cell_size}"
    out = df.copy()
    small = np.zeros(len(df), dtype=bool)
    for c in cols:
        v = pd.to_numeric(df[c], errors="coerce")
        s = ((v > 0) & (v < min_cell_size)).fillna(False).to_numpy()
        small |= s
        if s.any():
            out[c] = out[c].astype(object)
            out.loc[s, c] = mark
    if small.any():
        for c in dependent:
            out[c] = out[c].astype(object)
            out.loc[small, c] = mark
    return out


#: Patterns of identifiers that must never appear in a sponsor report.
ID_PATTERNS = {"employee id": re.compile(r"\bE\d{6}\b"), "pair id": re.compile(r"\bC\d\d-P\d\d\b")}


def find_identifiers(text: str, patterns: Mapping[str, re.Pattern] | None = None) -> list[str]:
    """Identifiers found in ``text`` (e.g. rendered HTML), for privacy checks."""
    hits: list[str] = []
    for pat in (patterns or ID_PATTERNS).values():
        hits.extend(pat.findall(text))
    return hits


# -- metrics ---------------------------------------------------------------------------------
@dataclass
class Metric:
    """One figure of a report, as written to ``*.metrics.json``.

    ``display`` is the exact text shown in the report (e.g. ``"12% (5% to 19%)"``);
    ``suppressed`` is true when a small cell was hidden (then ``estimate`` and the interval
    are null and ``display`` says why).
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

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("estimate", "ci_low", "ci_high"):
            d[k] = _json_number(d[k])
        return d


def _json_number(x: Any) -> float | int | None:
    if x is None or not _finite(x):
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

    Small-cell rule: with ``min_cell_size`` set, a ``people`` count from 1 to
    ``min_cell_size - 1``, and any metric whose ``n`` is below ``min_cell_size``, is
    suppressed (estimate and interval null, display ``"fewer than 5"``).
    """

    report: dict[str, Any] = field(default_factory=dict)
    currency: str = "EUR"
    min_cell_size: int | None = 5
    metrics: dict[str, Metric] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    recommendation: dict[str, Any] | None = None

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
    ) -> Metric:
        """Record a figure; with ``better`` set, its :func:`verdict` is computed and stored.

        Keys are unique (adding a key again replaces it).
        """
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}; units are {', '.join(UNITS)}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ValueError(f"metric key {key!r} must be snake_case")
        m = Metric(
            key=key,
            label=label,
            estimate=_json_number(estimate),
            ci_low=_json_number(ci_low),
            ci_high=_json_number(ci_high),
            unit=unit,
            n=None if n is None else int(n),
            section=section,
            headline=headline,
            better=better,
            method=method,
            note=note,
        )
        k = self.min_cell_size
        small_n = k is not None and m.n is not None and 0 < m.n < k
        small_count = (
            k is not None and unit == "people" and m.estimate is not None and 0 < m.estimate < k
        )
        if small_n or small_count:
            m.estimate = m.ci_low = m.ci_high = None
            m.suppressed = True
            m.display = f"fewer than {k}"
            m.note = (m.note + " " if m.note else "") + (
                f"Hidden: cells smaller than {k} people are not shown."
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
            )
            m.verdict, m.verdict_reason = v.label, v.reason
        self.metrics[key] = m
        return m

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
                    "" if m.n is None else ("hidden" if m.suppressed else fmt_count(m.n))
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
        return _json_number(obj)
    if isinstance(obj, (pd.Timestamp,)):
        return obj.date().isoformat()
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
