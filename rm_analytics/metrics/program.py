"""Program health for the program lead: the enrolment funnel, sessions per week against the
plan, and feedback by role.

* :func:`enrolment_funnel`: junior mentors from eligible to enrolled, matched, 3+ sessions
  held and completed, per cohort and overall.
* :func:`sessions_by_week`: sessions held (cancelled, no-show) per week of each cohort against
  the sessions the plan schedules in that week.
* :func:`feedback_by_role`: the feedback form's ratings and would-recommend share by cohort,
  role (mentor, mentee) and wave.

Counts of people here are not suppressed: these functions feed the program lead's
confidential view. Sponsors get :func:`~rm_analytics.metrics.delivery.delivery_summary` and
:func:`~rm_analytics.metrics.reaction.pilot_reaction` instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..results import Result

#: Stages of the funnel, in order, with their words.
FUNNEL_STAGES = {
    "eligible": "Eligible juniors",
    "enrolled": "Enrolled (applied)",
    "matched": "Matched in a pair",
    "engaged": "3+ sessions held",
    "completed": "Completed",
}


class FunnelResult(Result):
    """Enrolment funnel of the junior mentors.

    ``summary`` columns: ``metric`` (stage: eligible, enrolled, matched, engaged, completed),
    ``stage`` (in words), ``cohort_id`` (``all`` for the total), ``estimate`` (people),
    ``share_of_previous`` (estimate / the previous stage's), ``running`` (the cohort is still
    running at ``as_of``, so its completed count is not final).
    """

    title = "Enrolment funnel (junior mentors)"

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3))
        s = self.summary[self.summary.cohort_id.eq("all")]
        y = np.arange(len(s))
        ax.barh(y, s.estimate.to_numpy(dtype=float), color="#0072B2")
        for yi, v in zip(y, s.estimate, strict=True):
            ax.text(float(v), yi, f" {int(v):,}", va="center", fontsize=9)
        ax.set_yticks(y, s.stage.tolist())
        ax.invert_yaxis()
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlabel("junior mentors (people, log scale above 10)")
        ax.set_ylabel("stage")
        ax.set_title(self.title)
        ax.grid(False)
        return ax


def enrolment_funnel(pilot, *, as_of: str | pd.Timestamp | None = None) -> FunnelResult:
    """Junior mentors from eligible to enrolled, matched, 3+ sessions held and completed.

    Stages, per cohort (people are counted once per cohort):

    - ``eligible``: employees employed on the cohort's start date whose roster grade lies in
      the range of that cohort's mentors' grades. The roster does not record eligibility, so
      this is an approximation (the pool the matched control is drawn from);
    - ``enrolled``: the cohort's mentors plus its waitlist (the ``control`` table, when
      present: applicants who were not matched);
    - ``matched``: mentors of the cohort's pairs that started by ``as_of``;
    - ``engaged``: mentors of those pairs with 3 or more held sessions by ``as_of`` (the
      practitioner benchmark of an engaged pair);
    - ``completed``: mentors of those pairs with status ``completed`` that ended by ``as_of``.

    Returns
    -------
    FunnelResult
        ``summary`` one row per stage and cohort, plus ``cohort_id = "all"`` (sums over the
        cohorts; a person in two cohorts counts twice).

    Raises
    ------
    InsufficientDataError
        The pilot has no cohort (e.g. a pilot cut at a date before its first cohort with
        :meth:`Pilot.as_of`).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.enrolment_funnel(rm.load_sample())
    >>> cols = ["stage", "cohort_id", "estimate", "share_of_previous"]
    >>> print(res.summary[cols].head(5).round(3).to_string(index=False))
                 stage cohort_id  estimate  share_of_previous
      Eligible juniors       C01       537                NaN
    Enrolled (applied)       C01        36              0.067
     Matched in a pair       C01        12              0.333
      3+ sessions held       C01        12              1.000
             Completed       C01        11              0.917

    Of 537 eligible juniors, 36 applied for the first cohort and 12 were matched; 11 of the 12
    pairs completed.
    """
    stamp = pilot.analysis_date(as_of)
    emp = pilot.employees
    pairs = pilot.pairs[pilot.pairs.start_date <= stamp]
    held = pd.Series(dtype=float)
    if pilot.sessions is not None and len(pilot.sessions):
        s = pilot.sessions
        s = s[(s.status == "held").to_numpy(dtype=bool) & (s.date <= stamp).to_numpy(dtype=bool)]
        held = s.groupby(s.pair_id.astype("string")).size()
    codes = emp.level.cat.codes if isinstance(emp.level.dtype, pd.CategoricalDtype) else None
    level_of = pd.Series(
        codes.to_numpy() if codes is not None else np.zeros(len(emp)),
        index=emp.employee_id.astype("string").to_numpy(),
    )
    rows = []
    running_any = False
    for cid, c in pilot.cohorts.drop_duplicates("cohort_id").set_index("cohort_id").iterrows():
        p = pairs[pairs.cohort_id == cid]
        mentors = p.mentor_id.astype("string")
        start = c.start_date
        employed = (emp.hire_date <= start) & ~(emp.termination_date <= start).fillna(False)
        if len(mentors):
            lv = level_of.reindex(mentors.to_numpy())
            in_range = level_of.between(lv.min(), lv.max()).to_numpy(dtype=bool)
        else:
            in_range = np.zeros(len(emp), dtype=bool)
        eligible = int((employed.to_numpy(dtype=bool) & in_range).sum())
        waitlist = 0
        if pilot.control is not None:
            ctrl = pilot.control[pilot.control.cohort_id == cid].employee_id.astype("string")
            waitlist = int((~ctrl.isin(set(mentors))).sum())
        n_pair_held = held.reindex(p.pair_id.astype("string").to_numpy()).fillna(0).to_numpy()
        engaged = int(mentors[n_pair_held >= 3].nunique())
        done = (p.status.astype("string") == "completed").fillna(False) & ~(
            p.end_date > stamp
        ).fillna(False)
        completed = int(mentors[done.to_numpy(dtype=bool)].nunique())
        running = bool(c.end_date > stamp)
        running_any |= running
        counts = {
            "eligible": eligible,
            "enrolled": int(mentors.nunique()) + waitlist,
            "matched": int(mentors.nunique()),
            "engaged": engaged,
            "completed": completed,
        }
        rows += _funnel_rows(str(cid), counts, running)
    if not rows:
        from ..errors import InsufficientDataError

        raise InsufficientDataError(f"no cohort had started by {stamp:%d %B %Y}")
    total: dict[str, int] = {}
    for r in rows:
        total[r["metric"]] = total.get(r["metric"], 0) + int(r["estimate"])
    rows += _funnel_rows("all", total, running_any)
    res = FunnelResult(pd.DataFrame(rows), as_of=f"{stamp:%Y-%m-%d}")
    res.note(
        "Eligible: employed at the cohort's start in the mentors' grade range (the roster "
        "does not record eligibility, so this is an approximation).",
        "method",
    )
    if pilot.control is None:
        res.note(
            "No waitlist (control) table: enrolled counts only the matched mentors.", "missing_data"
        )
    if running_any:
        res.note(
            "A cohort still running has not completed yet: its completed count is not final.",
            "not_estimable",
        )
    return res


def _funnel_rows(cohort: str, counts: dict[str, int], running: bool) -> list[dict]:
    out, prev = [], None
    for key, words in FUNNEL_STAGES.items():
        v = counts[key]
        out.append(
            {
                "metric": key,
                "stage": words,
                "cohort_id": cohort,
                "estimate": v,
                "share_of_previous": (v / prev) if prev else np.nan,
                "running": running,
            }
        )
        prev = v
    return out


class WeeklySessions(Result):
    """Sessions per week of each cohort against the plan.

    ``summary`` columns: ``metric`` (``sessions_in_week``), ``cohort_id``, ``week`` (1 = the
    cohort's first week),
    ``week_start``, ``planned`` (sessions the plan schedules that week for the pairs running
    then), ``held``, ``cancelled``, ``no_show``, ``complete`` (False for the week holding
    ``as_of``).
    """

    title = "Sessions held per week against the plan"

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        from ..plotting.theme import PALETTE

        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 3.2))
        s = self.summary
        for i, (cid, g) in enumerate(s.groupby("cohort_id", sort=True)):
            colour = PALETTE[i % len(PALETTE)]
            ax.plot(g.week, g.held, "o-", color=colour, ms=3, label=f"{cid} held")
            ax.step(
                g.week,
                g.planned,
                where="mid",
                ls="--",
                lw=1,
                color=colour,
                alpha=0.8,
                label=f"{cid} planned",
            )
        ax.set_xlabel("week of the cohort")
        ax.set_ylabel("sessions (count)")
        ax.set_title(self.title)
        ax.legend(fontsize=8, ncols=2)
        return ax


def sessions_by_week(pilot, *, as_of: str | pd.Timestamp | None = None) -> WeeklySessions:
    """Sessions held, cancelled and no-show per week of each cohort, against the plan.

    The plan, as in :mod:`~rm_analytics.metrics.delivery`: a cohort's sessions are due at
    ``cohort start + j * cadence_days`` for ``j = 0 .. planned_sessions - 1``; a pair owns the
    slots from its start to its end (or the cohort's end). Week ``w`` covers days
    ``7 (w - 1)`` to ``7 w - 1`` after the cohort's start. Weeks after ``as_of`` are not
    shown; sessions after ``as_of`` are ignored.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.sessions_by_week(rm.load_sample())
    >>> cols = ["cohort_id", "week", "planned", "held", "cancelled", "no_show"]
    >>> print(res.summary[cols].head(4).to_string(index=False))
    cohort_id  week  planned  held  cancelled  no_show
          C01     1       12    12          2        0
          C01     2       12    10          2        1
          C01     3       12    10          1        0
          C01     4       12     9          3        1

    Twelve sessions were planned each week (one per pair); cancellations showed up from week 1.
    """
    pilot.require("sessions", purpose="sessions per week")
    stamp = pilot.analysis_date(as_of)
    cohorts = pilot.cohorts.drop_duplicates("cohort_id").set_index("cohort_id")
    pairs = pilot.pairs[pilot.pairs.start_date <= stamp]
    sess = pilot.sessions[(pilot.sessions.date <= stamp).to_numpy(dtype=bool)]
    sess = sess.assign(pair_id=sess.pair_id.astype("string"))
    cohort_of = pairs.set_index(pairs.pair_id.astype("string")).cohort_id.astype("string")
    frames = []
    for cid, c in cohorts.iterrows():
        start = c.start_date
        last_day = min(stamp, c.end_date)
        if last_day < start:
            continue
        n_weeks = int((last_day - start).days // 7) + 1
        weeks = np.arange(1, n_weeks + 1)
        planned = np.zeros(n_weeks)
        slots = start + pd.to_timedelta(
            np.arange(int(c.planned_sessions)) * int(c.cadence_days), unit="D"
        )
        for _, p in pairs[pairs.cohort_id == cid].iterrows():
            stop = p.end_date if pd.notna(p.end_date) else c.end_date
            own = slots[(slots >= p.start_date) & (slots <= stop) & (slots <= stamp)]
            w = ((own - start).days // 7).to_numpy()
            planned += np.bincount(w[w < n_weeks], minlength=n_weeks)[:n_weeks]
        mine = sess[sess.pair_id.map(cohort_of).eq(str(cid)).fillna(False).to_numpy(dtype=bool)]
        wk = ((mine.date - start).dt.days // 7 + 1).to_numpy()
        counts = {}
        for status in ("held", "cancelled", "no_show"):
            sel = wk[(mine.status.astype("string") == status).fillna(False).to_numpy(dtype=bool)]
            sel = sel[(sel >= 1) & (sel <= n_weeks)]
            counts[status] = np.bincount(sel, minlength=n_weeks + 1)[1:]
        week_start = start + pd.to_timedelta((weeks - 1) * 7, unit="D")
        frames.append(
            pd.DataFrame(
                {
                    "cohort_id": str(cid),
                    "week": weeks,
                    "week_start": week_start,
                    "planned": planned.astype(int),
                    "held": counts["held"].astype(int),
                    "cancelled": counts["cancelled"].astype(int),
                    "no_show": counts["no_show"].astype(int),
                    "complete": (week_start + pd.Timedelta(days=6)) <= stamp,
                }
            )
        )
    cols = [
        "cohort_id",
        "week",
        "week_start",
        "planned",
        "held",
        "cancelled",
        "no_show",
        "complete",
    ]
    summary = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    summary = summary[cols]
    summary.insert(0, "metric", "sessions_in_week")
    res = WeeklySessions(summary, as_of=f"{stamp:%Y-%m-%d}")
    res.note(
        "Planned: the sessions the cohort's plan schedules that week for the pairs running "
        "then (one per cadence period).",
        "method",
    )
    return res


def feedback_by_role(
    pilot, *, as_of: str | pd.Timestamp | None = None, min_cell_size: int | None = None
) -> Result:
    """The feedback form's ratings and would-recommend share by cohort, role and wave.

    :func:`~rm_analytics.metrics.reaction.feedback_summary` over answers up to ``as_of``
    with ``by=["cohort_id", "role", "wave"]`` (roles from the pair the answer is about; one
    answer per member and wave, so the intervals treat answers as independent): progress
    against the SMART goal and safety in the relationship (1-5, mean with t interval),
    would recommend (share yes, Wilson interval), each with its ``n`` (the program lead's
    view; ``min_cell_size`` is deprecated and ignored).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.feedback_by_role(rm.load_sample())
    >>> cols = ["cohort_id", "role", "wave", "item", "estimate", "n"]
    >>> print(res.summary[cols].head(3).round(3).to_string(index=False))
    cohort_id   role     wave      item  estimate  n
          C01 mentee endpoint  progress     2.727 11
          C01 mentee endpoint    safety     3.909 11
          C01 mentee endpoint recommend     1.000 11
    """
    from ._inputs import deprecated_min_cell_size

    deprecated_min_cell_size(min_cell_size, "feedback_by_role")
    from .reaction import feedback_summary

    pilot.require("surveys", purpose="the feedback by role")
    stamp = pilot.analysis_date(as_of)
    sv = pilot.surveys
    sv = sv[
        (sv.survey.astype("string") == "feedback").fillna(False).to_numpy(dtype=bool)
        & (sv.response_date <= stamp).to_numpy(dtype=bool)
    ]
    if "pair_id" not in sv.columns or sv.pair_id.isna().all():
        from ..errors import InsufficientDataError

        raise InsufficientDataError("feedback by role needs feedback answers with a pair_id")
    part = pilot.participants("both")[["employee_id", "pair_id", "role", "cohort_id"]]
    sv = sv.astype({"respondent_id": "string", "pair_id": "string"}).merge(
        part.rename(columns={"employee_id": "respondent_id"}),
        on=["respondent_id", "pair_id"],
        how="inner",
    )
    sv["wave"] = sv.wave.astype("string")
    return feedback_summary(sv, by=["cohort_id", "role", "wave"])
