"""The data "as they stood" on a date, built with plain pandas on the CSV files.

An independent implementation of the rules of :meth:`rm_analytics.Pilot.as_of`, to test the
time machine against: rows dated after the day are dropped, later exits have not happened,
later cohorts have not started, pairs that ended later were running.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def truncate_files(src: Path, dst: Path, day: str) -> Path:
    """Write the tables of ``src`` as they stood on ``day`` (ISO date) into ``dst``."""
    src, dst = Path(src), Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    have = {p.name[: -len(".csv")] for p in src.glob("*.csv")}

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(src / f"{name}.csv", dtype=str, keep_default_na=False)

    out: dict[str, pd.DataFrame] = {}
    e = read("employees")
    e = e[e.hire_date <= day].copy()
    left_later = (e.termination_date != "") & (e.termination_date > day)
    e.loc[left_later, ["termination_date", "termination_type"]] = ""
    ids = set(e.employee_id)
    e.loc[(e.manager_id != "") & ~e.manager_id.isin(ids), "manager_id"] = ""
    out["employees"] = e
    c = read("cohorts")
    c = c[c.start_date <= day]
    out["cohorts"] = c
    p = read("pairs")
    p = p[
        p.cohort_id.isin(c.cohort_id)
        & (p.start_date <= day)
        & p.mentor_id.isin(ids)
        & p.mentee_id.isin(ids)
    ].copy()
    ended_later = (p.end_date != "") & (p.end_date > day) & (p.status != "active")
    p.loc[ended_later, "end_date"] = ""
    p.loc[ended_later, "status"] = "active"
    out["pairs"] = p
    pairs = set(p.pair_id)
    if "control" in have:
        k = read("control")
        out["control"] = k[k.cohort_id.isin(c.cohort_id) & k.employee_id.isin(ids)]
    if "sessions" in have:
        s = read("sessions")
        out["sessions"] = s[(s.date <= day) & s.pair_id.isin(pairs)]
    if "surveys" in have:
        s = read("surveys")
        pair_ok = (s.pair_id == "") | s.pair_id.isin(pairs)
        out["surveys"] = s[(s.response_date <= day) & s.respondent_id.isin(ids) & pair_ok]
    if "skills" in have:
        s = read("skills")
        out["skills"] = s[s.date <= day]
    if "checkpoints" in have:
        s = read("checkpoints")
        out["checkpoints"] = s[(s.date <= day) & s.pair_id.isin(pairs)]
    if "outcomes" in have:
        s = read("outcomes")
        person_ok = (s.employee_id == "") | s.employee_id.isin(ids)
        pair_ok = (s.pair_id == "") | s.pair_id.isin(pairs)
        out["outcomes"] = s[(s.date <= day) & person_ok & pair_ok]
    if "interventions" in have:
        s = read("interventions")
        out["interventions"] = s[(s.date <= day) & s.pair_id.isin(pairs)]
    if "costs" in have:
        s = read("costs")
        out["costs"] = s[(s.date == "") | (s.date <= day)] if "date" in s else s
    for name, df in out.items():
        df.to_csv(dst / f"{name}.csv", index=False)
    return dst
