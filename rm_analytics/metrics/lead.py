"""The program lead's working view: one entry per pair, what to do this week, what was done.

:func:`pair_view` turns the pair-health flags (:func:`~rm_analytics.metrics.safety.flag_pairs`),
the session log and the lead's intervention log into one entry per started pair: its state,
health, open and addressed flags, the action to take now (in words) and the evidence. Running
pairs that need action come first, most urgent first (:meth:`PairView.this_week`); ended
pairs appear only as history, without an action. Confidential: it names pairs and people and
must never reach sponsors.

State
-----
A pair is ``ended`` at the as-of date when its ``end_date`` is on or before it, its cohort's
end date is on or before it, its status is completed, withdrawn or reshuffled, or the lead
logged a ``close``, ``reshuffle`` or ``rematch`` intervention for it by then; otherwise it is
``running``. A running pair is *paused* after a ``pause`` intervention without a later
``resume`` (or with status ``paused``). Pairs that start after the as-of date are left out
(counted in a note).

Health and actions
------------------
Flags are heuristics, not validated cut-offs (the Edmondson scale has none); every threshold
can be changed (``thresholds`` for the flags, ``rules`` for this view).

=================  =======================================================  ==================
health             when (first rule that applies)                           action (playbook)
=================  =======================================================  ==================
``act_now``        an open CONFLICT_OF_INTEREST (one member in the other's  rematch both,
                   reporting line), LOW_SAFETY (a safety score below the    before anything
                   scale midpoint) or STALLED (no held session for more     else; pause and
                   than 2 cadence periods, or under half the due sessions   talk to both;
                   held at mid-pilot)                                       re-energise before
                                                                            the cohort's
                                                                            mid-point,
                                                                            reshuffle from it
``needs_check_in`` an open SAFETY_DROP, REVERSE_ITEM_ALERT, DIVERGENCE,     check in with both
                   GOAL_OFF_TRACK (week-6 progress 2/5 or less),            about the reasons
                   CADENCE_SLIPPING (no held session for more than 1.5      listed; a paused
                   cadence periods) or NO_RESPONSE (a missed pulse); or     pair: decide with
                   the pair is paused                                       both to resume,
                                                                            reshuffle or close
``too_early``      no open flag, and running fewer than 3 weeks or nothing  none
                   recorded yet (no session held or due, no pulse answer)
``on_track``       otherwise                                                none
=================  =======================================================  ==================

Urgency (the order of this week's list): act now before check in; within a level, conflict
of interest, low safety, stalled, safety drop, worrying answer, divergence, goal off track,
sessions slipping, missed pulse, paused; then the oldest open flag first.

Ended pairs get the health they ended with (from the flags left open) and never an action.

Raised, addressed, open
-----------------------
Every flag has the date it was raised (see ``flag_pairs``: the pulse or feedback answer's
date, the week-6 check's date, the day a missing answer became overdue, the day the stall
threshold was crossed, the pair's start for a conflict of interest). A flag raised on or
before an intervention on its pair is *addressed* by the first such intervention; a flag
raised after the pair's last intervention is *open*. An intervention restarts the stall
clock: a running pair that still has no held session more than the stall limit after the
intervention is STALLED again, raised on the day the limit was crossed, and CADENCE_SLIPPING
counts from the later of the last held session and the last intervention. While a pair is
paused it is not expected to meet: STALLED and CADENCE_SLIPPING raised during the pause are
dropped. Flags without a date count as raised at the as-of date (open).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..results import Result, tidy

STATES = ("running", "ended")
HEALTH_STATES = ("act_now", "needs_check_in", "too_early", "on_track")

#: Rules of this view (heuristics, not validated cut-offs); flags use ``flag_pairs``'
#: thresholds.
#:
#: - ``too_early_weeks``: a running pair without open flags is ``too_early`` for its first
#:   this many weeks.
#: - ``slipping_cadences``: CADENCE_SLIPPING when a running pair has held no session for more
#:   than this many cadence periods (1.5: more than 10 days on a weekly plan).
DEFAULT_LEAD_RULES: dict[str, float] = {"too_early_weeks": 3.0, "slipping_cadences": 1.5}

#: Signals of this view on top of ``flag_pairs``' codes.
LEAD_SIGNALS = ("CADENCE_SLIPPING",)

#: Health level of an open flag.
FLAG_HEALTH = {
    "CONFLICT_OF_INTEREST": "act_now",
    "LOW_SAFETY": "act_now",
    "STALLED": "act_now",
    "SAFETY_DROP": "needs_check_in",
    "REVERSE_ITEM_ALERT": "needs_check_in",
    "DIVERGENCE": "needs_check_in",
    "GOAL_OFF_TRACK": "needs_check_in",
    "CADENCE_SLIPPING": "needs_check_in",
    "NO_RESPONSE": "needs_check_in",
}
#: Flags in order of urgency (conflict of interest before anything else).
URGENCY = tuple(FLAG_HEALTH)

#: Flag codes in plain words (the page never shows a code).
FLAG_WORDS = {
    "CONFLICT_OF_INTEREST": "conflict of interest",
    "LOW_SAFETY": "low psychological safety",
    "STALLED": "stalled",
    "SAFETY_DROP": "safety fell",
    "REVERSE_ITEM_ALERT": "worrying answer on the safety pulse",
    "DIVERGENCE": "mentor and mentee see the relationship differently",
    "GOAL_OFF_TRACK": "goal off track at the week-6 check",
    "CADENCE_SLIPPING": "sessions slipping",
    "NO_RESPONSE": "missed safety pulse",
}
HEALTH_WORDS = {
    "act_now": "Act now",
    "needs_check_in": "Needs check-in",
    "too_early": "Too early to tell",
    "on_track": "On track",
}
INTERVENTION_WORDS = {
    "check_in": "check-in",
    "pause": "pause",
    "resume": "resume",
    "reshuffle": "reshuffle",
    "rematch": "rematch",
    "close": "close",
}
#: Interventions that end a pair.
ENDING_ACTIONS = ("close", "reshuffle", "rematch")

SUMMARY_COLUMNS = [
    "pair_id",
    "cohort_id",
    "mentor",
    "mentee",
    "state",
    "health",
    "action",
    "since",
    "open_flags",
    "addressed_flags",
    "evidence",
    "priority",
    "paused",
    "status",
    "start_date",
    "end_date",
    "weeks_running",
    "sessions_held",
    "sessions_due",
    "last_session",
    "last_intervention",
]


def _rules(overrides: Mapping[str, float] | None) -> dict[str, float]:
    rules = dict(DEFAULT_LEAD_RULES)
    for key, value in (overrides or {}).items():
        if key not in rules:
            raise ValueError(
                f"unknown rule {key!r}; known: {', '.join(sorted(DEFAULT_LEAD_RULES))}"
            )
        rules[key] = float(value)
    return rules


def _day(ts) -> str:
    return f"{pd.Timestamp(ts):%Y-%m-%d}" if pd.notna(ts) else ""


def display_names(employees: pd.DataFrame) -> pd.Series:
    """Display name of each employee id: the roster's ``name`` when given, else the id.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> from rm_analytics.metrics.lead import display_names
    >>> display_names(rm.load_sample().employees).head(3)
    E000001     Jamal Walsh
    E000002      Maya Bauer
    E000003    Aisha Garcia
    dtype: string
    """
    ids = employees.employee_id.astype("string")
    if "name" in employees.columns:
        names = employees["name"].astype("string").str.strip()
        names = names.where(names.fillna("").ne(""))
        shown = names.fillna(ids)
    else:
        shown = ids
    return pd.Series(shown.to_numpy(), index=pd.Index(ids.to_numpy()), dtype="string")


class PairView(Result):
    """The program lead's view: pairs per state and health, and every started pair in
    ``pairs_``, running pairs needing action first.

    ``summary``: one row per state (``running``, ``ended``) and health: ``metric``
    (``pairs``), ``state``, ``health``, ``estimate`` (pairs), ``ci_low, ci_high, p_value``
    (NaN: counts), ``n`` (pairs started by ``as_of``); then one row ``pairs_needing_action``
    (running pairs on this week's list).

    ``pairs_`` columns (one row per pair that started by ``as_of``; :meth:`pair` gives one):

    - ``pair_id, cohort_id``; ``mentor``, ``mentee``: display names (the roster's ``name``
      column) or ids;
    - ``state``: ``running`` or ``ended``; ``health``: ``act_now``, ``needs_check_in``,
      ``too_early`` or ``on_track`` (for ended pairs, the health they ended with);
    - ``action``: what to do now, in words (None for ended, on-track and too-early pairs);
    - ``since``: when the oldest open flag was raised (the pause date for a paused pair
      without flags; NaT when nothing is open);
    - ``open_flags``, ``addressed_flags``: lists of flag codes, most urgent first;
    - ``evidence``: list of plain sentences (open flags with their dates, addressed flags with
      the intervention that addressed them, sessions held against the plan);
    - ``priority``: 1, 2, ... for running pairs that need action (this week's order), else NA;
    - ``paused``, ``status`` (the pairs table's), ``start_date``, ``end_date``,
      ``weeks_running``, ``sessions_held``, ``sessions_due`` (NA without a session log),
      ``last_session``, ``last_intervention`` (words, e.g. "check-in on 2026-09-01").

    Fitted attributes: ``flags_`` (every flag with ``raised``, ``status`` open / addressed,
    ``addressed_by``, ``addressed_on``), ``interventions_``, ``events_`` (the timeline:
    sessions, pulses, flags, interventions), ``as_of_``.
    """

    title = "Pairs: health, actions and interventions"

    pairs_: pd.DataFrame
    flags_: pd.DataFrame
    interventions_: pd.DataFrame
    events_: pd.DataFrame
    as_of_: pd.Timestamp

    def pair(self, pair_id: str) -> pd.Series:
        """One pair's row of ``pairs_`` (KeyError when the pair is not in the view)."""
        hits = self.pairs_[self.pairs_.pair_id.eq(pair_id)]
        if len(hits) != 1:
            raise KeyError(f"pair {pair_id!r} is not in the view")
        return hits.iloc[0]

    def this_week(self) -> pd.DataFrame:
        """Running pairs that need action, most urgent first (each pair once)."""
        s = self.pairs_
        return s[s.priority.notna()].sort_values("priority").reset_index(drop=True)

    def history(self) -> pd.DataFrame:
        """Ended pairs (no actions)."""
        return self.pairs_[self.pairs_.state.eq("ended")].reset_index(drop=True)

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per pair (the ``pairs`` list of the lead's metrics JSON):
        ``pair_id, cohort_id, mentor, mentee, state, health, open_flags, addressed_flags,
        action, since, evidence, priority, paused, last_intervention``; dates as ISO text,
        missing values as None."""
        keep = [
            "pair_id",
            "cohort_id",
            "mentor",
            "mentee",
            "state",
            "health",
            "open_flags",
            "addressed_flags",
            "action",
            "since",
            "evidence",
            "priority",
            "paused",
            "last_intervention",
        ]
        out = []
        for _, r in self.pairs_[keep].iterrows():
            d: dict[str, Any] = {}
            for k in keep:
                v = r[k]
                if isinstance(v, list):
                    d[k] = list(v)
                elif k == "since":
                    d[k] = _day(v) or None
                elif k == "priority":
                    d[k] = None if pd.isna(v) else int(v)
                elif k == "paused":
                    d[k] = bool(v)
                else:
                    d[k] = None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
            out.append(d)
        return out

    def plot(self, ax=None, *, pairs=None, cohort: str | None = None):
        """Each pair's timeline as one lane: sessions (filled: held, hollow: cancelled or
        no-show), safety pulses (red below the scale midpoint), flags (red: open, grey:
        addressed) and interventions, with the as-of date dashed (left out when every pair
        shown has ended, so a past cohort fills the width).

        ``pairs`` (ids) or ``cohort`` select the lanes (default: every pair, running first).
        """
        from ..plotting.timeline import pair_timelines

        s = self.pairs_
        if pairs is not None:
            wanted = [pairs] if isinstance(pairs, str) else list(pairs)
            s = s[s.pair_id.isin(wanted)]
        if cohort is not None:
            s = s[s.cohort_id.eq(cohort)]
        lanes = [
            (p, f"{p}  {a} / {b}") for p, a, b in zip(s.pair_id, s.mentor, s.mentee, strict=True)
        ]
        ev = self.events_[self.events_.pair_id.isin(s.pair_id)]
        return pair_timelines(
            ev,
            lanes,
            as_of=None if len(s) and s.state.eq("ended").all() else self.as_of_,
            ax=ax,
            title="Pair timelines" + (f": cohort {cohort}" if cohort else ""),
        )


# -- the view -------------------------------------------------------------------------------------
def _interventions(pilot, pair_ids: set, as_of: pd.Timestamp) -> tuple[pd.DataFrame, int]:
    iv = pilot.interventions
    cols = ["pair_id", "date", "action", "note"]
    if iv is None or len(iv) == 0:
        empty = pd.DataFrame(
            {
                "pair_id": pd.Series(dtype="string"),
                "date": pd.Series(dtype="datetime64[ns]"),
                "action": pd.Series(dtype="string"),
                "note": pd.Series(dtype="string"),
            }
        )
        return empty, 0
    iv = iv.assign(
        pair_id=iv.pair_id.astype("string"),
        action=iv.action.astype("string"),
        note=(iv["note"] if "note" in iv.columns else pd.Series(pd.NA, index=iv.index)).astype(
            "string"
        ),
    )[cols]
    late = (iv.date > as_of).to_numpy(dtype=bool)
    iv = iv[~late & iv.pair_id.isin(pair_ids).to_numpy(dtype=bool)]
    return iv.sort_values(["pair_id", "date"], kind="stable").reset_index(drop=True), int(
        late.sum()
    )


def _state(pairs: pd.DataFrame, iv: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per pair: ended (bool), ended_on, paused (bool), paused_since."""
    out = pd.DataFrame(index=pairs.pair_id.to_numpy())
    status = pairs.status.astype("string").to_numpy()
    end = pd.to_datetime(pairs.end_date).to_numpy()
    c_end = pd.to_datetime(pairs.cohort_end_date).to_numpy()
    stamp = np.datetime64(as_of, "ns")
    ending = iv[iv.action.isin(ENDING_ACTIONS)].groupby("pair_id").date.min()
    iv_end = ending.reindex(out.index).to_numpy(dtype="datetime64[ns]")
    candidates = np.vstack(
        [
            np.where(end <= stamp, end, np.datetime64("NaT")),
            np.where(c_end <= stamp, c_end, np.datetime64("NaT")),
            iv_end,
        ]
    ).astype("datetime64[ns]")
    ended_on = pd.DataFrame(candidates.T).min(axis=1).to_numpy(dtype="datetime64[ns]")
    closed_status = np.isin(status, ["completed", "withdrawn", "reshuffled"])
    # a closed status is the export's present; trust it unless the pair ends after as_of
    closed_status &= ~(end > stamp)
    out["ended"] = ~np.isnat(ended_on) | closed_status
    out["ended_on"] = ended_on
    # paused: last pause without a later resume, or status paused without a later resume
    pr = iv[iv.action.isin(["pause", "resume"])].groupby("pair_id").tail(1).set_index("pair_id")
    last_pr = pr.action.reindex(out.index)
    out["paused_since"] = (
        pr.date.where(pr.action.eq("pause")).reindex(out.index).to_numpy(dtype="datetime64[ns]")
    )
    out["paused"] = (last_pr.eq("pause").fillna(False).to_numpy(dtype=bool)) | (
        (status == "paused") & ~last_pr.eq("resume").fillna(False).to_numpy(dtype=bool)
    )
    out.loc[out.ended, "paused"] = False
    return out


def _mid_date(info: pd.DataFrame) -> pd.Series:
    return (
        info.cohort_start_date + (info.cohort_end_date - info.cohort_start_date) / 2
    ).dt.normalize()


def _restart_flags(
    flags: pd.DataFrame,
    info: pd.DataFrame,
    delivery: pd.DataFrame | None,
    iv: pd.DataFrame,
    st: pd.DataFrame,
    th: Mapping[str, Any],
    rules: Mapping[str, float],
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """STALLED raised again after an intervention, CADENCE_SLIPPING, and no stall in a pause."""
    if delivery is None:
        return flags
    d = delivery.set_index("pair_id")
    last_iv = iv.groupby("pair_id").date.max()
    last_kind = iv.groupby("pair_id").tail(1).set_index("pair_id").action
    mids = _mid_date(info).set_axis(info.pair_id.to_numpy())
    rows: list[dict[str, Any]] = []
    drop = np.zeros(len(flags), dtype=bool)
    stall_cad = float(th["stalled_gap_cadences"])
    slip_cad = float(rules["slipping_cadences"])
    for pid in info.pair_id:
        if pid not in d.index or st.at[pid, "ended"]:
            continue
        r = d.loc[pid]
        mine = (flags.pair_id == pid).to_numpy(dtype=bool)
        stalls = mine & (flags.flag == "STALLED").to_numpy(dtype=bool)
        if st.at[pid, "paused"]:  # not expected to meet while paused
            since = st.at[pid, "paused_since"]
            if pd.notna(since):
                stalls &= (flags.raised > since).to_numpy(dtype=bool)
            drop |= stalls
            continue
        cad = float(r.cadence_days)
        held_anchor = r.observed_until - pd.Timedelta(days=float(r.days_inactive))
        when = last_iv.get(pid, pd.NaT)
        after_iv = pd.notna(when) and when > held_anchor
        anchor = when if after_iv else held_anchor
        idle = int((as_of - anchor).days)
        if pd.notna(when):
            open_stall = bool((stalls & (flags.raised > when).to_numpy(dtype=bool)).any())
        else:
            open_stall = bool(stalls.any())
        if after_iv:
            since_what = f"the {INTERVENTION_WORDS.get(str(last_kind[pid]), 'intervention')}"
        elif pd.notna(r.days_since_last_held):
            since_what = "the last held session"
        else:
            since_what = "the pair's start"
        base = {
            "pair_id": pid,
            "wave": pd.NA,
            "cohort_id": r.cohort_id,
            "role": pd.NA,
            "value": float(idle),
        }
        stall_limit = cad * stall_cad
        if not open_stall and after_iv and idle > stall_limit:
            rows.append(
                {
                    **base,
                    "flag": "STALLED",
                    "severity": "medium",
                    "evidence": f"no held session in the {idle} days since {since_what} on "
                    f"{_day(anchor)} (more than {stall_limit:g} days = {stall_cad:g} x the "
                    f"{cad:g}-day cadence; heuristic)",
                    "action": "reshuffle" if mids[pid] <= as_of else "check in",
                    "threshold": stall_limit,
                    "raised": anchor + pd.Timedelta(days=int(np.floor(stall_limit)) + 1),
                }
            )
            open_stall = True
        slip_limit = cad * slip_cad
        if not open_stall and idle > slip_limit:
            rows.append(
                {
                    **base,
                    "flag": "CADENCE_SLIPPING",
                    "severity": "low",
                    "evidence": f"no held session in the {idle} days since {since_what} on "
                    f"{_day(anchor)} (more than {slip_limit:g} days = {slip_cad:g} x the "
                    f"{cad:g}-day cadence; heuristic)",
                    "action": "check in",
                    "threshold": slip_limit,
                    "raised": anchor + pd.Timedelta(days=int(np.floor(slip_limit)) + 1),
                }
            )
    out = flags[~drop].astype({"severity": "string"})
    if rows:
        extra = pd.DataFrame(rows).dropna(axis=1, how="all")  # wave and role stay missing
        out = pd.concat([out, extra], ignore_index=True)
    return out.reset_index(drop=True)


def _flag_status(flags: pd.DataFrame, iv: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """``status`` (open / addressed), ``addressed_by`` and ``addressed_on`` of every flag."""
    f = flags.assign(raised=pd.to_datetime(flags.raised).fillna(as_of)).reset_index(drop=True)
    by = pd.array([pd.NA] * len(f), dtype="string")
    on = np.full(len(f), np.datetime64("NaT"), dtype="datetime64[ns]")
    groups = {pid: g for pid, g in iv.groupby("pair_id")} if len(iv) else {}
    for i, (pid, raised) in enumerate(zip(f.pair_id, f.raised, strict=True)):
        g = groups.get(pid)
        if g is None:
            continue
        later = g[g.date >= raised]
        if len(later):
            by[i] = str(later.action.iloc[0])
            on[i] = later.date.iloc[0]
    f["addressed_by"] = by
    f["addressed_on"] = on
    f["status"] = np.where(pd.isna(on), "open", "addressed")
    return f


def _reason(flag: str, rows: list[dict[str, Any]]) -> str:
    """Why to check in, in words, for one kind of open flag (``rows``: its flag records)."""
    if flag == "NO_RESPONSE":
        return "; ".join(sorted({f"the {r['role']} missed the {r['wave']} pulse" for r in rows}))
    if flag == "CADENCE_SLIPPING":
        return f"no session for {int(max(r['value'] for r in rows))} days"
    if flag == "GOAL_OFF_TRACK":
        return f"goal progress {int(min(r['value'] for r in rows))} of 5 at the week-6 check"
    return {
        "SAFETY_DROP": "safety fell between pulses",
        "REVERSE_ITEM_ALERT": "a worrying answer on the safety pulse",
        "DIVERGENCE": "mentor and mentee rate the relationship differently",
    }.get(flag, FLAG_WORDS.get(flag, flag.lower()))


def _action(open_rows: list[dict[str, Any]], paused: bool, paused_since) -> str | None:
    if open_rows:
        first = open_rows[0]
        kind = first["flag"]
        if kind == "CONFLICT_OF_INTEREST":
            return (
                "Rematch before anything else: one member is in the other's reporting line; "
                "end this pair and give both a partner outside it."
            )
        if kind == "LOW_SAFETY":
            return (
                "Pause the pair and talk to both separately this week; resume only when both "
                "want to."
            )
        if kind == "STALLED":
            if first["action"] == "reshuffle":
                return (
                    "Reshuffle: the pair has stalled past the cohort's mid-point; offer both "
                    "a new partner."
                )
            return (
                "Re-energise: call both, book the next session and agree one small step "
                "towards the goal."
            )
    kinds = dict.fromkeys(r["flag"] for r in open_rows)
    reasons = [_reason(k, [r for r in open_rows if r["flag"] == k]) for k in kinds]
    if paused:
        when = f" since {_day(paused_since)}" if pd.notna(paused_since) else ""
        reasons.append(
            f"the pair has been paused{when}: agree whether to resume, reshuffle or close"
        )
    if not reasons:
        return None
    return "Check in with both this week: " + "; ".join(reasons) + "."


def pair_view(
    pilot,
    *,
    as_of: str | pd.Timestamp | None = None,
    thresholds: Mapping[str, Any] | None = None,
    rules: Mapping[str, float] | None = None,
) -> PairView:
    """The program lead's view of every pair: state, health, flags, action, evidence.

    Confidential (pair ids, names, flags and notes): for the program lead only.

    Parameters
    ----------
    pilot
        A :class:`~rm_analytics.Pilot`; ``sessions``, ``surveys``, ``checkpoints`` and
        ``interventions`` are used when present.
    as_of
        The review date (default: the latest date recorded in the data). Later sessions,
        answers and interventions are ignored; pairs starting later are left out.
    thresholds
        Overrides of the flag thresholds (:data:`rm_analytics.metrics.safety.DEFAULT_THRESHOLDS`).
    rules
        Overrides of :data:`DEFAULT_LEAD_RULES` (``too_early_weeks``, ``slipping_cadences``).

    Returns
    -------
    PairView
        ``summary``: pairs per state and health; ``pairs_``: one row per started pair
        (columns in :class:`PairView`), running pairs needing action first (by urgency), then
        other running pairs, then ended pairs.


    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.pair_view(rm.load_sample())
    >>> cols = ["metric", "state", "health", "estimate"]
    >>> print(res.summary[cols].to_string(index=False))
                  metric   state         health  estimate
                   pairs running        act_now       3.0
                   pairs running needs_check_in       3.0
                   pairs running      too_early       0.0
                   pairs running       on_track       6.0
                   pairs   ended        act_now       1.0
                   pairs   ended needs_check_in       7.0
                   pairs   ended      too_early       0.0
                   pairs   ended       on_track      16.0
    pairs_needing_action     NaN            NaN       6.0
    >>> print(res.pairs_[["pair_id", "state", "health"]].head(2).to_string(index=False))
    pair_id   state  health
    C03-P01 running act_now
    C03-P02 running act_now
    >>> print(res.pairs_.action.iloc[0])
    Rematch before anything else: one member is in the other's reporting line; end this pair and
    give both a partner outside it.
    >>> print(res.this_week()[["pair_id", "health"]].to_string(index=False))
    pair_id         health
    C03-P01        act_now
    C03-P02        act_now
    C03-P06        act_now
    C03-P03 needs_check_in
    C03-P07 needs_check_in
    C03-P10 needs_check_in

    The program lead's confidential view: six of the twelve running pairs are on this week's
    list (three to act on now, three for a check-in), the planted reporting-line conflict first.
    """
    from .delivery import pair_delivery
    from .safety import DEFAULT_THRESHOLDS, flag_pairs

    th = {**DEFAULT_THRESHOLDS, **dict(thresholds or {})}
    lr = _rules(rules)
    stamp = pilot.analysis_date(as_of)
    notes: list[tuple[str, str]] = []

    cohorts = pilot.cohorts.drop_duplicates("cohort_id").set_index("cohort_id")
    info = pilot.pairs.join(
        cohorts[["start_date", "end_date", "cadence_days"]].add_prefix("cohort_"), on="cohort_id"
    )
    info = info.assign(
        pair_id=info.pair_id.astype("string"), cohort_id=info.cohort_id.astype("string")
    )
    later = info.start_date > stamp
    if later.any():
        notes.append(
            (
                f"{int(later.sum())} pair(s) start after {stamp:%Y-%m-%d} and are not shown.",
                "excluded_rows",
            )
        )
    info = info[~later.to_numpy(dtype=bool)].reset_index(drop=True)
    pair_ids = set(info.pair_id)

    iv, n_late = _interventions(pilot, pair_ids, stamp)
    if n_late:
        pilot.log_quality(
            "interventions",
            "pair view",
            "intervention after as_of",
            n_late,
            "excluded",
            f"dated after {stamp:%Y-%m-%d}",
        )
        notes.append(
            (f"{n_late} intervention(s) dated after {stamp:%Y-%m-%d} are ignored.", "excluded_rows")
        )
    if pilot.interventions is None:
        notes.append(
            (
                "No interventions table: every flag is shown as open until the lead logs what was done.",
                "missing_data",
            )
        )
    st = _state(info, iv, stamp)

    delivery = None
    if pilot.sessions is not None and len(pilot.sessions):
        delivery = pair_delivery(pilot, as_of=stamp).pairs_
        delivery = delivery[delivery.pair_id.isin(pair_ids)]
    else:
        notes.append(
            (
                "No sessions table: sessions, STALLED and CADENCE_SLIPPING are not checked.",
                "missing_data",
            )
        )

    flagged = flag_pairs(pilot, thresholds=thresholds, as_of=stamp)
    notes += [(str(n), n.code) for n in flagged.notes_with("missing_data")]
    flags = flagged.flags_
    flags = flags[flags.pair_id.isin(pair_ids)]
    flags = _restart_flags(flags, info, delivery, iv, st, th, lr, stamp)
    flags = _flag_status(flags, iv, stamp)
    rank = {k: i for i, k in enumerate(URGENCY)}
    flags["_rank"] = flags.flag.map(rank).fillna(len(rank)).astype(int)
    flags = flags.sort_values(["pair_id", "_rank", "raised"], kind="stable").reset_index(drop=True)

    names = display_names(pilot.employees).to_dict()
    d = delivery.set_index("pair_id").to_dict("index") if delivery is not None else {}
    states = st.to_dict("index")
    by_pair: dict[str, list[dict[str, Any]]] = {}
    for r in flags.to_dict("records"):
        by_pair.setdefault(r["pair_id"], []).append(r)
    last_iv = iv.groupby("pair_id").tail(1).set_index("pair_id").to_dict("index")
    answered = _answered_pairs(pilot)
    rows = []
    for p in info.to_dict("records"):
        pid = p["pair_id"]
        f = by_pair.get(pid, [])
        open_rows = [r for r in f if r["status"] == "open"]
        done_rows = [r for r in f if r["status"] == "addressed"]
        sp = states[pid]
        ended, paused, paused_since = bool(sp["ended"]), bool(sp["paused"]), sp["paused_since"]
        stop = sp["ended_on"] if ended and pd.notna(sp["ended_on"]) else stamp
        weeks = max(0.0, (min(stop, stamp) - p["start_date"]).days / 7)
        held = due = np.nan
        last_session = pd.NaT
        if pid in d:
            held, due = int(d[pid]["sessions_held"]), int(d[pid]["expected_by_now"])
            if pd.notna(d[pid]["days_since_last_held"]):
                last_session = d[pid]["observed_until"] - pd.Timedelta(
                    days=float(d[pid]["days_since_last_held"])
                )
        levels = [FLAG_HEALTH.get(r["flag"], "needs_check_in") for r in open_rows]
        if "act_now" in levels:
            health = "act_now"
        elif levels or paused:
            health = "needs_check_in"
        elif weeks < lr["too_early_weeks"] or (
            not (held > 0) and not (due > 0) and pid not in answered
        ):
            health = "too_early"
        else:
            health = "on_track"
        action = None if ended else _action(open_rows, paused, paused_since)
        if health in ("too_early", "on_track"):
            action = None
        since = min((r["raised"] for r in open_rows), default=pd.NaT)
        if pd.isna(since) and paused and not ended:
            since = paused_since
        evidence = [
            f"{FLAG_WORDS.get(r['flag'], r['flag']).capitalize()} (raised {_day(r['raised'])}): "
            f"{r['evidence']}."
            for r in open_rows
        ]
        evidence += [
            f"{FLAG_WORDS.get(r['flag'], r['flag']).capitalize()} (raised {_day(r['raised'])}) "
            f"was addressed by the "
            f"{INTERVENTION_WORDS.get(str(r['addressed_by']), str(r['addressed_by']))} on "
            f"{_day(r['addressed_on'])}."
            for r in done_rows
        ]
        if pd.notna(held):
            last = f", the last on {_day(last_session)}" if pd.notna(last_session) else ", none yet"
            evidence.append(f"{held} of {due} sessions due so far held{last}.")
        li = last_iv.get(pid)
        last_text = None
        if li is not None:
            word = INTERVENTION_WORDS.get(str(li["action"]), str(li["action"]))
            last_text = f"{word} on {_day(li['date'])}"
        if paused and not ended:
            when = f" since {_day(paused_since)}" if pd.notna(paused_since) else ""
            evidence.append(f"Paused{when}.")
        status = p.get("status")
        rows.append(
            {
                "pair_id": pid,
                "cohort_id": p["cohort_id"],
                "mentor": names.get(str(p["mentor_id"]), str(p["mentor_id"])),
                "mentee": names.get(str(p["mentee_id"]), str(p["mentee_id"])),
                "state": "ended" if ended else "running",
                "health": health,
                "action": action,
                "since": since,
                "open_flags": list(dict.fromkeys(r["flag"] for r in open_rows)),
                "addressed_flags": list(dict.fromkeys(r["flag"] for r in done_rows)),
                "evidence": evidence,
                "priority": pd.NA,
                "paused": paused,
                "status": None if status is None or pd.isna(status) else str(status),
                "start_date": p["start_date"],
                "end_date": sp["ended_on"] if ended else pd.NaT,
                "weeks_running": weeks,
                "sessions_held": held,
                "sessions_due": due,
                "last_session": last_session,
                "last_intervention": last_text,
                "_urgency": _urgency(open_rows, paused),
            }
        )
    s = pd.DataFrame(rows, columns=[*SUMMARY_COLUMNS, "_urgency"])
    need = s.state.eq("running") & s.health.isin(["act_now", "needs_check_in"])
    level = s.health.map({"act_now": 0, "needs_check_in": 1}).fillna(2)
    group = np.where(need, 0, np.where(s.state.eq("running"), 1, 2))
    s = (
        s.assign(_g=group, _l=level, _since=pd.to_datetime(s.since).fillna(pd.Timestamp.max))
        .sort_values(["_g", "_l", "_urgency", "_since", "pair_id"], kind="stable")
        .reset_index(drop=True)
    )
    s["priority"] = pd.array(np.where(s._g.eq(0), np.cumsum(s._g.eq(0)), np.nan), dtype="Int64")
    s = s.drop(columns=["_g", "_l", "_since", "_urgency"])
    for c in ("since", "start_date", "end_date", "last_session"):
        s[c] = pd.to_datetime(s[c])
    s["sessions_held"] = s.sessions_held.astype("Int64")
    s["sessions_due"] = s.sessions_due.astype("Int64")

    counts = [
        {
            "metric": "pairs",
            "state": state,
            "health": h,
            "estimate": float((s.state.eq(state) & s.health.eq(h)).sum()),
        }
        for state in ("running", "ended")
        for h in HEALTH_STATES
    ] + [{"metric": "pairs_needing_action", "estimate": float(s.priority.notna().sum())}]
    summary = pd.DataFrame(counts).assign(
        ci_low=np.nan, ci_high=np.nan, p_value=np.nan, n=float(len(s))
    )
    res = PairView(
        tidy(summary, ["state", "health"]), as_of=f"{stamp:%Y-%m-%d}", thresholds=th, rules=lr
    )
    res.pairs_ = s
    for text, code in notes:
        res.note(text, code)
    res.note(
        "Flags and health rules are heuristics, not validated cut-offs (the safety scale has no "
        "official cut-offs); thresholds can be changed.",
        "assumption",
    )
    res.flags_ = flags.drop(columns="_rank")
    res.interventions_ = iv
    res.as_of_ = stamp
    res.events_ = _events(pilot, info, res.flags_, iv, stamp)
    return res


def _urgency(open_rows: list[dict[str, Any]], paused: bool) -> int:
    rank = {k: i for i, k in enumerate(URGENCY)}
    kinds = [rank.get(r["flag"], len(rank)) for r in open_rows]
    if kinds:
        return min(kinds)
    return len(rank) + (0 if paused else 1)


def _answered_pairs(pilot) -> set[str]:
    """Pairs some survey answer is about."""
    sv = pilot.surveys
    if sv is None or "pair_id" not in sv.columns:
        return set()
    return set(sv.pair_id.dropna().astype(str).unique())


def _pulse_scores(pilot, as_of: pd.Timestamp, pair_ids: set) -> pd.DataFrame:
    from .safety import scale_score_frame

    sv = pilot.surveys
    cols = ["pair_id", "date", "role", "score", "scale_points"]
    if sv is None or len(sv) == 0 or "pair_id" not in sv.columns:
        return pd.DataFrame(columns=cols)
    ps = sv[(sv.survey.astype("string") == "psych_safety").fillna(False).to_numpy(dtype=bool)]
    ps = ps[
        (ps.response_date <= as_of).to_numpy(dtype=bool)
        & ps.pair_id.isin(pair_ids).to_numpy(dtype=bool)
    ]
    if len(ps) == 0:
        return pd.DataFrame(columns=cols)
    k = 7
    if "scale_max" in ps.columns:
        given = pd.to_numeric(ps.scale_max, errors="coerce").dropna().unique()
        if len(given) == 1:
            k = int(given[0])
    sc = scale_score_frame(ps, scale_points=k, survey="psych_safety")
    dates = (
        ps.assign(wave=ps.wave.astype("string"))
        .groupby(["respondent_id", "wave", "pair_id"], observed=True)
        .response_date.max()
        .rename("date")
        .reset_index()
    )
    sc = sc.assign(wave=sc.wave.astype("string")).merge(
        dates, on=["respondent_id", "wave", "pair_id"]
    )
    roles = pilot.participants("both")[["employee_id", "pair_id", "role"]]
    sc = sc.astype({"respondent_id": "string", "pair_id": "string"}).merge(
        roles.rename(columns={"employee_id": "respondent_id"}), on=["respondent_id", "pair_id"]
    )
    return sc.assign(scale_points=k)[cols]


def _events(
    pilot, info: pd.DataFrame, flags: pd.DataFrame, iv: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Timeline events: pair_id, date, kind (session, pulse, flag, intervention), detail,
    value, low (pulse below the midpoint), status (flags: open / addressed)."""
    pair_ids = set(info.pair_id)
    parts = []

    def part(pair_id, date, kind, detail, value=np.nan, low=False, status=pd.NA):
        parts.append(
            pd.DataFrame(
                {
                    "pair_id": np.asarray(pair_id),
                    "date": np.asarray(date),
                    "kind": kind,
                    "detail": np.asarray(detail),
                    "value": value,
                    "low": low,
                    "status": status,
                }
            )
        )

    if pilot.sessions is not None and len(pilot.sessions):
        s = pilot.sessions
        keep = (s.date <= as_of).to_numpy(dtype=bool) & s.pair_id.isin(pair_ids).to_numpy(bool)
        s = s[keep]
        part(s.pair_id.astype("string"), s.date, "session", s.status.astype("string"))
    sc = _pulse_scores(pilot, as_of, pair_ids)
    if len(sc):
        mid = (1 + sc.scale_points.astype(float)) / 2
        low = (sc.score < mid).to_numpy(dtype=bool)
        part(sc.pair_id, sc.date, "pulse", sc.role, sc.score.to_numpy(dtype=float), low)
    if len(flags):
        part(flags.pair_id, flags.raised, "flag", flags.flag, status=flags.status.to_numpy())
    if len(iv):
        part(iv.pair_id, iv.date, "intervention", iv.action)
    if not parts:
        return pd.DataFrame(columns=["pair_id", "date", "kind", "detail", "value", "low", "status"])
    ev = pd.concat(parts, ignore_index=True)
    ev = ev.astype({"pair_id": "string", "kind": "string", "detail": "string", "status": "string"})
    ev["date"] = pd.to_datetime(ev.date)
    return ev.sort_values(["pair_id", "date", "kind"], kind="stable").reset_index(drop=True)


#: Free-text items of the feedback form in words.
COMMENT_QUESTIONS = {
    "worked": "One thing that worked",
    "improve": "One improvement",
    "comment": "Comment",
    "roadblocks": "Roadblocks",
    "wins": "Wins",
}


def pair_comments(pilot, *, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Free text about each pair, for the **program lead only**: the feedback form's text
    answers (from the mentor or the mentee) and the milestone checks' roadblocks and wins.

    Returns
    -------
    pandas.DataFrame
        ``pair_id, date, source`` (``mentor``, ``mentee``, ``week-6 check``, ``endpoint
        check``), ``question`` (in words) and ``text``, sorted by pair and date; answers
        after ``as_of`` are left out.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> from rm_analytics.metrics.lead import pair_comments
    >>> comments = pair_comments(rm.load_sample())
    >>> print(comments[["pair_id", "source", "question"]].head(3).to_string(index=False))
    pair_id       source              question
    C01-P01       mentee One thing that worked
    C01-P01       mentor       One improvement
    C01-P01 week-6 check            Roadblocks
    >>> print(comments.text.iloc[0])
    Hands-on practice with the tools between sessions
    """
    from ..data.contract import is_free_text_item

    stamp = pilot.analysis_date(as_of)
    parts = []
    sv = pilot.surveys
    if sv is not None and "text" in sv.columns and "pair_id" in sv.columns:
        items = sv["item"].astype("string")
        free = items.map(lambda i: bool(is_free_text_item(i)) if pd.notna(i) else False)
        t = sv[
            free.to_numpy(dtype=bool)
            & sv.text.notna().to_numpy(dtype=bool)
            & sv.pair_id.notna().to_numpy(dtype=bool)
            & (sv.response_date <= stamp).to_numpy(dtype=bool)
        ]
        roles = pilot.participants("both")[["employee_id", "pair_id", "role"]]
        t = t.astype({"respondent_id": "string", "pair_id": "string"}).merge(
            roles.rename(columns={"employee_id": "respondent_id"}),
            on=["respondent_id", "pair_id"],
            how="left",
        )
        item = t["item"].astype("string")
        parts.append(
            pd.DataFrame(
                {
                    "pair_id": t.pair_id.to_numpy(),
                    "date": t.response_date.to_numpy(),
                    "source": t.role.fillna("respondent").to_numpy(),
                    "question": item.map(lambda i: COMMENT_QUESTIONS.get(i, i)).to_numpy(),
                    "text": t.text.astype("string").to_numpy(),
                }
            )
        )
    cp = pilot.checkpoints
    if cp is not None and len(cp):
        start = pilot.pairs.set_index("pair_id").start_date
        when = (
            cp.date
            if "date" in cp.columns
            else pd.Series(pd.NaT, index=cp.index, dtype="datetime64[ns]")
        )
        fallback = start.reindex(cp.pair_id.to_numpy()).to_numpy() + np.timedelta64(42, "D")
        when = when.fillna(pd.Series(fallback, index=cp.index))
        for col in ("roadblocks", "wins"):
            if col not in cp.columns:
                continue
            ok = cp[col].notna().to_numpy(dtype=bool) & (when <= stamp).to_numpy(dtype=bool)
            parts.append(
                pd.DataFrame(
                    {
                        "pair_id": cp.pair_id.astype("string").to_numpy()[ok],
                        "date": when.to_numpy()[ok],
                        "source": cp.checkpoint.astype("string")
                        .map({"week6": "week-6 check", "endpoint": "endpoint check"})
                        .to_numpy()[ok],
                        "question": COMMENT_QUESTIONS[col],
                        "text": cp[col].astype("string").to_numpy()[ok],
                    }
                )
            )
    cols = ["pair_id", "date", "source", "question", "text"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)[cols]
    out["date"] = pd.to_datetime(out.date)
    return out.sort_values(["pair_id", "date", "source"], kind="stable").reset_index(drop=True)
