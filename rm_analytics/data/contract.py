"""The data contract: which tables a pilot has, their columns, types and rules.

This module is the single source of truth. The loaders validate against it, the writers write
it, and ``docs/data-contract.md`` is generated from it (a test keeps the two in sync).

Importing this module is cheap (no pandas), so the command line can use it at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["id", "str", "text", "date", "int", "float", "choice", "bool", "level"]

#: Values read as missing in every text file (besides the empty string).
MISSING_TOKENS = ("", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None")

#: Accepted spellings of booleans (case-insensitive).
TRUE_TOKENS = ("yes", "y", "true", "t", "1", "1.0")
FALSE_TOKENS = ("no", "n", "false", "f", "0", "0.0")


@dataclass(frozen=True)
class Column:
    """One column of a table in the data contract."""

    name: str
    kind: Kind
    description: str
    required: bool = True
    """The column must be present in the file."""
    nullable: bool = False
    """Cells may be blank."""
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    unique: bool = False
    references: tuple[str, str] | None = None
    """(table, column) every non-blank value must exist in."""
    aliases: tuple[str, ...] = ()
    """Other header spellings accepted for this column."""
    limit: str = ""
    """Why ``minimum`` / ``maximum`` hold (e.g. a plausibility limit), shown with them."""


@dataclass(frozen=True)
class Table:
    """One table of the data contract."""

    name: str
    description: str
    required: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    """Columns whose combination must be unique (besides single ``unique`` columns)."""
    rules: tuple[str, ...] = field(default=())
    """Cross-column and cross-table rules, in words (enforced in ``validation``)."""

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


TERMINATION_TYPES = ("voluntary", "involuntary", "other")
PAIR_STATUSES = ("active", "completed", "paused", "reshuffled", "withdrawn")
SESSION_STATUSES = ("held", "cancelled", "no_show")
PHASES = ("pre", "post")
INTERVENTION_ACTIONS = ("check_in", "pause", "resume", "reshuffle", "rematch", "close")
CHECKPOINTS = ("week6", "endpoint")

#: Known survey scales: (survey, item or None for every item) -> (minimum, maximum).
#: A row's own ``scale_min`` / ``scale_max`` cells override these (e.g. a 5-point
#: psychological-safety variant).
SURVEY_SCALES: dict[tuple[str, str | None], tuple[float, float]] = {
    ("engagement", None): (1, 5),
    ("retention_intent", None): (1, 5),
    ("psych_safety", None): (1, 7),
    ("feedback", "progress"): (1, 5),
    ("feedback", "safety"): (1, 5),
    ("feedback", "recommend"): (0, 1),
}

#: Items whose answers are yes/no; stored as 1 (yes) and 0 (no).
YES_NO_ITEMS = frozenset({("feedback", "recommend")})

#: Items whose answers are free text. Free text is confidential: it reaches only the
#: program lead's view. Any item whose name ends in ``_text`` is free text too.
FREE_TEXT_ITEMS = frozenset({"worked", "improve", "comment"})

#: Edmondson (1999) team psychological-safety items in scale order; ps1, ps3, ps5 are
#: negatively worded and reverse-scored.
PSYCH_SAFETY_ITEMS = ("ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7")
PSYCH_SAFETY_REVERSED = ("ps1", "ps3", "ps5")

#: Named pulse waves in their order (psychological-safety pulses, feedback form).
PULSE_WAVES = ("baseline", "midpoint", "endpoint")

#: Plausibility window for session dates, relative to the pair's cohort.
SESSION_DAYS_BEFORE_COHORT = 14
SESSION_DAYS_AFTER_COHORT = 90

#: Plausibility window for a pair's dates, relative to its cohort: a pair starts at most
#: this many days before the cohort start and not after the cohort end ...
PAIR_DAYS_BEFORE_COHORT = 14
#: ... and ends at most this many days after the cohort end.
PAIR_DAYS_AFTER_COHORT = 90

EARLIEST_BIRTH_YEAR = 1920
MIN_WORKING_AGE = 14

#: Plausibility limits: values outside are typing or unit errors, never data.
MAX_ANNUAL_SALARY = 1e11
"""No annual salary in any currency reaches 100 billion (it would be over a million US
dollars even in the currency with the most units per dollar)."""
SCORE_LIMIT = 1000
"""Scores, ratings and scale bounds lie within -1000 to 1000 (no rating or survey scale is
wider)."""
OUTCOME_VALUE_LIMIT = 1e15
"""Business outcome values lie within -1e15 to 1e15."""

_SCORE_WHY = "plausibility: no rating or assessment scale is wider"


def format_bound(x: float) -> str:
    """A bound as messages and the documentation show it (``1,000,000`` rather than
    ``1e+06`` for large whole numbers)."""
    return f"{x:,.0f}" if abs(x) >= 1e6 and float(x).is_integer() else f"{x:g}"


def is_free_text_item(item: str) -> bool:
    """Whether a survey item holds free text rather than a number."""
    return item in FREE_TEXT_ITEMS or item.endswith("_text")


def survey_scale(survey: str, item: str) -> tuple[float, float] | None:
    """The default (minimum, maximum) of a survey item, or None when unknown."""
    return SURVEY_SCALES.get((survey, item)) or SURVEY_SCALES.get((survey, None))


EMPLOYEES = Table(
    name="employees",
    description=(
        "The HRIS roster: one row per person ever employed in the analysis window, "
        "participants and non-participants alike. Extra columns are kept as covariates."
    ),
    required=True,
    columns=(
        Column("employee_id", "id", "Unique person identifier.", unique=True),
        Column("hire_date", "date", "Date of hire (latest hire for rehires)."),
        Column(
            "termination_date",
            "date",
            "Date of leaving; blank while employed.",
            nullable=True,
        ),
        Column(
            "termination_type",
            "choice",
            "Why the person left; required when terminated, blank otherwise.",
            nullable=True,
            choices=TERMINATION_TYPES,
        ),
        Column("department", "str", "Department or business unit."),
        Column(
            "level",
            "level",
            "Ordered grade. Sorted numerically (1 < 2 < 10) or by the number inside a label "
            "(L2 < L10) when every label is spelled one way, or by the `level_order` argument "
            "of `load_pilot` (`--level-order`, or `level_order` in a mapping file). Labels "
            'spelled in different ways ("Level 4" and "L7") or word grades (Analyst, '
            "Manager) have no natural order and need `level_order`.",
        ),
        Column(
            "manager_id",
            "id",
            "Direct manager (for reporting-line conflict checks).",
            required=False,
            nullable=True,
            references=("employees", "employee_id"),
        ),
        Column(
            "birth_year",
            "int",
            "Year of birth (for age bands).",
            required=False,
            nullable=True,
        ),
        Column(
            "annual_salary",
            "float",
            "Annual base salary in the report currency (for ROI).",
            required=False,
            nullable=True,
            minimum=0,
            maximum=MAX_ANNUAL_SALARY,
            limit="plausibility: no annual salary in any currency is larger; check the unit "
            "and the decimal separator",
        ),
        Column(
            "performance_rating",
            "float",
            "Latest performance rating (any numeric scale).",
            required=False,
            nullable=True,
            minimum=-SCORE_LIMIT,
            maximum=SCORE_LIMIT,
            limit=_SCORE_WHY,
        ),
        Column("location", "str", "Work location.", required=False, nullable=True),
        Column(
            "name",
            "str",
            "Display name (shown in the program lead's confidential view only; never in "
            "sponsor output).",
            required=False,
            nullable=True,
            aliases=("display_name", "full_name"),
        ),
    ),
    rules=(
        "termination_date is not before hire_date",
        "termination_type is given exactly when termination_date is",
        "hire_date is not in the future",
        f"hire_date is not before {EARLIEST_BIRTH_YEAR + MIN_WORKING_AGE}, and not before the "
        f"year the person turned {MIN_WORKING_AGE} (birth_year + {MIN_WORKING_AGE})",
        "birth_year is between 1920 and 14 years before today",
        "a termination_date after today is a planned leave, not an exit: the person counts as "
        "employed at the analysis date, and the data-quality table counts such rows as "
        '"planned termination after the analysis date"',
        "manager_id is not the employee's own id",
    ),
)

COHORTS = Table(
    name="cohorts",
    description="One row per cohort of pairs.",
    required=True,
    columns=(
        Column("cohort_id", "id", "Unique cohort identifier.", unique=True),
        Column("start_date", "date", "Cohort kick-off; the index date of the evaluation."),
        Column("end_date", "date", "Planned end of the cohort."),
        Column(
            "cadence_days",
            "int",
            "Planned days between sessions (7 = weekly, 14 = biweekly).",
            minimum=1,
            maximum=366,
            aliases=("planned_cadence_days", "cadence"),
        ),
        Column(
            "planned_sessions",
            "int",
            "Planned number of sessions per pair.",
            minimum=1,
            maximum=1000,
        ),
        Column("name", "str", "Display name.", required=False, nullable=True),
    ),
    rules=("end_date is not before start_date",),
)

PAIRS = Table(
    name="pairs",
    description="One row per mentoring pair (the junior mentor and the senior mentee).",
    required=True,
    columns=(
        Column("pair_id", "id", "Unique pair identifier.", unique=True),
        Column("cohort_id", "id", "Cohort of the pair.", references=("cohorts", "cohort_id")),
        Column(
            "mentor_id",
            "id",
            "The junior employee who mentors.",
            references=("employees", "employee_id"),
        ),
        Column(
            "mentee_id",
            "id",
            "The senior leader who is mentored.",
            references=("employees", "employee_id"),
        ),
        Column("status", "choice", "Pair status.", choices=PAIR_STATUSES),
        Column("start_date", "date", "Date the pair started."),
        Column("end_date", "date", "Date the pair ended; blank while running.", nullable=True),
        Column(
            "goal",
            "text",
            "The pair's SMART goal (free text; program lead only).",
            required=False,
            nullable=True,
        ),
    ),
    rules=(
        "mentor_id differs from mentee_id",
        "end_date is not before start_date",
        f"start_date lies between {PAIR_DAYS_BEFORE_COHORT} days before the cohort's start_date "
        f"and its end_date; end_date is at most {PAIR_DAYS_AFTER_COHORT} days after the "
        "cohort's end_date",
        "a person is in at most one pair of a cohort at a time (an earlier pair that was "
        "reshuffled or withdrawn may end on or before the later pair's start)",
        "mentor and mentee are employed on the pair's start date",
    ),
)

CONTROL = Table(
    name="control",
    description=(
        "Optional designated control or waitlist group, per cohort. When absent, the "
        "retention analysis builds a matched control from eligible non-participants."
    ),
    required=False,
    columns=(
        Column(
            "employee_id",
            "id",
            "Control person.",
            references=("employees", "employee_id"),
        ),
        Column(
            "cohort_id", "id", "Cohort they are a control for.", references=("cohorts", "cohort_id")
        ),
    ),
    key=("employee_id", "cohort_id"),
    rules=("a control person is not a mentor or mentee in the same cohort",),
)

SESSIONS = Table(
    name="sessions",
    description="The session log: one row per scheduled session.",
    required=False,
    columns=(
        Column("pair_id", "id", "Pair.", references=("pairs", "pair_id")),
        Column("date", "date", "Session date."),
        Column(
            "duration_minutes",
            "float",
            "Length of a held session; may be blank for cancelled sessions and no-shows.",
            nullable=True,
            minimum=0,
            maximum=600,
        ),
        Column("status", "choice", "What happened.", choices=SESSION_STATUSES),
    ),
    rules=(
        "a held session has a duration above 0 minutes",
        f"the date lies between {SESSION_DAYS_BEFORE_COHORT} days before the cohort start "
        f"and {SESSION_DAYS_AFTER_COHORT} days after the later of the cohort end and the "
        "pair end",
        "the date is not in the future",
    ),
)

SURVEYS = Table(
    name="surveys",
    description=(
        "All survey answers in long format, one row per answered item. Engagement and "
        "retention-intent waves cover participants and non-participants; psychological-safety "
        "pulses and the feedback form carry the pair_id. Known scales: engagement and "
        "retention_intent 1-5, psych_safety 1-7 (items ps1..ps7 in Edmondson's order; ps1, ps3, "
        "ps5 negatively worded), feedback progress and safety 1-5, recommend yes/no. Items "
        "`worked`, `improve`, `comment` and any item ending in `_text` are free text."
    ),
    required=False,
    columns=(
        Column(
            "respondent_id",
            "id",
            "Employee who answered.",
            references=("employees", "employee_id"),
        ),
        Column(
            "survey", "str", "Instrument: engagement, psych_safety, feedback, retention_intent, ..."
        ),
        Column("wave", "str", "Wave label: baseline, midpoint, endpoint, or a date."),
        Column("response_date", "date", "Date of the answer."),
        Column("item", "str", "Item code, e.g. eng1, ps3, progress, recommend, worked."),
        Column(
            "value",
            "float",
            "The answer: a number on the item's scale, yes/no, or free text for text items. "
            "Blank answers are kept and counted as skipped.",
            nullable=True,
        ),
        Column(
            "text",
            "text",
            "Free-text answer (alternatively given in `value` for free-text items).",
            required=False,
            nullable=True,
        ),
        Column(
            "pair_id",
            "id",
            "Pair the answer is about (pulses and feedback).",
            required=False,
            nullable=True,
            references=("pairs", "pair_id"),
        ),
        Column(
            "scale_min",
            "float",
            "Scale minimum when it differs from the known default.",
            required=False,
            nullable=True,
            minimum=-SCORE_LIMIT,
            maximum=SCORE_LIMIT,
            limit=_SCORE_WHY,
        ),
        Column(
            "scale_max",
            "float",
            "Scale maximum when it differs from the known default (e.g. 5 for the 5-point "
            "psychological-safety variant).",
            required=False,
            nullable=True,
            minimum=-SCORE_LIMIT,
            maximum=SCORE_LIMIT,
            limit=_SCORE_WHY,
        ),
    ),
    key=("respondent_id", "survey", "wave", "item", "pair_id"),
    rules=(
        "numeric answers lie within the item's scale",
        "every row of one item (survey and item) has the same scale: rows whose scale_min / "
        "scale_max differ from the item's usual scale are errors (averaging a 1-5 item with a "
        "1-100 one gives a meaningless index)",
        f"numeric answers of an item without a known scale lie within -{SCORE_LIMIT} to "
        f"{SCORE_LIMIT} ({_SCORE_WHY})",
        "yes/no items are yes, no, true, false, 1 or 0",
        "the response date is not in the future",
    ),
)

SKILLS = Table(
    name="skills",
    description="Pre/post skill assessments, one row per person, skill, phase and rater.",
    required=False,
    columns=(
        Column("employee_id", "id", "Person assessed.", references=("employees", "employee_id")),
        Column("skill", "str", "Skill assessed, e.g. social_media, strategic_thinking."),
        Column("phase", "choice", "Before or after the program.", choices=PHASES),
        Column("score", "float", "Score on the assessment scale."),
        Column(
            "scale_min",
            "float",
            "Lowest possible score.",
            minimum=-SCORE_LIMIT,
            maximum=SCORE_LIMIT,
            limit=_SCORE_WHY,
        ),
        Column(
            "scale_max",
            "float",
            "Highest possible score.",
            minimum=-SCORE_LIMIT,
            maximum=SCORE_LIMIT,
            limit=_SCORE_WHY,
        ),
        Column(
            "rater",
            "str",
            "Who rated (self, manager, assessor); blank means self.",
            required=False,
            nullable=True,
        ),
        Column("date", "date", "Assessment date.", required=False, nullable=True),
    ),
    key=("employee_id", "skill", "phase", "rater"),
    rules=("scale_min is below scale_max", "score lies within [scale_min, scale_max]"),
)

CHECKPOINTS_TABLE = Table(
    name="checkpoints",
    description="SMART-goal milestone checks per pair: the week-6 check and the endpoint.",
    required=False,
    columns=(
        Column("pair_id", "id", "Pair.", references=("pairs", "pair_id")),
        Column("checkpoint", "choice", "Which check.", choices=CHECKPOINTS),
        Column(
            "progress",
            "int",
            "Progress against the SMART goal, 1 (none) to 5 (achieved).",
            minimum=1,
            maximum=5,
        ),
        Column(
            "goal_met",
            "bool",
            "Whether the goal was met (endpoint only; yes/no).",
            nullable=True,
        ),
        Column("date", "date", "Date of the check.", required=False, nullable=True),
        Column(
            "roadblocks",
            "text",
            "Roadblocks (free text; program lead only).",
            required=False,
            nullable=True,
        ),
        Column(
            "wins",
            "text",
            "Wins (free text; program lead only).",
            required=False,
            nullable=True,
        ),
    ),
    key=("pair_id", "checkpoint"),
    rules=("goal_met is blank at week6",),
)

OUTCOMES = Table(
    name="outcomes",
    description=(
        "Optional business outcomes: promotions (outcome = promotion, with employee_id) and "
        "any metric tied to a person, a pair or a unit."
    ),
    required=False,
    columns=(
        Column("outcome", "str", "Outcome name, e.g. promotion, project_adopted."),
        Column("date", "date", "When it happened."),
        Column(
            "employee_id",
            "id",
            "Person concerned.",
            required=False,
            nullable=True,
            references=("employees", "employee_id"),
        ),
        Column(
            "pair_id",
            "id",
            "Pair concerned.",
            required=False,
            nullable=True,
            references=("pairs", "pair_id"),
        ),
        Column("unit", "str", "Unit concerned (e.g. department).", required=False, nullable=True),
        Column(
            "value",
            "float",
            "Value of the metric, when it has one.",
            required=False,
            nullable=True,
            minimum=-OUTCOME_VALUE_LIMIT,
            maximum=OUTCOME_VALUE_LIMIT,
            limit="plausibility",
        ),
    ),
    rules=("each row names an employee_id, a pair_id or a unit",),
)

INTERVENTIONS = Table(
    name="interventions",
    description=(
        "Optional log of what the program lead did about a pair, one row per intervention "
        "(confidential: program lead only). A flag raised before an intervention on its pair "
        "reads as addressed; a flag raised after it is open again."
    ),
    required=False,
    columns=(
        Column("pair_id", "id", "Pair.", references=("pairs", "pair_id")),
        Column("date", "date", "Date of the intervention."),
        Column(
            "action",
            "choice",
            "What was done: check_in (talked to the pair), pause, resume, reshuffle (new "
            "partners within the cohort), rematch (after a conflict of interest), close.",
            choices=INTERVENTION_ACTIONS,
        ),
        Column(
            "note",
            "text",
            "What was agreed (free text; program lead only).",
            required=False,
            nullable=True,
        ),
    ),
    rules=(
        "the date is not before the pair's start_date",
        "the date is not in the future",
    ),
)

COSTS = Table(
    name="costs",
    description=(
        "Optional program costs the other tables cannot show: software, external fees, "
        "venues, materials. One row per cost line; each line is added to the fully loaded "
        "cost that the return on investment computes from people's time. Report parameters "
        "(cost_software, cost_external, cost_other) add lines without a file."
    ),
    required=False,
    columns=(
        Column("item", "str", "What the cost is for, e.g. mentoring platform licence."),
        Column("amount", "float", "Amount in the report currency.", minimum=0),
        Column(
            "date",
            "date",
            "When the cost was incurred; a report as of an earlier date leaves the line out.",
            required=False,
            nullable=True,
        ),
        Column(
            "category",
            "str",
            "Kind of cost, e.g. software, external, venue (for display).",
            required=False,
            nullable=True,
        ),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        EMPLOYEES,
        COHORTS,
        PAIRS,
        CONTROL,
        SESSIONS,
        SURVEYS,
        SKILLS,
        CHECKPOINTS_TABLE,
        OUTCOMES,
        INTERVENTIONS,
        COSTS,
    )
}

#: File extensions the loader reads, in order of preference when listing.
EXTENSIONS = (".csv", ".csv.gz", ".parquet", ".xlsx")


def contract_markdown() -> str:
    """The data contract as Markdown (the body of ``docs/data-contract.md``)."""
    lines = [
        "# Data contract",
        "",
        "<!-- Generated from rm_analytics/data/contract.py by `python -m rm_analytics.data.contract`; "
        "do not edit by hand. -->",
        "",
        "A pilot is a folder with one file per table (`<table>.csv`, `<table>.csv.gz`, "
        "`<table>.parquet` or `<table>.xlsx`), or one Excel workbook with one sheet per table "
        "(sheet names are the table names). Files must be UTF-8 (with or without a byte-order "
        "mark). Column headers are matched case-insensitively, with spaces read as "
        "underscores. Extra columns are kept, never rejected (as long as each cell holds one "
        "value). Exports in another layout (vendor "
        "headers and codes, wide survey exports, SQL queries) are read through a mapping file: "
        "see [your-data.md](your-data.md).",
        "",
        "Dates are ISO 8601 (`YYYY-MM-DD`) unless `load_pilot(..., date_format=...)` says "
        "otherwise. Blank cells and `NA`, `N/A`, `null`, `None`, `NaN` are read as missing. "
        "Booleans accept yes/no, true/false, y/n and 1/0.",
        "",
        "Row numbers in error messages count as a person does when opening the file: the header "
        "is row 1 and the first record is row 2 (CSV and Excel); for Parquet, the first record "
        "is row 1.",
        "",
        "Nothing is lost or guessed while reading. A file is refused, with its row and column "
        "where they apply, when it is not a regular file (a folder, a named pipe, a device), "
        "is empty, is another format than its name says (a workbook named `.csv`, text named "
        "`.xlsx`, binary data, UTF-16 text), or is a truncated or damaged `.csv.gz`; when a "
        "CSV row has fewer or more fields than the header, or a quote opened in a value is "
        "not closed on its line and takes the following rows into one cell; when a header "
        "names one column twice (headers are matched ignoring case and spaces, so `Level` and "
        "`level` are the same column) in CSV, Excel or Parquet; when an Excel cell holds a "
        "formula without a saved value (a workbook written by a program and never "
        "calculated); and when a Parquet column holds lists, structs or maps. Values beyond "
        "the plausibility limits below (salaries, ratings, scale bounds, outcome values) are "
        "errors, not outliers. Dates after the reference date (`today`) are plans, not "
        "observations: they never set the default analysis date, and an analysis date "
        "(`--as-of`, `as_of=`) after today is refused.",
        "",
        "Validation is lazy: `load_pilot` checks every rule below and raises one "
        "`DataValidationError` listing every problem with its file, row, column, value and "
        "rule. Rows that are valid but cannot enter an analysis (e.g. a skill assessment "
        "without its post-test, a person who left before the cohort start) are kept and "
        "counted, with the reason, in the pilot's data-quality table.",
        "",
        "| table | required | description |",
        "| --- | --- | --- |",
    ]
    for t in TABLES.values():
        lines.append(f"| `{t.name}` | {'yes' if t.required else 'no'} | {t.description} |")
    for t in TABLES.values():
        lines += ["", f"## `{t.name}`{'' if t.required else ' (optional)'}", "", t.description, ""]
        lines += ["| column | type | required | blank allowed | rule | description |"]
        lines += ["| --- | --- | --- | --- | --- | --- |"]
        for c in t.columns:
            rule = []
            if c.unique:
                rule.append("unique")
            if c.choices:
                rule.append("one of " + ", ".join(f"`{x}`" for x in c.choices))
            if c.minimum is not None:
                rule.append(f">= {format_bound(c.minimum)}")
            if c.maximum is not None:
                rule.append(f"<= {format_bound(c.maximum)}")
            if c.limit and (c.minimum is not None or c.maximum is not None):
                rule[-1] += f" ({c.limit})"
            if c.references:
                rule.append(f"must exist in `{c.references[0]}.{c.references[1]}`")
            if c.aliases:
                rule.append("also read from " + ", ".join(f"`{a}`" for a in c.aliases))
            lines.append(
                f"| `{c.name}` | {c.kind} | {'yes' if c.required else 'no'} | "
                f"{'yes' if c.nullable else 'no'} | {'; '.join(rule)} | {c.description} |"
            )
        if t.key:
            lines += ["", "Unique together: " + ", ".join(f"`{k}`" for k in t.key) + "."]
        if t.rules:
            lines += ["", "Rules:", ""] + [f"- {r}" for r in t.rules]
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - documentation generator
    print(contract_markdown(), end="")
