"""A small hand-built pilot seen by the program lead mid-cohort (shared by the lead tests).

Cohort C1 ended months ago (pairs B1, B2: history). Cohort C2 started on Monday 2026-03-02
(12 weekly sessions, planned end 2026-05-22) and is reviewed on day 51, 2026-04-22, past its
mid-point (day 40). Its pairs, each planted with one situation:

=====  ============================================================================
A1     on track: meets every week, safe, goal on track
A2     unsafe: the mentor's midpoint pulse scores 2 of 7 (day 40); a routine
       check-in on day 21 came before it, so the flag is open
A3     stalled: three sessions (days 0, 7, 14) then none; the stall (raised day 29)
       was addressed by a check-in on day 31, but the pair still did not meet, so it
       is stalled again from day 46 (past mid-pilot: reshuffle)
A4     goal off track at the week-6 check (day 42), addressed by a check-in (day 44)
A5     paused by the lead on day 45 (no flag)
A6     conflict of interest: the mentee (TL) manages the mentor (M6)
A7     started on day 42 after a reshuffle: too early to tell
A8     withdrawn on day 20 (ended, no action)
=====  ============================================================================

Each cohort has a waitlist (control) of two juniors.
"""

from __future__ import annotations

import pandas as pd

from rm_analytics import Pilot

ITEMS = ["ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7"]
REV = {"ps1", "ps3", "ps5"}
C1_START = pd.Timestamp("2025-09-01")
C1_END = pd.Timestamp("2025-11-21")
C2_START = pd.Timestamp("2026-03-02")
C2_END = pd.Timestamp("2026-05-22")
AS_OF = C2_START + pd.Timedelta(days=51)  # 2026-04-22


def day(n: int, start: pd.Timestamp = C2_START) -> pd.Timestamp:
    return start + pd.Timedelta(days=n)


def answers(score: float) -> dict[str, float]:
    """Raw answers of a member whose every (reverse-scored) item is ``score``."""
    return {it: (8 - score if it in REV else score) for it in ITEMS}


NAMES = {
    "M1": "Ada Mentor",
    "M2": "Ben Mentor",
    "M3": "Cy Mentor",
    "M4": "Di Mentor",
    "M5": "Ed Mentor",
    "M6": "Flo Mentor",
    "M7": "Gus Mentor",
    "M8": "Hal Mentor",
    "M9": "Ivy Mentor",
    "M10": "Jo Mentor",
    "S1": "Kim Senior",
    "S2": "Lou Senior",
    "S3": "Max Senior",
    "S4": "Ned Senior",
    "S5": "Oz Senior",
    "S7": "Pat Senior",
    "S8": "Quinn Senior",
    "S9": "Rae Senior",
    "S10": "Sam Senior",
}


def employees(names: bool = True) -> pd.DataFrame:
    rows = [("TH", "Technology", "L7", None), ("TL", "Technology", "L4", "TH")]
    rows += [("FH", "Finance", "L7", None)]
    rows += [(f"M{i}", "Technology", "L1", "TL") for i in range(1, 11)]
    rows += [(f"W{i}", "Technology", "L1", "TL") for i in range(1, 5)]  # the waitlist
    rows += [(f"S{i}", "Finance", "L6", "FH") for i in (1, 2, 3, 4, 5, 7, 8, 9, 10)]
    df = pd.DataFrame(rows, columns=["employee_id", "department", "level", "manager_id"])
    df["hire_date"] = pd.Timestamp("2020-01-01")
    df["termination_date"] = pd.NaT
    df["termination_type"] = None
    if names:
        df["name"] = df.employee_id.map(NAMES)
    return df


# pair -> (cohort, mentor, mentee, status, start day, end day or None, session days)
PAIRS = {
    "B1": ("C1", "M9", "S9", "completed", 0, 81, list(range(0, 78, 7))),
    "B2": ("C1", "M10", "S10", "completed", 0, 81, list(range(0, 78, 7))),
    "A1": ("C2", "M1", "S1", "active", 0, None, list(range(0, 51, 7))),
    "A2": ("C2", "M2", "S2", "active", 0, None, list(range(0, 51, 7))),
    "A3": ("C2", "M3", "S3", "active", 0, None, [0, 7, 14]),
    "A4": ("C2", "M4", "S4", "active", 0, None, list(range(0, 51, 7))),
    "A5": ("C2", "M5", "S5", "active", 0, None, list(range(0, 43, 7))),
    "A6": ("C2", "M6", "TL", "active", 0, None, list(range(0, 51, 7))),
    "A7": ("C2", "M7", "S7", "active", 42, None, [42, 49]),
    "A8": ("C2", "M8", "S8", "withdrawn", 0, 20, [0, 7, 14]),
}

INTERVENTIONS = [
    ("A2", 21, "check_in", "Routine three-week call; both positive"),
    ("A3", 31, "check_in", "Called both; agreed to restart next week"),
    ("A4", 44, "check_in", "Agreed a smaller first milestone"),
    ("A5", 45, "pause", "Mentee on leave for three weeks"),
]


def frames(*, names: bool = True, interventions: bool = True) -> dict[str, pd.DataFrame]:
    cohorts = pd.DataFrame(
        {
            "cohort_id": ["C1", "C2"],
            "start_date": [C1_START, C2_START],
            "end_date": [C1_END, C2_END],
            "cadence_days": [7, 7],
            "planned_sessions": [12, 12],
        }
    )
    prow, srow, vrow, crow = [], [], [], []
    for pid, (cid, m, s, status, start, end, sess) in PAIRS.items():
        base = C1_START if cid == "C1" else C2_START
        prow.append(
            (
                pid,
                cid,
                m,
                s,
                status,
                day(start, base),
                day(end, base) if end is not None else pd.NaT,
            )
        )
        srow += [(pid, day(d, base), 60.0, "held") for d in sess]
        stop = end if end is not None else 51
        for wave, wday in (("baseline", 3), ("midpoint", 40)):
            if not (start <= wday <= stop):
                continue
            for who in (m, s):
                score = 2.0 if (pid == "A2" and who == m and wave == "midpoint") else 6.0
                for item, v in answers(score).items():
                    vrow.append((who, "psych_safety", wave, day(wday, base), item, v, None, pid))
        if start <= 42 <= stop:
            crow.append((pid, "week6", 2 if pid in ("A4", "B1") else 4, None, day(42, base)))
        if pid == "A2":
            vrow.append(
                (m, "feedback", "midpoint", day(41), "worked", None, "PRIVATE COMMENT A2", pid)
            )
    pairs = pd.DataFrame(
        prow,
        columns=[
            "pair_id",
            "cohort_id",
            "mentor_id",
            "mentee_id",
            "status",
            "start_date",
            "end_date",
        ],
    )
    out = {
        "employees": employees(names),
        "cohorts": cohorts,
        "pairs": pairs,
        "sessions": pd.DataFrame(srow, columns=["pair_id", "date", "duration_minutes", "status"]),
        "surveys": pd.DataFrame(
            vrow,
            columns=[
                "respondent_id",
                "survey",
                "wave",
                "response_date",
                "item",
                "value",
                "text",
                "pair_id",
            ],
        ),
        "checkpoints": pd.DataFrame(
            crow, columns=["pair_id", "checkpoint", "progress", "goal_met", "date"]
        ),
        "control": pd.DataFrame(
            {"employee_id": ["W1", "W2", "W3", "W4"], "cohort_id": ["C1", "C1", "C2", "C2"]}
        ),
    }
    if interventions:
        out["interventions"] = pd.DataFrame(
            [(p, day(d), a, n) for p, d, a, n in INTERVENTIONS],
            columns=["pair_id", "date", "action", "note"],
        )
    return out


def pilot(**kw) -> Pilot:
    return Pilot.from_frames(today=AS_OF, **frames(**kw))
