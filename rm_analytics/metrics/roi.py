"""Phillips-style return on investment, on the measured and isolated retention effect.

Three steps, each with every assumption a parameter:

1. :func:`program_costs` -- fully loaded program cost from the pilot data: both people's
   session hours from the session log, kickoff training, coordinator time, software and other
   items, at a loaded hourly rate (from salary, by level, or one rate).
2. :func:`phillips_roi` (or :func:`roi_from_retention`, which reads a retention result) --
   benefits from avoided exits, ``(control attrition - participant attrition) x participants
   x replacement cost per leaver``, adjusted by Phillips' conservative rules, and
   ``ROI % = (benefits - costs) / costs x 100``, ``BCR = benefits / costs``.
3. :func:`sensitivity` -- a tornado table over replacement cost, hourly rate and the effect
   size within its confidence interval.

Phillips' guiding principles applied here (Phillips & Phillips, ROI Methodology):

* **first-year benefits only**: the attrition difference is taken at a horizon of at most 12
  months; nothing is extrapolated to later years;
* **isolate the effect**: an isolation factor of 1 is allowed only when a control group
  (designated or matched) isolates the program's effect; otherwise an isolation share < 1 is
  required;
* **adjust for error**: a confidence factor multiplies the benefits; and the retention
  difference must be *supported by the data*: when its confidence interval includes 0 the ROI
  is reported as **"not demonstrated"** -- no point ROI (NaN), only the range;
* **fully load costs**: participants' time for both people, coordinator time, training,
  software.

Uncertainty: the ROI is a linear function of the attrition difference ``D``::

    ROI% = 100 * (n * D * R * i * c + B - C) / C

(``n`` participants, ``R`` replacement cost per leaver, ``i`` isolation, ``c`` confidence,
``B`` other monetised benefits, ``C`` costs). Mapping the end points of the confidence
interval of ``D`` through this line is therefore exact: the delta method is exact here, with
``se(ROI%) = 100 * n * R * i * c / C * se(D)``. Only the retention difference is treated as
uncertain; costs, replacement cost and other benefits are assumptions, explored by
:func:`sensitivity`.

The default replacement cost of a leaver is **21% of annual salary**, the median of 30 case
studies compiled by the Center for American Progress (Boushey & Glynn, 2012, "There Are
Significant Business Costs to Replacing Employees"); Gallup's often-quoted 0.5-2x annual salary
is the sensitivity range. See :func:`rm_analytics.external.replacement_cost_benchmarks`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import InsufficientDataError
from ..results import Note, Result, renamed
from ..stats.intervals import normal_ci

if TYPE_CHECKING:  # pragma: no cover
    from ..data.pilot import Pilot

#: Median replacement cost of a leaver as a share of annual salary (Center for American
#: Progress; Boushey & Glynn 2012, 30 case studies).
DEFAULT_REPLACEMENT_SHARE = 0.21
#: Sensitivity range of the replacement cost, in annual salaries (Gallup's 0.5-2x).
REPLACEMENT_SHARE_RANGE = (0.5, 2.0)
#: Paid working hours per year used to turn an annual salary into an hourly rate.
DEFAULT_HOURS_PER_YEAR = 1720.0
#: Employer on-cost multiplier (social charges, benefits, overhead) on salary-based rates.
DEFAULT_LOADING = 1.3
#: Kickoff and training hours per participant.
DEFAULT_KICKOFF_HOURS = 3.0
#: Coordinator hours per pair (matching and conflict checks, kickoff logistics, the 6-week
#: milestone check, the mid-pilot pulse, reporting).
DEFAULT_COORDINATOR_HOURS_PER_PAIR = 8.0

COST_COLUMNS = [
    "metric",
    "basis",
    "quantity",
    "unit",
    "unit_cost",
    "amount",
    "currency",
    "time_cost",
]
ROI_COLUMNS = ["metric", "estimate", "ci_low", "ci_high", "p_value", "n", "unit"]
SENSITIVITY_COLUMNS = [
    "metric",
    "setting_low",
    "setting_high",
    "roi_at_low",
    "roi_at_high",
    "base_roi",
    "unit",
]

NOT_DEMONSTRATED = "not demonstrated"

__all__ = [
    "CostResult",
    "RoiResult",
    "SensitivityResult",
    "participant_salary",
    "phillips_roi",
    "plot_tornado",
    "program_costs",
    "roi_from_retention",
    "sensitivity",
]


# =============================================================================================
# Costs
# =============================================================================================
class CostResult(Result):
    """Fully loaded program cost: one row per cost line and a ``total`` row.

    Attributes
    ----------
    summary : pandas.DataFrame
        Columns ``metric`` (the cost line, and ``total``), ``basis, quantity, unit,
        unit_cost, amount, currency, time_cost``.
    total : float
        Total cost.
    time_cost_total : float
        Part of the total that scales with the hourly rates (people's time).
    currency : str
    """

    title = "Program costs"

    @property
    def total(self) -> float:
        return float(self.summary.loc[self.summary["metric"] == "total", "amount"].iloc[0])

    @property
    def time_cost_total(self) -> float:
        s = self.summary[self.summary["metric"] != "total"]
        return float(s.loc[s["time_cost"].astype(bool), "amount"].sum())

    @property
    def currency(self) -> str:
        return str(self.arguments.get("currency", ""))

    def plot(self, ax=None):
        """Horizontal bars of the cost lines (total in the title)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3))
        s = self.summary[self.summary["metric"] != "total"].iloc[::-1]
        ax.barh(s["metric"], s["amount"], color="#4C72B0")
        ax.set_xlabel(f"cost ({self.currency})")
        ax.set_title(f"Program cost: {self.total:,.0f} {self.currency}")
        return ax


def _salary_rates(
    employees: pd.DataFrame, loading: float, hours: float
) -> tuple[pd.Series, pd.Series]:
    """Loaded hourly rate of every employee from annual_salary; level-median fill-in.

    Returns (rate by employee_id, imputed flag by employee_id).
    """
    if "annual_salary" not in employees.columns:
        raise InsufficientDataError(
            "program_costs needs hourly_rate (a number or a dict by level) because the "
            "employees table has no annual_salary column"
        )
    e = employees.set_index("employee_id")
    sal = e["annual_salary"].astype(float)
    level_median = sal.groupby(e["level"], observed=True).median()
    filled = sal.fillna(e["level"].map(level_median).astype(float))
    imputed = sal.isna() & filled.notna()
    return filled * loading / hours, imputed


def _level_rates(employees: pd.DataFrame, rates: Mapping[Any, float]) -> pd.Series:
    e = employees.set_index("employee_id")
    keys = {str(k): float(v) for k, v in rates.items()}
    bad = {k: v for k, v in keys.items() if not np.isfinite(v) or v < 0}
    if bad:
        raise ValueError(f"hourly_rate by level must be non-negative numbers; got {bad}")
    levels = e["level"].astype("string")
    return levels.map(keys).astype(float)


def _rates_for(
    rate_by_person: pd.Series, ids: pd.Series, what: str, levels: pd.Series | None = None
) -> pd.Series:
    r = rate_by_person.reindex(ids.to_numpy())
    if r.isna().any():
        missing = ids[r.isna().to_numpy()]
        if levels is not None:
            lv = sorted(set(levels.reindex(missing.to_numpy()).astype(str)))
            raise ValueError(
                f"hourly_rate has no rate for level(s) {', '.join(lv)} of {len(missing)} "
                f"{what}; give a rate for every level"
            )
        raise InsufficientDataError(
            f"no hourly rate for {len(missing)} {what}: annual_salary is blank for them and "
            "for everyone at their level; pass hourly_rate"
        )
    return pd.Series(r.to_numpy(), index=ids.index)


def program_costs(
    pilot: Pilot,
    *,
    hourly_rate: float | Mapping[Any, float] | None = None,
    salary_hours_per_year: float = DEFAULT_HOURS_PER_YEAR,
    loading: float = DEFAULT_LOADING,
    kickoff_hours: float = DEFAULT_KICKOFF_HOURS,
    coordinator_hours: float | None = None,
    coordinator_hours_per_pair: float = DEFAULT_COORDINATOR_HOURS_PER_PAIR,
    coordinator_rate: float | None = None,
    software: float = 0.0,
    other: Mapping[str, float] | Sequence[tuple[str, float]] | None = None,
    planned_session_minutes: float = 60.0,
    currency: str = "EUR",
    as_of: str | pd.Timestamp | None = None,
) -> CostResult:
    """Fully loaded cost of the program, one line per cost item.

    Parameters
    ----------
    pilot
        The pilot (all its cohorts; use ``pilot.select(...)`` for some). Needs ``pairs``,
        ``employees`` and, for actual session time, ``sessions``.
    hourly_rate
        ``None`` (default): each person's loaded rate from ``employees.annual_salary`` as
        ``annual_salary * loading / salary_hours_per_year`` (a blank salary takes the median
        salary of the person's level; counted in the data-quality log). A number: one loaded
        hourly rate for everyone. A dict ``{level: rate}``: loaded hourly rate by level. Rates
        given as numbers are used as they are (``loading`` applies to salaries only).
    salary_hours_per_year
        Paid hours per year (default 1720: 40 h x 43 weeks, i.e. net of holidays).
    loading
        Employer on-cost multiplier on salary (default 1.3).
    kickoff_hours
        Kickoff and training hours per participant (default 3), costed at the participant's
        rate, for every person in every pair (one kickoff per person and cohort).
    coordinator_hours
        Total coordinator hours; default ``coordinator_hours_per_pair`` x pairs.
    coordinator_hours_per_pair
        Default 8 (matching and conflict checks, kickoff logistics, 6-week check, mid-pilot
        pulse, reporting).
    coordinator_rate
        Coordinator's loaded hourly rate; default the median loaded rate of all employees
        under the same rule as participants.
    software
        Software licences and tools for the program (total, default 0).
    other
        Other items, ``{name: amount}`` or ``[(name, amount), ...]`` (venues, external
        facilitation, materials).
    planned_session_minutes
        Only without a session log: session length assumed for the planned sessions of every
        pair (cohorts' ``planned_sessions``), noted as such.
    currency
        Currency label of all amounts (salaries are in the report currency).
    as_of
        Count only sessions on or before this date (default: all sessions in the log).

    Returns
    -------
    CostResult
        ``summary`` columns: ``item`` (cost line), ``basis`` (how it was computed),
        ``quantity`` (hours, people or 1), ``unit``, ``unit_cost`` (average loaded rate per
        hour, or the amount), ``amount``, ``currency``, ``time_cost`` (True for lines that
        scale with hourly rates). The last row is ``total``.

    Notes
    -----
    Only sessions with status ``held`` carry time (their ``duration_minutes``, for both the
    mentor and the mentee); cancelled sessions and no-shows are excluded and counted in the
    data-quality log. The table is aggregated over people and holds no ids.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.program_costs(rm.load_sample())
    >>> cols = ["metric", "quantity", "unit", "unit_cost", "amount"]
    >>> print(res.summary[cols].round(1).to_string(index=False))
                 metric  quantity  unit  unit_cost  amount
    mentor session time     281.5 hours       30.0  8456.1
    mentee session time     281.5 hours       91.2 25676.1
       kickoff training     216.0 hours       59.6 12863.9
       coordinator time     288.0 hours       36.6 10535.4
               software       1.0  item        0.0     0.0
                  total       NaN              NaN 57531.5

    The senior mentees' time is the largest cost: their loaded hourly rate is three times the
    junior mentors'.
    """
    for name, v in (
        ("salary_hours_per_year", salary_hours_per_year),
        ("loading", loading),
    ):
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a positive number, got {v!r}")
    for name, v in (
        ("kickoff_hours", kickoff_hours),
        ("coordinator_hours_per_pair", coordinator_hours_per_pair),
        ("software", software),
        ("planned_session_minutes", planned_session_minutes),
    ):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a non-negative number, got {v!r}")
    notes: list[str] = []
    employees = pilot.employees
    pairs = pilot.pairs
    if len(pairs) == 0:
        raise InsufficientDataError("program_costs needs at least one pair")

    # -- hourly rates -------------------------------------------------------------------------
    levels = employees.set_index("employee_id")["level"]
    if hourly_rate is None:
        rate_by_person, imputed = _salary_rates(employees, loading, salary_hours_per_year)
        rate_rule = f"annual salary x {loading:g} / {salary_hours_per_year:g} h"
        level_hint = None
    elif isinstance(hourly_rate, Mapping):
        rate_by_person = _level_rates(employees, hourly_rate)
        imputed = pd.Series(False, index=rate_by_person.index)
        rate_rule = "loaded hourly rate by level"
        level_hint = levels
    else:
        r = float(hourly_rate)
        if not np.isfinite(r) or r < 0:
            raise ValueError(f"hourly_rate must be a non-negative number, got {hourly_rate!r}")
        rate_by_person = pd.Series(r, index=employees["employee_id"].to_numpy())
        imputed = pd.Series(False, index=rate_by_person.index)
        rate_rule = f"one loaded rate of {r:g} per hour"
        level_hint = None

    people = pilot.participants("both")
    uniq = people.drop_duplicates(["employee_id", "cohort_id"])
    n_imputed = int(imputed.reindex(people["employee_id"].unique()).fillna(False).sum())
    if hourly_rate is None:
        pilot.log_quality(
            "employees",
            "roi costs",
            "participant salary blank",
            n_imputed,
            "imputed" if n_imputed else "none",
            "blank annual_salary replaced by the median salary of the person's level",
        )
        if n_imputed:
            notes.append(
                Note(
                    f"{n_imputed} participant(s) had no annual salary; the median salary of their "
                    "level was used.",
                    "method",
                )
            )

    # -- session hours per pair ---------------------------------------------------------------
    mentor_rate = _rates_for(rate_by_person, pairs["mentor_id"], "mentors", level_hint)
    mentee_rate = _rates_for(rate_by_person, pairs["mentee_id"], "mentees", level_hint)
    sessions = pilot.sessions
    if sessions is not None:
        s = sessions
        cutoff = pd.Timestamp(as_of) if as_of is not None else None
        if cutoff is not None:
            late = s["date"] > cutoff
            pilot.log_quality(
                "sessions",
                "roi costs",
                "session after as_of",
                int(late.sum()),
                "excluded",
                f"sessions after {cutoff.date()} are not costed",
            )
            s = s[~late.to_numpy()]
        held = s["status"].astype("string").eq("held").to_numpy()
        pilot.log_quality(
            "sessions",
            "roi costs",
            "cancelled or no-show session",
            int((~held).sum()),
            "excluded",
            "only held sessions carry participants' time",
        )
        hours = (
            s.loc[held].groupby("pair_id", observed=True)["duration_minutes"].sum().astype(float)
            / 60.0
        )
        pair_hours = pairs["pair_id"].map(hours).fillna(0.0).astype(float)
        basis = "held sessions in the session log"
    else:
        planned = pairs["cohort_id"].map(pilot.cohorts.set_index("cohort_id")["planned_sessions"])
        pair_hours = planned.astype(float) * planned_session_minutes / 60.0
        basis = f"planned sessions x {planned_session_minutes:g} min (no session log)"
        notes.append(
            Note(
                "No session log: session time is estimated from the planned number of sessions "
                f"at {planned_session_minutes:g} minutes each.",
                "missing_data",
            )
        )
    pair_hours = pd.Series(pair_hours.to_numpy(), index=pairs.index)
    h_total = float(pair_hours.sum())
    mentor_amount = float((pair_hours * mentor_rate).sum())
    mentee_amount = float((pair_hours * mentee_rate).sum())

    # -- kickoff ------------------------------------------------------------------------------
    kick_rates = _rates_for(rate_by_person, uniq["employee_id"], "participants", level_hint)
    n_people = len(uniq)
    kickoff_amount = float(kickoff_hours * kick_rates.sum())

    # -- coordinator --------------------------------------------------------------------------
    n_pairs = len(pairs)
    c_hours = (
        float(coordinator_hours)
        if coordinator_hours is not None
        else coordinator_hours_per_pair * n_pairs
    )
    if not np.isfinite(c_hours) or c_hours < 0:
        raise ValueError(f"coordinator_hours must be a non-negative number, got {c_hours!r}")
    if coordinator_rate is None:
        c_rate = float(rate_by_person.median())
        c_basis = f"{c_hours:g} h at the median employee's loaded rate"
    else:
        c_rate = float(coordinator_rate)
        if not np.isfinite(c_rate) or c_rate < 0:
            raise ValueError(f"coordinator_rate must be non-negative, got {coordinator_rate!r}")
        c_basis = f"{c_hours:g} h at the given coordinator rate"
    if coordinator_hours is None:
        c_basis += f" ({coordinator_hours_per_pair:g} h per pair)"

    # -- other --------------------------------------------------------------------------------
    items = list(other.items()) if isinstance(other, Mapping) else list(other or [])
    for name, amount in items:
        if not np.isfinite(float(amount)) or float(amount) < 0:
            raise ValueError(f"other cost item {name!r} must be a non-negative amount")

    def rate(amount: float, qty: float) -> float:
        return amount / qty if qty > 0 else float("nan")

    rows = [
        (
            "mentor session time",
            f"{basis}; {rate_rule}",
            h_total,
            "hours",
            rate(mentor_amount, h_total),
            mentor_amount,
            True,
        ),
        (
            "mentee session time",
            f"{basis}; {rate_rule}",
            h_total,
            "hours",
            rate(mentee_amount, h_total),
            mentee_amount,
            True,
        ),
        (
            "kickoff training",
            f"{kickoff_hours:g} h x {n_people} participants; {rate_rule}",
            kickoff_hours * n_people,
            "hours",
            rate(kickoff_amount, kickoff_hours * n_people),
            kickoff_amount,
            True,
        ),
        ("coordinator time", c_basis, c_hours, "hours", c_rate, c_hours * c_rate, True),
        ("software", "given", 1.0, "item", float(software), float(software), False),
    ]
    rows += [(str(n), "given", 1.0, "item", float(a), float(a), False) for n, a in items]
    table = pd.DataFrame(
        [(*r[:6], currency, r[6]) for r in rows],
        columns=COST_COLUMNS,
    )
    total = float(table["amount"].sum())
    table.loc[len(table)] = [
        "total",
        "sum of the lines",
        np.nan,
        "",
        np.nan,
        total,
        currency,
        False,
    ]
    table = table.astype(
        {"quantity": float, "unit_cost": float, "amount": float, "time_cost": bool}
    )
    if as_of is not None:
        notes.append(Note(f"Sessions up to {pd.Timestamp(as_of).date()} are costed.", "method"))
    return CostResult(
        table,
        notes,
        currency=currency,
        hourly_rate=hourly_rate,
        loading=loading,
        salary_hours_per_year=salary_hours_per_year,
        as_of=as_of,
    )


def participant_salary(
    pilot: Pilot, role: str = "mentor", cohort: str | Sequence[str] | None = None
) -> float:
    """Mean annual salary of the distinct participants in ``role`` (for the replacement cost).

    The mean (not the median) is the right average for the expected total replacement cost of
    avoided exits. Blank salaries are left out; raises when no salary is known.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> round(rm.roi.participant_salary(rm.load_sample()))
    39683

    The mentors' mean annual salary, the basis of the replacement cost of one who leaves.
    """
    ids = pilot.participants(role, cohort)["employee_id"].unique()
    if "annual_salary" not in pilot.employees.columns:
        raise InsufficientDataError(
            "the employees table has no annual_salary column: pass salary or replacement_cost"
        )
    sal = pilot.employees.set_index("employee_id")["annual_salary"].reindex(ids).astype(float)
    if sal.notna().sum() == 0:
        raise InsufficientDataError(f"no annual_salary is known for the {role}s")
    return float(sal.mean())


# =============================================================================================
# ROI
# =============================================================================================
def _roi_line(diff: float, inputs: dict[str, Any]) -> dict[str, float]:
    """Every money metric at attrition difference ``diff`` (all linear in ``diff``)."""
    n = inputs["n_participants"]
    unit_benefit = inputs["replacement_cost"] * inputs["isolation"] * inputs["confidence"]
    costs = inputs["costs"]
    other = inputs["other_benefits"]
    avoided = diff * n
    retention_benefits = avoided * unit_benefit
    benefits = retention_benefits + other
    net = benefits - costs
    return {
        "avoided_exits": avoided,
        "retention_benefits": retention_benefits,
        "benefits": benefits,
        "net_benefit": net,
        "roi_pct": 100.0 * net / costs,
        "bcr": benefits / costs,
    }


class RoiResult(Result):
    """Phillips ROI with its interval and a verdict.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per metric; columns ``metric, estimate, ci_low, ci_high, p_value, n, unit``.
        Metrics: ``attrition_participants``, ``attrition_control``, ``attrition_difference``
        (control minus participants, at the horizon), ``avoided_exits``,
        ``replacement_cost`` (per leaver), ``retention_benefits``, ``other_benefits``,
        ``benefits``, ``costs``, ``net_benefit``, ``roi_pct``, ``bcr``, ``break_even_exits``
        (prevented exits that pay for the program), ``break_even_difference`` (the same as an
        attrition difference). When the ROI is not demonstrated the estimates of the
        effect-dependent metrics are NaN and only their range (ci_low, ci_high) is given.
    verdict_ : str
        ``"not demonstrated"`` (the attrition difference's CI includes 0), ``"pays back"``
        (ROI CI above 0), ``"payback uncertain"`` (effect supported, ROI CI spans 0),
        ``"does not pay back"`` (ROI CI below 0), ``"retention worse"`` (participants leave
        more; CI below 0), ``"scenario"`` (no uncertainty given: a calculation on an assumed
        difference, not evidence) or ``"not estimable"`` (``verdict`` is its old name).
    inputs_ : dict
        Everything the numbers were computed from (for :meth:`sensitivity`; ``inputs`` is
        its old name).
    """

    title = "Return on investment (Phillips)"
    verdict = renamed("verdict_", "verdict")
    inputs = renamed("inputs_", "inputs")

    def __init__(self, summary, notes, *, verdict: str, inputs: dict[str, Any], **arguments):
        super().__init__(summary, notes, **arguments)
        self.verdict_ = verdict
        self.inputs_ = inputs

    # quick accessors
    def _get(self, metric: str) -> float:
        return float(self.row(metric=metric)["estimate"])

    @property
    def roi_pct(self) -> float:
        return self._get("roi_pct")

    @property
    def bcr(self) -> float:
        return self._get("bcr")

    @property
    def break_even_exits(self) -> float:
        return self._get("break_even_exits")

    @property
    def demonstrated(self) -> bool:
        """Whether the retention difference is supported by the data (CI excludes 0)."""
        return self.verdict_ in (
            "pays back",
            "payback uncertain",
            "does not pay back",
            "retention worse",
        )

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["verdict"] = self.verdict_
        d["statement"] = self.statement()
        return d

    def statement(self) -> str:
        """Plain-language summary for sponsors."""
        cur = self.inputs_["currency"]
        roi = self.row(metric="roi_pct")
        costs = self.inputs_["costs"]
        be = self._get("break_even_exits")
        n = self.inputs_["n_participants"]
        pay = (
            f"The program costs {costs:,.0f} {cur}; it pays for itself if it prevents "
            f"{be:.1f} exit(s) among {n:g} participants within the first year."
            if np.isfinite(be)
            else f"The program costs {costs:,.0f} {cur}."
        )
        if np.isfinite(be) and be > n:
            pay += " That is more exits than there are participants: retention alone cannot pay it back."
        rng = (
            f" between {roi.ci_low:,.0f}% and {roi.ci_high:,.0f}%"
            if np.isfinite(roi.ci_low) and np.isfinite(roi.ci_high)
            else ""
        )
        d = self.row(metric="attrition_difference")
        if self.verdict_ == NOT_DEMONSTRATED:
            lead = (
                f"ROI not demonstrated: the difference in leaving between participants and "
                f"controls ({100 * d.estimate:+.1f} percentage points, {self._level():.0%} CI "
                f"{100 * d.ci_low:+.1f} to {100 * d.ci_high:+.1f}) could be zero. Over that "
                f"range the ROI would lie{rng}."
            )
            if np.isfinite(roi.ci_high) and roi.ci_high < 0:
                lead += " Even the most favourable end of the range does not pay back."
        elif self.verdict_ == "not estimable":
            lead = "ROI not estimable: the retention result has no attrition difference."
        elif self.verdict_ == "scenario":
            lead = (
                f"Scenario (no uncertainty given): with the assumed attrition difference the "
                f"ROI would be {roi.estimate:,.0f}%."
            )
        else:
            ci = (
                f"{roi.ci_low:,.0f}% to {roi.ci_high:,.0f}%"
                if np.isfinite(roi.ci_low) and np.isfinite(roi.ci_high)
                else "not available"
            )
            lead = f"ROI {roi.estimate:,.0f}% ({self._level():.0%} CI {ci}): {self.verdict_}."
        return f"{lead} {pay}"

    def _level(self) -> float:
        return 1 - float(self.inputs_["alpha"])

    def sensitivity(self, **kwargs) -> SensitivityResult:
        """Tornado table; see :func:`sensitivity`."""
        return sensitivity(self, **kwargs)

    def plot_tornado(self, ax=None, **kwargs):
        """Tornado plot of :meth:`sensitivity` (keyword arguments go to it)."""
        return self.sensitivity(**kwargs).plot(ax=ax)

    def plot(self, ax=None):
        """ROI with its interval; a shaded range and no point when not demonstrated."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 1.8))
        r = self.row(metric="roi_pct")
        ax.axvline(0, color="grey", lw=1, ls="--")
        if np.isfinite(r.ci_low) and np.isfinite(r.ci_high):
            ax.hlines(0, r.ci_low, r.ci_high, color="#4C72B0", lw=6, alpha=0.35)
        if np.isfinite(r.estimate):
            ax.plot([r.estimate], [0], "o", color="#4C72B0")
        label = f"ROI: {self.verdict_}"
        ax.set_title(label)
        ax.set_yticks([])
        ax.set_xlabel("ROI (%)  -  0% = break-even")
        return ax


def _business_total(outcomes) -> tuple[float, list[tuple[str, float, float]]]:
    items = []
    for entry in outcomes or []:
        try:
            name, value, conf = entry
        except (TypeError, ValueError):
            raise ValueError(
                "business_outcomes must be (name, first-year value, confidence) triples"
            ) from None
        value, conf = float(value), float(conf)
        if not np.isfinite(value):
            raise ValueError(f"business outcome {name!r}: value must be a number")
        if not 0 <= conf <= 1:
            raise ValueError(f"business outcome {name!r}: confidence must lie in [0, 1]")
        items.append((str(name), value, conf))
    return float(sum(v * c for _, v, c in items)), items


def phillips_roi(
    *,
    n_participants: float,
    attrition_participants: float,
    attrition_control: float,
    replacement_cost: float,
    costs: float | CostResult,
    isolation: float = 1.0,
    confidence: float = 1.0,
    se_difference: float | None = None,
    ci_difference: tuple[float, float] | None = None,
    p_difference: float | None = None,
    alpha: float = 0.05,
    isolated_by_control: bool = True,
    business_outcomes: Sequence[tuple[str, float, float]] | None = None,
    horizon_months: float = 12,
    n_control: float | None = None,
    salary: float | None = None,
    currency: str | None = None,
) -> RoiResult:
    """Phillips ROI of the program from the attrition difference at (up to) one year.

    Parameters
    ----------
    n_participants
        Participants in the retention population (by default the mentors).
    attrition_participants, attrition_control
        Share who left by the horizon (e.g. 1 - Kaplan-Meier retention at 12 months).
    replacement_cost
        Cost of replacing one leaver (e.g. 0.21 x mean annual salary).
    costs
        Total program cost, or the :class:`CostResult` of :func:`program_costs` (which also
        enables the hourly-rate line of :func:`sensitivity`).
    isolation
        Share of the effect attributed to the program (Phillips' isolation factor). 1 only
        when a control group isolates the effect (``isolated_by_control=True``).
    confidence
        Phillips' confidence adjustment of the benefits, in (0, 1].
    se_difference
        Standard error of the attrition difference. With it (or ``ci_difference``) the ROI
        gets an interval and a verdict; without both, the result is a *scenario*.
    ci_difference
        Confidence interval of the attrition difference (used instead of
        ``difference +- z se`` when given, e.g. the retention result's own interval).
    p_difference
        Two-sided p-value of the attrition difference that goes with ``ci_difference`` (e.g.
        the retention result's test-inversion p-value when its interval is not Wald's).
        Default: the z-test on ``se_difference``.
    alpha
        1 - confidence level of the interval built from ``se_difference``.
    isolated_by_control
        Whether a designated or matched control group isolates the effect.
    business_outcomes
        Other monetised first-year outcomes as ``(name, value, confidence)``; each adds
        ``value x confidence``. Values must already be isolated program effects; they are
        treated as certain (no interval).
    horizon_months
        Horizon of the attrition figures; above 12 is refused (first-year benefits only).
    n_control, salary, currency
        Reported with the result (``salary`` enables the replacement-cost line of
        :func:`sensitivity`).

    Returns
    -------
    RoiResult
        See :class:`RoiResult` for the summary's rows and columns and the verdict.

    Notes
    -----
    ``attrition_difference = attrition_control - attrition_participants``;
    ``avoided_exits = difference x n_participants``;
    ``retention_benefits = avoided_exits x replacement_cost x isolation x confidence``;
    ``benefits = retention_benefits + sum(value x confidence)``;
    ``roi_pct = 100 (benefits - costs) / costs``; ``bcr = benefits / costs``;
    ``break_even_exits = costs / (replacement_cost x isolation x confidence)`` (retention
    alone). The interval maps the difference's interval through this linear function, which is
    exact (the delta method is exact for a linear function).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.phillips_roi(n_participants=24, attrition_participants=0.05,
    ...                       attrition_control=0.20, replacement_cost=15_000,
    ...                       costs=40_000, se_difference=0.06)
    >>> cols = ["metric", "estimate", "ci_low", "ci_high", "unit"]
    >>> print(res.summary[cols].round(2).to_string(index=False))
                    metric  estimate    ci_low  ci_high       unit
    attrition_participants      0.05       NaN      NaN proportion
         attrition_control      0.20       NaN      NaN proportion
      attrition_difference      0.15      0.03     0.27 proportion
             avoided_exits      3.60      0.78     6.42     people
          replacement_cost  15000.00       NaN      NaN        EUR
        retention_benefits  54000.00  11664.78 96335.22        EUR
            other_benefits      0.00       NaN      NaN        EUR
                  benefits  54000.00  11664.78 96335.22        EUR
                     costs  40000.00       NaN      NaN        EUR
               net_benefit  14000.00 -28335.22 56335.22        EUR
                   roi_pct     35.00    -70.84   140.84    percent
                       bcr      1.35      0.29     2.41      ratio
          break_even_exits      2.67       NaN      NaN     people
     break_even_difference      0.11       NaN      NaN proportion

    15 points less attrition among 24 participants avoids 3.6 exits worth 54,000 against
    40,000 of costs: an ROI of 35%, but its interval (-71% to 141%) includes a loss.
    """
    cost_result = costs if isinstance(costs, CostResult) else None
    total_cost = cost_result.total if cost_result is not None else float(costs)
    if currency is None:
        currency = cost_result.currency if cost_result is not None else "EUR"
    n = float(n_participants)
    if not np.isfinite(n) or n <= 0:
        raise ValueError(f"n_participants must be a positive number, got {n_participants!r}")
    if not np.isfinite(total_cost) or total_cost <= 0:
        raise ValueError(f"costs must be a positive amount, got {total_cost!r}")
    rc = float(replacement_cost)
    if not np.isfinite(rc) or rc < 0:
        raise ValueError(f"replacement_cost must be a non-negative amount, got {rc!r}")
    if not 0 < isolation <= 1:
        raise ValueError(f"isolation must lie in (0, 1], got {isolation!r}")
    if not 0 < confidence <= 1:
        raise ValueError(f"confidence must lie in (0, 1], got {confidence!r}")
    if not isolated_by_control and isolation >= 1:
        raise ValueError(
            "without a control group the effect is not isolated: Phillips requires an "
            "isolation share below 1 (e.g. participants' or managers' estimate of the "
            "program's share); pass isolation=<share>"
        )
    if horizon_months > 12:
        raise ValueError(
            f"horizon_months={horizon_months:g}: Phillips' rule counts first-year benefits "
            "only; use the attrition difference at 12 months or earlier"
        )
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    if p_difference is not None and not 0 <= p_difference <= 1:
        raise ValueError(f"p_difference must lie in [0, 1], got {p_difference!r}")
    for name, v in (
        ("attrition_participants", attrition_participants),
        ("attrition_control", attrition_control),
    ):
        if v is not None and np.isfinite(v) and not 0 <= v <= 1:
            raise ValueError(f"{name} must be a share in [0, 1], got {v!r}")
    other, items = _business_total(business_outcomes)
    notes: list[str] = []

    pt, pc = float(attrition_participants), float(attrition_control)
    diff = pc - pt
    se = float(se_difference) if se_difference is not None else float("nan")
    if ci_difference is not None:
        lo, hi = (float(ci_difference[0]), float(ci_difference[1]))
        p_value = normal_ci(diff, se, alpha)[2] if np.isfinite(se) else float("nan")
        if p_difference is not None:
            p_value = float(p_difference)
    elif np.isfinite(se):
        lo, hi, p_value = normal_ci(diff, se, alpha)
    else:
        lo = hi = p_value = float("nan")
    has_ci = np.isfinite(lo) and np.isfinite(hi)

    inputs: dict[str, Any] = {
        "n_participants": n,
        "n_control": n_control,
        "attrition_participants": pt,
        "attrition_control": pc,
        "difference": diff,
        "ci_difference": (lo, hi),
        "se_difference": se,
        "replacement_cost": rc,
        "isolation": float(isolation),
        "confidence": float(confidence),
        "other_benefits": other,
        "business_outcomes": items,
        "costs": total_cost,
        "time_cost": cost_result.time_cost_total if cost_result is not None else None,
        "salary": salary,
        "currency": currency,
        "alpha": alpha,
        "horizon_months": horizon_months,
    }
    point = _roi_line(diff, inputs)
    lows = _roi_line(lo, inputs)
    highs = _roi_line(hi, inputs)
    unit_benefit = rc * isolation * confidence
    be_exits = total_cost / unit_benefit if unit_benefit > 0 else float("nan")
    be_diff = be_exits / n

    # verdict
    if not np.isfinite(diff):
        verdict = "not estimable"
        notes.append(
            Note(
                "The retention result has no attrition difference at this horizon.", "not_estimable"
            )
        )
    elif not has_ci:
        verdict = "scenario"
        notes.append(
            Note(
                "No standard error or interval was given for the attrition difference: this is a "
                "calculation on an assumed difference, not evidence. Pass se_difference (or use "
                "roi_from_retention) to test it against the data.",
                "assumption",
            )
        )
    elif lo <= 0 <= hi:
        verdict = NOT_DEMONSTRATED
        notes.append(
            Note(
                f"ROI not demonstrated: the {1 - alpha:.0%} confidence interval of the attrition "
                f"difference ({lo:+.3f} to {hi:+.3f}) includes 0, so no point ROI is claimed "
                "(Phillips: without supported improvement, assume none); the ROI range over that "
                "interval is reported instead.",
                "not_estimable",
            )
        )
    elif hi < 0:
        verdict = "retention worse"
        notes.append(Note("Participants left more often than controls (interval below 0).", "info"))
    elif lows["roi_pct"] > 0:
        verdict = "pays back"
    elif highs["roi_pct"] < 0:
        verdict = "does not pay back"
    else:
        verdict = "payback uncertain"

    hide = verdict in (NOT_DEMONSTRATED, "not estimable")
    nan = float("nan")

    def est(key: str) -> float:
        return nan if hide else point[key]

    rows = [
        ("attrition_participants", pt, nan, nan, nan, n, "proportion"),
        (
            "attrition_control",
            pc,
            nan,
            nan,
            nan,
            float(n_control) if n_control is not None else nan,
            "proportion",
        ),
        ("attrition_difference", diff, lo, hi, p_value, n, "proportion"),
    ]
    for key, unit in (("avoided_exits", "people"),):
        rows.append((key, est(key), lows[key], highs[key], nan, n, unit))
    rows.append(("replacement_cost", rc, nan, nan, nan, nan, currency))
    rows.append(
        (
            "retention_benefits",
            est("retention_benefits"),
            lows["retention_benefits"],
            highs["retention_benefits"],
            nan,
            n,
            currency,
        )
    )
    rows.append(("other_benefits", other, nan, nan, nan, nan, currency))
    for key, unit in (
        ("benefits", currency),
        ("costs", currency),
        ("net_benefit", currency),
        ("roi_pct", "percent"),
        ("bcr", "ratio"),
    ):
        if key == "costs":
            rows.append(("costs", total_cost, nan, nan, nan, nan, currency))
        else:
            rows.append((key, est(key), lows[key], highs[key], nan, n, unit))
    rows.append(("break_even_exits", be_exits, nan, nan, nan, n, "people"))
    rows.append(("break_even_difference", be_diff, nan, nan, nan, n, "proportion"))
    summary = pd.DataFrame(rows, columns=ROI_COLUMNS)

    if has_ci:
        notes.append(
            Note(
                "The ROI interval maps the attrition difference's interval through the ROI "
                "formula, which is linear in the difference, so the delta method is exact; only "
                "the retention estimate is treated as uncertain (costs, replacement cost and other "
                "benefits are assumptions: see the sensitivity table).",
                "method",
            )
        )
    if horizon_months < 12:
        notes.append(
            Note(
                f"Benefits cover the first {horizon_months:g} months only (conservative).", "method"
            )
        )
    if isolation < 1:
        notes.append(
            Note(
                f"Isolation factor {isolation:g}: that share of the effect is credited.",
                "assumption",
            )
        )
    if confidence < 1:
        notes.append(
            Note(f"Confidence adjustment {confidence:g} applied to the benefits.", "assumption")
        )
    if items:
        notes.append(
            Note(
                "Other monetised outcomes are counted at value x confidence, taken as isolated "
                "first-year effects and without uncertainty.",
                "assumption",
            )
        )
    notes.append(
        Note(
            "Phillips' rules: first-year benefits only, fully loaded costs, effect isolated by a "
            "control group"
            + ("" if isolated_by_control else " (not available: isolation < 1)")
            + ", benefits adjusted for confidence.",
            "method",
        )
    )
    return RoiResult(summary, notes, verdict=verdict, inputs=inputs)


def roi_from_retention(
    retention_result: Any,
    *,
    costs: float | CostResult,
    replacement_cost: float | None = None,
    salary: float | None = None,
    replacement_share: float = DEFAULT_REPLACEMENT_SHARE,
    horizon: float = 12,
    isolation: float = 1.0,
    confidence: float = 1.0,
    business_outcomes: Sequence[tuple[str, float, float]] | None = None,
    alpha: float = 0.05,
    n_participants: float | None = None,
    currency: str | None = None,
) -> RoiResult:
    """Phillips ROI from a retention result (participants vs a matched or designated control).

    Parameters
    ----------
    retention_result
        Any object with ``attrition_at(horizon) -> dict`` holding ``treated``, ``control``,
        ``difference`` (control minus treated attrition), ``se_difference``, ``ci_low``,
        ``ci_high``, ``n_treated``, ``n_control`` (e.g. the result of
        ``rm_analytics.retention``). Its control group isolates the effect (isolation 1
        allowed).
    costs
        Total cost or the :class:`CostResult` of :func:`program_costs`.
    replacement_cost
        Cost per leaver; default ``replacement_share x salary``.
    salary
        Mean annual salary of the retention population (see :func:`participant_salary`).
    replacement_share
        Share of annual salary a leaver costs (default 0.21, Center for American Progress
        median).
    horizon
        Months; at most 12 (first-year benefits only).
    n_participants
        Default: the result's ``n_treated``.

    Other parameters are as in :func:`phillips_roi`. The interval is the retention result's
    own interval for the difference when it gives one (its confidence level), with its
    p-value when it gives one (for :class:`~rm_analytics.retention.RetentionResult` both come
    from one method, MOVER and its inversion, so they agree), else
    ``difference +- z(1 - alpha/2) se`` and the z-test.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> pilot = rm.load_sample()
    >>> res = rm.roi_from_retention(rm.pilot_retention(pilot, horizons=(12,)),
    ...                             costs=rm.program_costs(pilot),
    ...                             salary=rm.roi.participant_salary(pilot))
    >>> cols = ["metric", "estimate", "ci_low", "ci_high", "unit"]
    >>> print(res.summary[cols].round(2).to_string(index=False))
                    metric  estimate    ci_low   ci_high       unit
    attrition_participants      0.07       NaN       NaN proportion
         attrition_control      0.06       NaN       NaN proportion
      attrition_difference     -0.01     -0.12      0.09 proportion
             avoided_exits       NaN     -4.25      3.19     people
          replacement_cost   8333.50       NaN       NaN        EUR
        retention_benefits       NaN -35420.01  26616.67        EUR
            other_benefits      0.00       NaN       NaN        EUR
                  benefits       NaN -35420.01  26616.67        EUR
                     costs  57531.46       NaN       NaN        EUR
               net_benefit       NaN -92951.48 -30914.80        EUR
                   roi_pct       NaN   -161.57    -53.74    percent
                       bcr       NaN     -0.62      0.46      ratio
          break_even_exits      6.90       NaN       NaN     people
     break_even_difference      0.19       NaN       NaN proportion

    In the sample the mentors' attrition at 12 months is no lower than the control's, so no
    point ROI is claimed (NaN): only the range the attrition difference's interval allows.
    """
    if not callable(getattr(retention_result, "attrition_at", None)):
        raise TypeError(
            "roi_from_retention needs a retention result with an attrition_at(horizon) method "
            f"(got {type(retention_result).__name__})"
        )
    a = retention_result.attrition_at(horizon)
    missing = [
        k
        for k in (
            "treated",
            "control",
            "difference",
            "se_difference",
            "ci_low",
            "ci_high",
            "n_treated",
            "n_control",
        )
        if k not in a
    ]
    if missing:
        raise KeyError(f"attrition_at({horizon}) lacks {', '.join(missing)}")
    if replacement_cost is None:
        if salary is None:
            raise ValueError(
                "give replacement_cost, or salary (mean annual salary of the retention "
                "population, e.g. participant_salary(pilot)) with replacement_share"
            )
        if not replacement_share > 0:
            raise ValueError(f"replacement_share must be positive, got {replacement_share!r}")
        replacement_cost = replacement_share * float(salary)
    pt, pc, diff = float(a["treated"]), float(a["control"]), float(a["difference"])
    if np.isfinite(diff) and np.isfinite(pt) and np.isfinite(pc) and abs(diff - (pc - pt)) > 1e-9:
        raise ValueError(
            f"attrition_at({horizon}): difference {diff} is not control - treated ({pc - pt})"
        )
    lo, hi = float(a["ci_low"]), float(a["ci_high"])
    se = float(a["se_difference"]) if a["se_difference"] is not None else None
    ci = (lo, hi) if np.isfinite(lo) and np.isfinite(hi) else None
    n = float(a["n_treated"]) if n_participants is None else float(n_participants)
    res = phillips_roi(
        n_participants=n,
        attrition_participants=pt,
        attrition_control=pc,
        replacement_cost=replacement_cost,
        costs=costs,
        isolation=isolation,
        confidence=confidence,
        se_difference=se,
        ci_difference=ci,
        p_difference=a.get("p_value") if ci is not None else None,
        alpha=alpha,
        isolated_by_control=True,
        business_outcomes=business_outcomes,
        horizon_months=horizon,
        n_control=float(a["n_control"]),
        salary=salary,
        currency=currency,
    )
    if salary is not None:
        res.inputs_["replacement_share"] = replacement_share
    if a.get("ci_method") == "mover" and ci is not None:
        res.note(
            "The attrition difference's interval combines the two groups' Kaplan-Meier "
            "intervals (Newcombe's MOVER; for a group with no exit by the horizon, whose "
            "Greenwood standard error is 0, the exact lower limit) and its p-value inverts "
            "that interval, so the two agree: the ROI is claimed only when the interval "
            "excludes no difference.",
            "method",
        )
    return res


# =============================================================================================
# Sensitivity
# =============================================================================================
class SensitivityResult(Result):
    """Tornado table: ROI at the low and high setting of each uncertain input.

    ``summary`` columns: ``metric`` (the input varied), ``setting_low, setting_high,
    roi_at_low, roi_at_high, base_roi, unit`` (settings in ``unit``; ROI in percent), sorted
    by swing.
    """

    title = "ROI sensitivity"

    def plot(self, ax=None):
        """Tornado plot: one bar per factor from its lower to its higher ROI."""
        return plot_tornado(self, ax=ax)


def sensitivity(
    result: RoiResult,
    *,
    replacement_share_range: tuple[float, float] = REPLACEMENT_SHARE_RANGE,
    replacement_cost_range: tuple[float, float] | None = None,
    salary: float | None = None,
    hourly_rate_factor: tuple[float, float] = (0.8, 1.2),
    given_cost_factor: tuple[float, float] = (0.8, 1.2),
    at_difference: float | None = None,
) -> SensitivityResult:
    """One-way sensitivity of the ROI (tornado table).

    Parameters
    ----------
    result
        A :class:`RoiResult`.
    replacement_share_range
        Replacement cost per leaver as annual salaries (default 0.5-2x salary, the range often
        quoted from Gallup; the default 0.21 of the ROI lies below it, which shows how
        conservative the default is). Needs ``salary`` (here or in the result).
    replacement_cost_range
        Replacement cost per leaver as amounts, instead of shares.
    salary
        Mean annual salary of the retention population (default: the one in ``result``).
    hourly_rate_factor
        Multipliers of all hourly rates (default 0.8-1.2); they scale the time-based cost
        lines. Needs ``costs`` to have been a :class:`CostResult`.
    given_cost_factor
        Multipliers of the cost lines given as amounts (software, fees, other lines; default
        0.8-1.2). The row is left out when there are none.
    at_difference
        Attrition difference (control minus participants) at which the assumption rows are
        evaluated, and whose ROI is ``base_roi``. Default: the estimate when the ROI is
        demonstrated. When it is not, pass e.g. the favourable end of the difference's
        interval to see whether any assumption could make even that case pay back.

    Returns
    -------
    SensitivityResult
        Rows ``replacement cost``, ``hourly rate``, ``given costs`` (when there are given
        lines), ``attrition difference`` (over its confidence interval). When the ROI is not
        demonstrated and ``at_difference`` is not given, the assumption rows are NaN (there is
        no point estimate to vary around) and only the effect row, the ROI range, is given.
        ``arguments["at_difference"]`` holds the difference the rows are evaluated at.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> roi = rm.phillips_roi(n_participants=24, attrition_participants=0.05,
    ...                       attrition_control=0.20, replacement_cost=30_000,
    ...                       costs=40_000, se_difference=0.06)
    >>> res = rm.sensitivity(roi, salary=60_000)
    >>> cols = ["metric", "setting_low", "setting_high", "roi_at_low", "roi_at_high", "base_roi"]
    >>> print(res.summary[cols].round(2).to_string(index=False))
                  metric  setting_low  setting_high  roi_at_low  roi_at_high  base_roi
        replacement cost         0.50          2.00      170.00       980.00     170.0
    attrition difference         0.03          0.27      -41.68       381.68     170.0
             hourly rate         0.80          1.20         NaN          NaN     170.0

    The ROI depends most on the replacement cost: 170% at half a salary of 60,000 (the base
    case), 980% at twice it. With costs given as one number, the hourly rates cannot move it
    (NaN).
    """
    inp = result.inputs_
    nan = float("nan")
    notes: list[str] = []
    base_diff = inp["difference"]
    demonstrated = result.verdict_ not in (NOT_DEMONSTRATED, "not estimable")
    if at_difference is not None and np.isfinite(at_difference):
        base_diff, demonstrated = float(at_difference), True
    base = _roi_line(base_diff, inp)["roi_pct"] if demonstrated else nan

    def roi_with(**changes: float) -> float:
        if not demonstrated:
            return nan
        d = dict(inp)
        d.update(changes)
        return _roi_line(base_diff, d)["roi_pct"]

    rows = []
    # replacement cost
    sal = salary if salary is not None else inp.get("salary")
    if replacement_cost_range is not None:
        lo_rc, hi_rc = map(float, replacement_cost_range)
        rows.append(
            (
                "replacement cost",
                lo_rc,
                hi_rc,
                roi_with(replacement_cost=lo_rc),
                roi_with(replacement_cost=hi_rc),
                inp["currency"],
            )
        )
    elif sal is not None:
        lo_s, hi_s = map(float, replacement_share_range)
        rows.append(
            (
                "replacement cost",
                lo_s,
                hi_s,
                roi_with(replacement_cost=lo_s * sal),
                roi_with(replacement_cost=hi_s * sal),
                "x annual salary",
            )
        )
    else:
        rows.append(("replacement cost", nan, nan, nan, nan, "x annual salary"))
        notes.append(
            Note(
                "Replacement-cost row not computed: give salary (or replacement_cost_range).",
                "not_estimable",
            )
        )
    # hourly rate
    tc = inp.get("time_cost")
    f_lo, f_hi = map(float, hourly_rate_factor)
    if tc is not None:
        rows.append(
            (
                "hourly rate",
                f_lo,
                f_hi,
                roi_with(costs=inp["costs"] + tc * (f_lo - 1)),
                roi_with(costs=inp["costs"] + tc * (f_hi - 1)),
                "x hourly rates",
            )
        )
    else:
        rows.append(("hourly rate", f_lo, f_hi, nan, nan, "x hourly rates"))
        notes.append(
            Note(
                "Hourly-rate row not computed: the costs were given as a total; pass the "
                "program_costs result to separate people's time.",
                "not_estimable",
            )
        )
    # cost lines given as amounts
    time_cost = inp.get("time_cost")
    given = inp["costs"] - time_cost if time_cost is not None else None
    if given is not None and given > 0:
        g_lo, g_hi = map(float, given_cost_factor)
        rows.append(
            (
                "given costs",
                g_lo,
                g_hi,
                roi_with(costs=inp["costs"] + given * (g_lo - 1)),
                roi_with(costs=inp["costs"] + given * (g_hi - 1)),
                "x given cost lines",
            )
        )
    # effect size
    lo, hi = inp["ci_difference"]
    if np.isfinite(lo) and np.isfinite(hi):
        rows.append(
            (
                "attrition difference",
                lo,
                hi,
                _roi_line(lo, inp)["roi_pct"],
                _roi_line(hi, inp)["roi_pct"],
                "proportion",
            )
        )
    else:
        rows.append(("attrition difference", nan, nan, nan, nan, "proportion"))
        notes.append(
            Note(
                "Effect row not computed: the attrition difference has no interval.",
                "not_estimable",
            )
        )
    if not demonstrated:
        notes.append(
            Note(
                "ROI not demonstrated: the assumption rows are not shown around a point estimate "
                "the data do not support; the effect row gives the ROI range.",
                "not_estimable",
            )
        )
    elif at_difference is not None:
        notes.append(
            Note(
                f"Assumption rows evaluated at an attrition difference of {base_diff:+.3f} "
                "(given), not at an estimate.",
                "method",
            )
        )
    table = pd.DataFrame(
        [(f, sl, sh, rl, rh, base, u) for f, sl, sh, rl, rh, u in rows],
        columns=SENSITIVITY_COLUMNS,
    )
    swing = (table["roi_at_high"] - table["roi_at_low"]).abs()
    table = table.assign(_s=swing.fillna(-1)).sort_values("_s", ascending=False, kind="stable")
    table = table.drop(columns="_s").reset_index(drop=True)
    return SensitivityResult(
        table, notes, verdict=result.verdict_, at_difference=base_diff if demonstrated else None
    )


def plot_tornado(sens: SensitivityResult | RoiResult, ax=None):
    """Tornado plot of a sensitivity table (or of a ROI result's default sensitivity).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> roi = rm.phillips_roi(n_participants=24, attrition_participants=0.05,
    ...                       attrition_control=0.20, replacement_cost=30_000,
    ...                       costs=40_000, se_difference=0.06)
    >>> ax = rm.roi.plot_tornado(rm.sensitivity(roi, salary=60_000))
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['hourly rate', 'attrition difference', 'replacement cost']
    """
    import matplotlib.pyplot as plt

    if isinstance(sens, RoiResult):
        sens = sensitivity(sens)
    t = sens.summary.iloc[::-1].reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.6 + 0.5 * len(t)))
    base = t["base_roi"].iloc[0] if len(t) else float("nan")
    for i, r in t.iterrows():
        lo, hi = (
            sorted([r.roi_at_low, r.roi_at_high])
            if np.isfinite([r.roi_at_low, r.roi_at_high]).all()
            else (np.nan, np.nan)
        )
        if np.isfinite(lo):
            ax.barh(i, hi - lo, left=lo, color="#4C72B0", alpha=0.7)
        else:
            ax.text(
                0.5,
                i,
                "not shown",
                transform=ax.get_yaxis_transform(),
                ha="center",
                va="center",
                color="grey",
            )
    ax.set_yticks(range(len(t)))
    ax.set_yticklabels(t["metric"])
    ax.axvline(0, color="grey", lw=1, ls="--")
    if np.isfinite(base):
        ax.axvline(base, color="black", lw=1)
    ax.set_xlabel("ROI (%)")
    ax.set_title("ROI sensitivity" + ("" if np.isfinite(base) else " (ROI not demonstrated)"))
    return ax
