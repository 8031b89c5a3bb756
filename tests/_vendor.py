"""Vendor-style exports made from a native pilot folder (for the mapping and SQL tests).

A Workday-style roster (vendor headers, US dates, termination reason codes, word grades), a
Qualtrics-style wide engagement export (one row per respondent and wave, one column per item,
Likert labels, date-times) and the other survey instruments in the contract's long layout.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

LEVELS = {
    "L1": "Associate",
    "L2": "Analyst",
    "L3": "Senior Analyst",
    "L4": "Manager",
    "L5": "Senior Manager",
    "L6": "Director",
    "L7": "Vice President",
}
#: the five grades of the issue's example (several native grades share a word)
LEVELS_5 = {
    "L1": "Associate",
    "L2": "Analyst",
    "L3": "Manager",
    "L4": "Director",
    "L5": "Director",
    "L6": "Vice President",
    "L7": "Vice President",
}
REASONS = {
    "voluntary": ("Resignation", "Job Abandonment"),
    "involuntary": ("Dismissal", "Layoff"),
    "other": ("Retirement", "End of Contract"),
}
LIKERT = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
}
WORKDAY_COLUMNS = {
    "employee_id": "Employee ID",
    "hire_date": "Hire Date",
    "termination_date": "Termination Date",
    "termination_type": "Termination Reason",
    "department": "Supervisory Organization",
    "level": "Job Level",
    "manager_id": "Manager ID",
}
ITEMS = {"eng1": "Q1_1", "eng2": "Q1_2", "eng3": "Q1_3", "eng4": "Q1_4", "eng5": "Q1_5"}


def read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(Path(folder) / f"{table}.csv", dtype=str, keep_default_na=False)


def us_date(s: pd.Series) -> pd.Series:
    ok = s != ""
    out = s.copy()
    out[ok] = pd.to_datetime(s[ok]).dt.strftime("%m/%d/%Y")
    return out


def workday_roster(native: Path, out: Path, levels: dict = LEVELS) -> Path:
    e = read(native, "employees")
    e["hire_date"] = us_date(e.hire_date)
    e["termination_date"] = us_date(e.termination_date)
    codes = [REASONS[t][i % 2] if t else "" for i, t in enumerate(e.termination_type.tolist())]
    e["termination_type"] = codes
    e["level"] = e.level.map(levels)
    e = e.rename(columns=WORKDAY_COLUMNS)
    target = Path(out) / "Workday_Worker_Export.csv"
    e.to_csv(target, index=False)
    return target


def wide_engagement(native: Path, out: Path, name: str = "engagement_pulse.csv") -> Path:
    s = read(native, "surveys")
    eng = s[s.survey == "engagement"]
    wide = eng.pivot(
        index=["respondent_id", "wave", "response_date"], columns="item", values="value"
    ).reset_index()
    n = len(wide)
    end = pd.to_datetime(wide.response_date) + pd.to_timedelta(
        [(i * 37) % 86_000 for i in range(n)], unit="s"
    )
    table = pd.DataFrame(
        {
            "StartDate": (end - pd.Timedelta(minutes=4)).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "EndDate": end.dt.strftime("%Y-%m-%d %H:%M:%S"),
            "Progress": "100",
            "ResponseId": [f"R_{i:06d}" for i in range(n)],
            "ExternalReference": wide.respondent_id,
            "Wave": wide.wave,
            "Pair": "",
        }
    )
    for item, header in ITEMS.items():
        table[header] = wide[item].map(lambda v: LIKERT[int(float(v))] if v else "")
    target = Path(out) / name
    table.to_csv(target, index=False)
    return target


def other_surveys(native: Path, out: Path) -> Path:
    s = read(native, "surveys")
    target = Path(out) / "surveys_other.csv"
    s[s.survey != "engagement"].to_csv(target, index=False)
    return target


def native_tables(native: Path, out: Path, tables) -> None:
    for t in tables:
        read(native, t).to_csv(Path(out) / f"{t}.csv", index=False)
