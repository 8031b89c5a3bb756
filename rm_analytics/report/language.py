"""Plain language for sponsors: code identifiers, raw numbers and method names out of the text.

:func:`plain` rewrites a sentence written for analysts (a note of a result, a data-quality
entry) so that no code identifier reaches a sponsor: known identifiers become words
(``as_of`` -> "the report date", ``cohort_id`` -> "cohort"), any other ``snake_case`` word
loses its underscores, back-ticks go, and numbers with more than three decimals are rounded.
:func:`sponsor_text_problems` is the check the tests run on every sponsor page: it lists code
identifiers, missing-value markers, booleans, raw floats, internal file names, hidden figures
spliced into a sentence as if they were numbers and, outside the appendix, method jargon.
"""

from __future__ import annotations

import re

#: Identifiers that have a plain name.
IDENTIFIERS: dict[str, str] = {
    "as_of": "the report date",
    "cohort_id": "cohort",
    "pair_id": "pair",
    "employee_id": "person",
    "respondent_id": "respondent",
    "mentor_id": "mentor",
    "mentee_id": "mentee",
    "manager_id": "manager",
    "annual_salary": "annual salary",
    "hire_date": "hire date",
    "termination_date": "leaving date",
    "termination_type": "reason for leaving",
    "start_date": "start date",
    "end_date": "end date",
    "response_date": "answer date",
    "duration_minutes": "session length",
    "planned_sessions": "planned sessions",
    "cadence_days": "session cadence",
    "engagement_index": "engagement index",
    "retention_intent": "intention to stay",
    "psych_safety": "psychological safety",
    "goal_met": "goal met",
    "no_show": "no-show",
    "performance_rating": "performance rating",
    "birth_year": "year of birth",
    "age_band": "age band",
    "tenure_years": "tenure",
    "min_cell_size": "minimum group size",
    "replacement_cost_share": "replacement cost",
    "horizon_months": "horizon",
    "d_z": "standardised change",
    "data_literacy": "data literacy",
    "generative_ai": "generative AI",
    "social_media": "social media",
    "executive_communication": "executive communication",
    "strategic_thinking": "strategic thinking",
}

_SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
_MISSING = re.compile(r"\bNaN\b|<NA>|\bNaT\b|\bNone\b|\bnan\b")
_BOOLEAN = re.compile(r"\bTrue\b|\bFalse\b")
_LONG_FLOAT = re.compile(r"(?<![\w.])([-+\u2212]?\d+\.\d{4,})(?![\w.])")


def _round(match: re.Match) -> str:
    text = match.group(1).replace("\u2212", "-")
    value = float(text)
    out = f"{value:.3f}" if abs(value) < 1 else f"{value:,.2f}"
    return out.replace("-", "\u2212")


def plain(text: str) -> str:
    """``text`` without code identifiers, back-ticks or raw floats (see the module doc)."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    out = text.replace("`", "")
    out = _SNAKE.sub(lambda m: IDENTIFIERS.get(m.group(0), m.group(0).replace("_", " ")), out)
    out = _MISSING.sub("not available", out)
    out = _BOOLEAN.sub(lambda m: "yes" if m.group(0) == "True" else "no", out)
    return _LONG_FLOAT.sub(_round, out)


#: Names of methods a sponsor does not need in the body of the report (they are explained in
#: the appendix).
JARGON = (
    "Boschloo",
    "MOVER",
    "Newcombe",
    "Grambsch",
    "Therneau",
    "Greenwood",
    "Satterthwaite",
    "Clopper",
    "Kaplan",
    "Cox",
    "Efron",
    "Welch",
    "Wilson",
    "Wald",
    "Schoenfeld",
    "Freedman",
    "Cronbach",
    "CR2",
    "CR1",
    "log-rank",
    "difference-in-differences",
    "propensity",
    "d_z",
    "RMST",
    "hazard",
    "p-value",
    "p =",
)

#: Markers of internal material that never belong in a report.
INTERNAL = ("seed 0", "seeds/", "machine-reworded", "DOMAIN.md", ".py", "rm_analytics")

#: A hidden figure spliced into a sentence as if it were a number ("rose by fewer than 5
#: points", "by hidden"): a hidden figure reads "hidden (fewer than 5 people)" on its own.
_SPLICED = re.compile(
    r"\b(?:by|to|from|of|at|was|were)\s+hidden\b(?!\s*\()"
    r"|\bfewer than \d+\s+(?:points?|pp|percentage points|%|per cent|times)\b"
    r"|\b(?:rose|fell|moved|changed|increased|decreased|grew|dropped)\s+by\s+fewer than\b"
)

_PATTERNS: dict[str, re.Pattern] = {
    "code identifier": _SNAKE,
    "missing-value marker": _MISSING,
    "boolean": _BOOLEAN,
    "back-tick": re.compile(r"`"),
    "raw number": _LONG_FLOAT,
    "hidden figure spliced into a sentence": _SPLICED,
}


def sponsor_text_problems(text: str, *, appendix: bool = False) -> list[str]:
    """What in ``text`` (visible text of a sponsor page) a sponsor should not read.

    Returns ``"kind: excerpt"`` strings (empty when the text is clean). With
    ``appendix=True`` method names are allowed (the appendix explains them).
    """
    found: list[str] = []
    for kind, pattern in _PATTERNS.items():
        for m in pattern.finditer(text):
            found.append(f"{kind}: {text[max(0, m.start() - 30) : m.end() + 30]!r}")
    for marker in INTERNAL:
        if marker in text:
            i = text.index(marker)
            found.append(f"internal material: {text[max(0, i - 30) : i + 40]!r}")
    if not appendix:
        for word in JARGON:
            for m in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
                found.append(f"jargon: {text[max(0, m.start() - 30) : m.end() + 30]!r}")
    return found
