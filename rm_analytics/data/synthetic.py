"""Synthetic reverse-mentoring pilots with known truth.

:func:`generate` simulates an organisation (hiring over years, voluntary, involuntary and other
exits, promotions, levels, departments, reporting lines), runs cohorts of reverse-mentoring
pairs through it, and records session logs, survey waves, pre/post skills, milestone checks and
outcomes. The effects of the program are parameters, so analyses can be checked against the
truth they should recover. Everything is vectorised: the same code writes the committed sample
(about 1,500 employees) and a 100,000-employee organisation.

The data-generating model
-------------------------
* Exits are competing exponential risks from the later of hire and the start of the history
  window. Annual voluntary hazard by entry grade ``L1..L7`` is
  ``VOLUNTARY_BY_LEVEL`` times ``exp(-0.35 (performance - 3))``; involuntary hazard is
  ``0.03 exp(0.5 (3 - performance))``; other exits 0.01.
* Juniors (``L1``-``L2`` at the cohort start, at least 180 days' tenure) apply to be mentors
  with a probability rising with performance and falling with tenure, so a naive
  participants-vs-everyone comparison is biased and a matched or designated control is needed.
  Mentors are drawn from the applicants; a designated waitlist control is drawn from the other
  applicants (randomised, so it is a fair comparison). Mentees are senior leaders (``L5``+) of
  another department.
* From the cohort start, a mentor's voluntary-exit hazard is multiplied by ``hazard_ratio`` (a
  cause-specific hazard ratio; memoryless, so the residual time is redrawn) and a mentee's by
  ``mentee_hazard_ratio``; participants' promotion rate by ``promotion_hazard_ratio``.
* Engagement items (1-5) are a rounded latent person level plus a common wave trend plus item
  noise; participants' latent level rises by ``engagement_shift`` in waves at least six weeks
  after their cohort start. Because rounding and the 1-5 bounds bend a latent shift, the truth
  also records the shift on the index scale (the mean of the items) for the treated answers,
  computed from the same noise with and without the shift.
* Skills (1-10, self-rated) gain ``retest_gain`` for everyone assessed twice plus
  ``skill_gain`` (mentees' digital skills) or ``mentor_skill_gain`` (mentors' leadership
  skills); the waitlist control is assessed on the leadership skills too.
* Psychological-safety pulses (Edmondson's 7 items, 7-point, ps1/ps3/ps5 negatively worded)
  at baseline, midpoint and endpoint; in ``unsafe_pairs`` the mentor's safety drops by about
  three points from the midpoint. ``stalled_pairs`` stop meeting after three sessions.
  ``conflict_pairs`` pair a mentor with a senior leader in their own reporting line.
* Between-cohort heterogeneity (for syntheses across cohorts): with ``effect_sd > 0`` each
  cohort's true mentor hazard ratio is ``hazard_ratio * exp(effect_sd * z_c)``, with
  ``engagement_effect_sd`` its engagement shift is ``engagement_shift +
  engagement_effect_sd * z'_c`` and with ``skill_effect_sd`` its skill gains move by
  ``skill_effect_sd * z''_c`` (``z`` standard normal per cohort, from a random stream of their
  own, so the rest of the data does not change). The cohorts' true values are in the truth
  (``cohort_effects``). At 0 (the default) these knobs are left out of ``PARAMETERS.json``.
* The last ``running_cohorts`` cohorts are still running at ``as_of``: they started
  ``running_weeks`` weeks before it (their pairs are active, without end dates, and their
  later sessions, pulses and checks have not happened yet). The planted unsafe, stalled and
  conflict pairs are drawn from the running cohorts first, where a program lead can still act.
* The program lead's intervention log (``interventions``): a routine check-in with each
  unsafe pair three weeks in, a check-in with each stalled pair two days after it crossed the
  stall threshold (two weeks without a held session), a check-in three days after each other
  week-6 check with progress 2 of 5 or less, and a close on the end date of each withdrawn
  pair. Employees get display names (``name``). Names and the log come from their own random
  streams, so they leave every other table as it was.

:data:`SAMPLE` holds the parameters of the committed sample that differ from the defaults.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DEPARTMENTS = (
    ("Technology", 0.20),
    ("Operations", 0.18),
    ("Sales", 0.16),
    ("Customer Service", 0.14),
    ("Finance", 0.10),
    ("Marketing", 0.09),
    ("Human Resources", 0.07),
    ("Legal", 0.06),
)
LOCATIONS = (("Head office", 0.45), ("North", 0.2), ("South", 0.2), ("Remote", 0.15))
LEVEL_WEIGHTS_STOCK = np.array([0.28, 0.26, 0.18, 0.12, 0.08, 0.05, 0.03])
LEVEL_WEIGHTS_HIRES = np.array([0.50, 0.26, 0.12, 0.06, 0.035, 0.018, 0.007])
VOLUNTARY_BY_LEVEL = np.array([0.20, 0.16, 0.12, 0.10, 0.08, 0.07, 0.06])
SALARY_BY_LEVEL = np.array([38_000, 48_000, 62_000, 80_000, 105_000, 140_000, 190_000])
PROMOTION_RATE = 0.10
INVOLUNTARY_RATE = 0.03
OTHER_EXIT_RATE = 0.01
PERF_P = np.array([0.05, 0.15, 0.45, 0.25, 0.10])

MENTEE_SKILLS = ("social_media", "data_literacy", "generative_ai")
MENTOR_SKILLS = ("executive_communication", "strategic_thinking")
ENGAGEMENT_ITEMS = ("eng1", "eng2", "eng3", "eng4", "eng5")
PS_ITEMS = ("ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7")
PS_REVERSED = ("ps1", "ps3", "ps5")

GOALS = (
    "Publish four short-form videos on the leadership channel by week 10",
    "Run a customer-feedback session using the new social listening tool by week 8",
    "Draft a generative-AI usage guideline for the department by the end of the cohort",
    "Set up a personal data dashboard and use it in two team meetings",
    "Host a town-hall segment on Gen Z career expectations",
    "Redesign the team's onboarding deck with current collaboration tools",
    "Pilot an inclusive-hiring checklist in one recruitment round",
    "Post weekly on the internal network for six weeks",
)
WORKED = (
    "Honest conversations about how decisions land with junior staff",
    "Hands-on practice with the tools between sessions",
    "Having one clear goal kept us focused",
    "The weekly rhythm made it a habit",
    "Feeling listened to by a senior leader",
    "Trying things live in the session rather than talking about them",
)
IMPROVE = (
    "More protected time in the calendar",
    "Clearer guidance at kickoff on what to cover",
    "Shorter sessions more often",
    "A mid-point check-in with the program lead",
    "Sessions were cancelled too often",
    "Examples from other pairs would help",
)
ROADBLOCKS = (
    "Calendar conflicts",
    "Travel during weeks 3-5",
    "Unclear scope of the goal",
    "Tool access took two weeks",
)
#: Parameters of the committed sample (``make sample``) that differ from the defaults: two
#: completed cohorts of 12 pairs with a waitlist control, and a third still running.
SAMPLE = {"n_cohorts": 3, "running_cohorts": 1}

#: Seed of the committed sample (``make sample``) and the generator's default.
SAMPLE_SEED = 20250113

FIRST_NAMES = (
    "Aisha",
    "Alex",
    "Amara",
    "Ana",
    "Ben",
    "Bilal",
    "Carla",
    "Chen",
    "Chloe",
    "Daniel",
    "Dario",
    "Eitan",
    "Elena",
    "Emma",
    "Femi",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Ivan",
    "Jamal",
    "Jana",
    "Jonas",
    "Julia",
    "Kai",
    "Kenji",
    "Lars",
    "Leila",
    "Liam",
    "Lucia",
    "Maya",
    "Mateo",
    "Mei",
    "Nadia",
    "Nikhil",
    "Noah",
    "Olga",
    "Omar",
    "Priya",
    "Rafael",
    "Rosa",
    "Sami",
    "Sara",
    "Sofia",
    "Tariq",
    "Tom",
    "Uma",
    "Victor",
    "Wen",
    "Yara",
)
LAST_NAMES = (
    "Abara",
    "Alvarez",
    "Andersen",
    "Bauer",
    "Becker",
    "Bianchi",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Hansen",
    "Ito",
    "Jansen",
    "Kaur",
    "Khan",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lopez",
    "Mensah",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Novak",
    "Okafor",
    "Olsen",
    "Patel",
    "Pereira",
    "Petrov",
    "Quinn",
    "Rossi",
    "Sato",
    "Schmidt",
    "Silva",
    "Singh",
    "Smith",
    "Tanaka",
    "Torres",
    "Novotny",
    "Varga",
    "Wagner",
    "Walsh",
    "Wang",
    "Weber",
    "Yilmaz",
    "Young",
    "Zhang",
    "Zimmer",
)
INTERVENTION_NOTES = {
    "routine": (
        "Three-week check-in with both: sessions are happening, no concerns raised",
        "Routine call with both at week three; both positive",
    ),
    "stalled": (
        "Called both: calendars clashed; agreed to restart next week",
        "Spoke to both: they will book the next session this week",
    ),
    "goal": (
        "Agreed a smaller first milestone for the goal",
        "Helped the pair narrow the goal to one deliverable",
    ),
    "close": ("A member left the organisation; pair closed",),
}

WINS = (
    "First post published",
    "Dashboard used in a leadership meeting",
    "Team adopted the checklist",
    "Positive feedback from the team",
)


@dataclass
class SyntheticParams:
    """Parameters of :func:`generate` (every field is also a keyword argument)."""

    n_employees: int = 1500
    n_cohorts: int = 2
    running_cohorts: int = 0
    running_weeks: int = 8
    pairs_per_cohort: int = 12
    seed: int = SAMPLE_SEED
    as_of: str = "2026-09-30"
    years: float = 5.0
    cohort_weeks: int = 12
    cadence_days: int = 7
    hazard_ratio: float = 0.6
    mentee_hazard_ratio: float = 1.0
    promotion_hazard_ratio: float = 1.3
    engagement_shift: float = 0.3
    skill_gain: float = 1.5
    mentor_skill_gain: float = 1.0
    retest_gain: float = 0.3
    unsafe_pairs: int = 1
    stalled_pairs: int = 1
    conflict_pairs: int = 1
    control_per_pair: float = 2.0
    engagement_waves: int = 6
    response_rate: float = 0.8
    session_held_rate: float = 0.82
    effect_sd: float = 0.0
    engagement_effect_sd: float = 0.0
    skill_effect_sd: float = 0.0


#: Knobs left out of ``PARAMETERS.json`` at their default 0 (samples written before they
#: existed stay byte-identical).
HETEROGENEITY = ("effect_sd", "engagement_effect_sd", "skill_effect_sd")


@dataclass
class SyntheticData:
    """Tables in the contract's layout plus the truth that generated them."""

    tables: dict[str, pd.DataFrame]
    params: SyntheticParams
    truth: dict = field(default_factory=dict)

    def to_pilot(self):
        """Validate the tables into a :class:`~rm_analytics.Pilot`."""
        from .pilot import Pilot

        return Pilot.from_frames(today=self.params.as_of, **self.tables)

    def write(self, path: str | os.PathLike, *, format: str = "csv") -> list[str]:
        """Write the tables plus ``PARAMETERS.json`` and a README describing them."""
        from .readers import write_tables

        out = Path(path)
        files = write_tables(self.tables, out, format=format)
        params = {
            k: v for k, v in asdict(self.params).items() if not (k in HETEROGENEITY and v == 0)
        }
        meta = {
            "generator": "rm_analytics.synthetic.generate",
            "params": params,
            "truth": self.truth,
        }
        (out / "PARAMETERS.json").write_text(
            json.dumps(meta, indent=2, default=_json_default) + "\n", encoding="utf-8"
        )
        (out / "README.md").write_text(_readme(self), encoding="utf-8")
        return [*files, str(out / "PARAMETERS.json"), str(out / "README.md")]


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (pd.Timestamp,)):
        return o.strftime("%Y-%m-%d")
    raise TypeError(type(o))


def _readme(data: SyntheticData) -> str:
    p = data.params
    t = data.truth
    counts = "\n".join(f"| {n} | {len(f):,} |" for n, f in data.tables.items())
    running = ""
    if p.running_cohorts:
        live = ", ".join(t.get("running_cohorts", []))
        running = f"""
Still running at the snapshot date: cohort(s) {live}, started {p.running_weeks} weeks before it
(the program lead's view has live pairs; the planted pairs above are drawn from them first).
`interventions` is the lead's log: {len(data.tables.get("interventions", []))} check-ins and closes
(see `rm_analytics.synthetic`); employees carry display names (`name`). Program lead's view:
`rm-analytics report --data data/sample --out reports --audience program-lead`.
"""
    return f"""# Synthetic pilot data

Generated by `rm_analytics.synthetic.generate` (command: `rm-analytics sample --out DIR --seed {p.seed}
--employees {p.n_employees} --cohorts {p.n_cohorts} --running {p.running_cohorts} --pairs {p.pairs_per_cohort}`). Every person,
pair and answer is simulated; nothing here describes real people. The full parameters and the truth
are in `PARAMETERS.json`.

| table | rows |
| --- | --- |
{counts}

Effects built in (the truth an analysis should recover):

- mentors' voluntary-exit hazard ratio from the cohort start: {p.hazard_ratio}
  (mentees: {p.mentee_hazard_ratio}); promotion-rate ratio for participants: {p.promotion_hazard_ratio};
- engagement: latent shift {p.engagement_shift} for participants; on the 1-5 index scale the realised
  shift among treated answers is {t.get("engagement_index_shift", float("nan")):.3f};
- skills (1-10): retest gain {p.retest_gain} for everyone; program gain {p.skill_gain} (mentees' digital
  skills) and {p.mentor_skill_gain} (mentors' leadership skills);
- {p.unsafe_pairs} pair(s) with a psychological-safety drop, {p.stalled_pairs} stalled pair(s),
  {len(t.get("conflict_pairs", []))} pair(s) in a reporting line;
- a designated waitlist control of {p.control_per_pair:g} per pair, drawn at random from applicants.
{_heterogeneity_lines(data)}{running}
Snapshot (as-of) date: {p.as_of}.
"""


def _heterogeneity_lines(data: SyntheticData) -> str:
    p = data.params
    if not any(getattr(p, k) for k in HETEROGENEITY):
        return ""
    rows = "\n".join(
        f"| {c} | {e['hazard_ratio']:.3f} | {e['engagement_shift']:.3f} | "
        f"{e['skill_gain_mentors']:.3f} |"
        for c, e in data.truth["cohort_effects"].items()
    )
    return f"""
Between-cohort heterogeneity of the true effects: SD {p.effect_sd:g} of the log hazard ratio,
{p.engagement_effect_sd:g} of the engagement shift, {p.skill_effect_sd:g} of the skill gains.

| cohort | true hazard ratio (mentors) | engagement shift (latent) | mentors' skill gain |
| --- | --- | --- | --- |
{rows}
"""


# ---------------------------------------------------------------------------------------------


def _days(ts: str | pd.Timestamp) -> int:
    return int(pd.Timestamp(ts).normalize().value // 86_400_000_000_000)


def _to_dates(days: np.ndarray) -> pd.Series:
    arr = np.asarray(days, dtype=float)
    out = np.full(arr.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = np.isfinite(arr)
    out[ok] = arr[ok].astype("int64").astype("datetime64[D]").astype("datetime64[ns]")
    return pd.Series(out)


def _pick(rng: np.random.Generator, items, weights, n):
    w = np.asarray([x[1] for x in items] if weights is None else weights, dtype=float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def generate(params: SyntheticParams | None = None, **overrides) -> SyntheticData:
    """Simulate an organisation running a reverse-mentoring pilot.

    Parameters
    ----------
    params, **overrides
        A :class:`SyntheticParams` and/or its fields as keywords, e.g.
        ``generate(n_employees=100_000, n_cohorts=40, pairs_per_cohort=25, seed=1)``.

    Returns
    -------
    SyntheticData
        ``tables`` in the data contract's layout, ``params`` and ``truth``.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> data = rm.generate_sample(n_employees=400, n_cohorts=2, pairs_per_cohort=6, seed=7)
    >>> {name: len(table) for name, table in data.tables.items()}
    {'employees': 400, 'cohorts': 2, 'pairs': 12, 'control': 24, 'sessions': 122, 'surveys': 6815,
    'skills': 203, 'checkpoints': 21, 'outcomes': 81, 'interventions': 5}
    >>> data.params.hazard_ratio
    0.6
    >>> data.to_pilot()
    Pilot(employees=400, cohorts=2, pairs=12, control=24, sessions=122, surveys=6815, skills=203,
    checkpoints=21, outcomes=81, interventions=5)

    ``truth`` holds what the analyses should recover, e.g. the engagement shift realised on
    the index scale:

    >>> round(data.truth["engagement_index_shift"], 3)
    0.277
    """
    p = params or SyntheticParams()
    if overrides:
        p = SyntheticParams(**{**asdict(p), **overrides})
    _check_params(p)
    rng = np.random.default_rng(p.seed)
    g = _Org(p, rng)
    g.people()
    g.exits_and_promotions()
    g.cohorts_and_pairs()
    tables = {
        "employees": g.employees_table(),
        "cohorts": g.cohorts_table(),
        "pairs": g.pairs_table(),
    }
    if p.control_per_pair > 0:
        tables["control"] = g.control_table()
    tables["sessions"] = g.sessions_table()
    tables["surveys"] = g.surveys_table()
    tables["skills"] = g.skills_table()
    tables["checkpoints"] = g.checkpoints_table()
    tables["outcomes"] = g.outcomes_table()
    interventions = g.interventions_table(tables["sessions"])
    if len(interventions):
        tables["interventions"] = interventions
    return SyntheticData(tables=tables, params=p, truth=g.truth)


def _check_params(p: SyntheticParams) -> None:
    if p.n_employees < 200:
        raise ValueError("n_employees must be at least 200 for a realistic organisation")
    if p.n_cohorts < 1 or p.pairs_per_cohort < 1:
        raise ValueError("n_cohorts and pairs_per_cohort must be at least 1")
    for name in ("hazard_ratio", "mentee_hazard_ratio", "promotion_hazard_ratio"):
        if getattr(p, name) <= 0:
            raise ValueError(f"{name} must be positive")
    if p.unsafe_pairs + p.stalled_pairs + p.conflict_pairs > p.n_cohorts * p.pairs_per_cohort:
        raise ValueError("more special pairs than pairs")
    if not 0 < p.response_rate <= 1:
        raise ValueError("response_rate must be in (0, 1]")
    if not 0 <= p.running_cohorts <= p.n_cohorts:
        raise ValueError("running_cohorts must be between 0 and n_cohorts")
    if p.running_cohorts and not 1 <= p.running_weeks < p.cohort_weeks:
        raise ValueError("running_weeks must be at least 1 and less than cohort_weeks")
    for name in HETEROGENEITY:
        if not getattr(p, name) >= 0:
            raise ValueError(f"{name} must be >= 0")


class _Org:
    """State of one simulation (arrays indexed by person)."""

    def __init__(self, p: SyntheticParams, rng: np.random.Generator) -> None:
        self.p = p
        self.rng = rng
        self.as_of = _days(p.as_of)
        self.window = self.as_of - int(round(p.years * 365.25))
        self.truth: dict = {
            "as_of": p.as_of,
            "hazard_ratio_voluntary_mentors": p.hazard_ratio,
            "hazard_ratio_voluntary_mentees": p.mentee_hazard_ratio,
            "promotion_hazard_ratio": p.promotion_hazard_ratio,
            "engagement_shift_latent": p.engagement_shift,
            "skill_gain_mentees": p.skill_gain,
            "skill_gain_mentors": p.mentor_skill_gain,
            "retest_gain": p.retest_gain,
        }

    # -- people ----------------------------------------------------------------------------
    def people(self) -> None:
        p, rng = self.p, self.rng
        n = p.n_employees
        annual_exit = 0.16
        n_stock = int(round(n / (1 + annual_exit * p.years)))
        stock = np.arange(n) < n_stock
        hire = np.where(
            stock,
            self.window - rng.integers(0, 12 * 365, n),
            rng.integers(self.window, self.as_of - 30, n),
        )
        level0 = np.where(
            stock,
            rng.choice(7, n, p=LEVEL_WEIGHTS_STOCK),
            rng.choice(7, n, p=LEVEL_WEIGHTS_HIRES),
        )  # 0-based grade at entry
        self.n = n
        self.hire = hire
        self.entry = np.maximum(hire, self.window)
        self.level0 = level0
        self.dept = _pick(rng, DEPARTMENTS, None, n)
        self.loc = _pick(rng, LOCATIONS, None, n)
        self.perf = rng.choice(5, n, p=PERF_P) + 1
        age_at_hire = np.clip(22 + 3.5 * level0 + rng.normal(0, 3, n), 18, 64)
        hire_year = (hire / 365.25 + 1970).astype(int)
        self.birth_year = (hire_year - age_at_hire).astype(int)
        dept_factor = np.array([1.1, 0.95, 1.0, 0.85, 1.05, 1.0, 0.95, 1.15])
        self.salary = np.round(
            SALARY_BY_LEVEL[level0] * dept_factor[self.dept] * np.exp(rng.normal(0, 0.12, n)), -2
        )
        self.ids = np.array([f"E{i:06d}" for i in range(1, n + 1)], dtype=object)

    def _rates(
        self, idx: np.ndarray | slice = slice(None)
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        perf = self.perf[idx]
        vol = VOLUNTARY_BY_LEVEL[self.level0[idx]] * np.exp(-0.35 * (perf - 3))
        invol = INVOLUNTARY_RATE * np.exp(0.5 * (3 - perf))
        other = np.full(len(vol), OTHER_EXIT_RATE)
        return vol / 365.25, invol / 365.25, other / 365.25

    def _draw_exit(self, start: np.ndarray, vol, invol, other) -> tuple[np.ndarray, np.ndarray]:
        total = vol + invol + other
        t = start + self.rng.exponential(1 / total)
        u = self.rng.random(len(total)) * total
        cause = np.where(u < vol, 0, np.where(u < vol + invol, 1, 2))
        return t, cause

    def exits_and_promotions(self) -> None:
        vol, invol, other = self._rates()
        self.exit, self.cause = self._draw_exit(self.entry.astype(float), vol, invol, other)
        self.promotions = self._draw_promotions(
            np.arange(self.n),
            self.entry.astype(float),
            np.minimum(self.exit, self.as_of),
            PROMOTION_RATE,
        )

    def _draw_promotions(
        self, who: np.ndarray, start: np.ndarray, stop: np.ndarray, rate: float
    ) -> pd.DataFrame:
        span = np.clip(stop - start, 0, None) / 365.25
        k = self.rng.poisson(rate * span)
        person = np.repeat(who, k)
        day = np.repeat(start, k) + self.rng.random(k.sum()) * np.repeat(stop - start, k)
        return pd.DataFrame({"person": person, "day": np.floor(day)})

    def level_at(self, day: float | np.ndarray) -> np.ndarray:
        """0-based grade of everyone on ``day`` (entry grade plus promotions so far, max 6)."""
        pr = self.promotions
        day_per = np.broadcast_to(np.asarray(day, dtype=float), (self.n,))
        before = pr.day.to_numpy() <= day_per[pr.person.to_numpy()]
        counts = np.bincount(pr.person.to_numpy()[before], minlength=self.n)
        return np.minimum(self.level0 + counts, 6)

    # -- cohorts ----------------------------------------------------------------------------
    def cohorts_and_pairs(self) -> None:
        p, rng = self.p, self.rng
        k = p.n_cohorts
        length = p.cohort_weeks * 7
        done = k - p.running_cohorts  # cohorts that ended before as_of
        last = self.as_of - max(270, length + 60)
        first = last - (370 if done <= 3 else 900) if done > 1 else last
        starts = np.linspace(first, last, done).round().astype(int)
        live = np.full(p.running_cohorts, self.as_of - 7 * p.running_weeks)
        starts = np.concatenate([starts, live]).astype(int)
        starts -= (starts - 4) % 7  # 1970-01-05 was a Monday: snap to Mondays
        self.cohort_ids = np.array([f"C{i + 1:02d}" for i in range(k)], dtype=object)
        self._cohort_effects()
        if p.running_cohorts:
            self.truth["running_cohorts"] = self.cohort_ids[done:].tolist()
        self.cohort_start = starts
        self.cohort_end = starts + length - 3
        used = np.zeros(self.n, dtype=bool)
        pairs, controls = [], []
        for c in range(k):
            idx_day = starts[c]
            employed = (self.hire <= idx_day) & (self.exit > idx_day)
            level = self.level_at(idx_day)
            tenure = (idx_day - self.hire) / 365.25
            junior = employed & (level <= 1) & (tenure >= 0.5) & ~used
            senior = employed & (level >= 4) & ~used
            logit = (
                -2.0
                + 0.6 * (self.perf - 3)
                - 0.15 * np.clip(tenure, 0, 10)
                + 0.2 * (self.dept == 0)
            )
            applies = junior & (rng.random(self.n) < 1 / (1 + np.exp(-logit)))
            applicants = np.flatnonzero(applies)
            need = p.pairs_per_cohort + int(round(p.control_per_pair * p.pairs_per_cohort))
            if (
                len(applicants) < need
            ):  # top up with the most likely appliers among eligible juniors
                rest = np.flatnonzero(junior & ~applies)
                rest = rest[np.argsort(-logit[rest], kind="stable")][: need - len(applicants)]
                applicants = np.concatenate([applicants, rest])
            if len(applicants) < p.pairs_per_cohort:
                raise ValueError(f"too few eligible juniors for cohort {c + 1}; raise n_employees")
            chosen = rng.permutation(applicants)
            mentors = chosen[: p.pairs_per_cohort]
            ctrl = chosen[p.pairs_per_cohort : need]
            seniors = np.flatnonzero(senior)
            mentees = np.empty(len(mentors), dtype=int)
            taken: set[int] = set()
            for j, m in enumerate(mentors):  # at most a few dozen per cohort
                cand = seniors[(self.dept[seniors] != self.dept[m])]
                cand = np.array([s for s in cand if s not in taken]) if taken else cand
                if len(cand) == 0:
                    raise ValueError(
                        f"too few senior leaders for cohort {c + 1}; raise n_employees"
                    )
                mentees[j] = rng.choice(cand)
                taken.add(int(mentees[j]))
            used[mentors] = used[mentees] = used[ctrl] = True
            for j in range(len(mentors)):
                pairs.append((c, j, mentors[j], mentees[j]))
            controls += [(c, e) for e in ctrl]
        self.pair_cohort = np.array([x[0] for x in pairs])
        self.pair_num = np.array([x[1] for x in pairs])
        self.mentor = np.array([x[2] for x in pairs])
        self.mentee = np.array([x[3] for x in pairs])
        self.control = controls
        self.pair_ids = np.array(
            [
                f"{self.cohort_ids[c]}-P{j + 1:02d}"
                for c, j in zip(self.pair_cohort, self.pair_num, strict=True)
            ],
            dtype=object,
        )
        self._managers()
        self._special_pairs()
        self._treat()

    def _cohort_effects(self) -> None:
        """True effects per cohort; deviations from their own stream (the rest is unchanged)."""
        p = self.p
        z = np.random.default_rng([p.seed, 20250801]).standard_normal((3, p.n_cohorts))
        self.cohort_hr = p.hazard_ratio * np.exp(p.effect_sd * z[0])
        self.cohort_shift = p.engagement_shift + p.engagement_effect_sd * z[1]
        self.cohort_skill = p.skill_effect_sd * z[2]
        if any(getattr(p, k) for k in HETEROGENEITY):
            self.truth["effect_sd"] = {k: getattr(p, k) for k in HETEROGENEITY}
            self.truth["cohort_effects"] = {
                str(c): {
                    "hazard_ratio": float(self.cohort_hr[i]),
                    "log_hazard_ratio": float(np.log(self.cohort_hr[i])),
                    "engagement_shift": float(self.cohort_shift[i]),
                    "skill_gain_mentors": float(p.mentor_skill_gain + self.cohort_skill[i]),
                    "skill_gain_mentees": float(p.skill_gain + self.cohort_skill[i]),
                }
                for i, c in enumerate(self.cohort_ids)
            }

    def _managers(self) -> None:
        """Manager: someone one grade up (today's grades) in the same department."""
        rng = self.rng
        level = self.level_at(self.as_of)
        self.level_now = level
        mgr = np.full(self.n, -1)
        for d in range(len(DEPARTMENTS)):
            for lv in range(6):
                who = np.flatnonzero((self.dept == d) & (level == lv))
                if len(who) == 0:
                    continue
                for up in range(lv + 1, 7):
                    boss = np.flatnonzero((self.dept == d) & (level == up))
                    if len(boss):
                        mgr[who] = rng.choice(boss, len(who))
                        break
        self.manager = mgr

    def _chain(self, person: int) -> list[int]:
        out, seen = [], {person}
        m = self.manager[person]
        while m >= 0 and m not in seen:
            out.append(int(m))
            seen.add(m)
            m = self.manager[m]
        return out

    def _special_pairs(self) -> None:
        p, rng = self.p, self.rng
        order = rng.permutation(len(self.mentor))
        if p.running_cohorts:  # plant in the running cohorts first: the lead can still act
            live = self.pair_cohort[order] >= p.n_cohorts - p.running_cohorts
            order = np.concatenate([order[live], order[~live]])
        n_u, n_s, n_c = p.unsafe_pairs, p.stalled_pairs, p.conflict_pairs
        self.unsafe = np.zeros(len(order), dtype=bool)
        self.stalled = np.zeros(len(order), dtype=bool)
        self.unsafe[order[:n_u]] = True
        self.stalled[order[n_u : n_u + n_s]] = True
        conflict = []
        in_pairs = set(self.mentor.tolist()) | set(self.mentee.tolist())
        for j in order[n_u + n_s :]:
            if len(conflict) >= n_c:
                break
            c = self.pair_cohort[j]
            day = self.cohort_start[c]
            for boss in self._chain(self.mentor[j]):
                if (
                    self.level_at(day)[boss] >= 4
                    and self.hire[boss] <= day < self.exit[boss]
                    and boss not in in_pairs
                ):
                    in_pairs.discard(int(self.mentee[j]))
                    self.mentee[j] = boss
                    in_pairs.add(boss)
                    conflict.append(j)
                    break
        self.conflict = np.zeros(len(order), dtype=bool)
        self.conflict[conflict] = True
        self.truth["unsafe_pairs"] = sorted(self.pair_ids[self.unsafe].tolist())
        self.truth["stalled_pairs"] = sorted(self.pair_ids[self.stalled].tolist())
        self.truth["conflict_pairs"] = sorted(self.pair_ids[self.conflict].tolist())

    def _treat(self) -> None:
        """Redraw exits and promotions after the cohort start for participants."""
        p = self.p
        self.index_day = np.full(self.n, np.nan)
        self.role = np.full(self.n, "", dtype=object)
        for who, role in ((self.mentor, "mentor"), (self.mentee, "mentee")):
            self.index_day[who] = self.cohort_start[self.pair_cohort]
            self.role[who] = role
        for c, e in self.control:
            self.index_day[e] = self.cohort_start[c]
            self.role[e] = "control"
        mentor_hr = self.cohort_hr[self.pair_cohort]
        for who, hr in ((self.mentor, mentor_hr), (self.mentee, p.mentee_hazard_ratio)):
            start = self.index_day[who]
            vol, invol, other = self._rates(who)
            t, cause = self._draw_exit(start, vol * hr, invol, other)
            alive = self.exit[who] > start
            self.exit[who[alive]] = t[alive]
            self.cause[who[alive]] = cause[alive]
        part = np.concatenate([self.mentor, self.mentee])
        start = self.index_day[part]
        pr = self.promotions
        keep = ~(
            np.isin(pr.person, part) & (pr.day.to_numpy() > self.index_day[pr.person.to_numpy()])
        )
        new = self._draw_promotions(
            part,
            start,
            np.minimum(self.exit[part], self.as_of),
            PROMOTION_RATE * p.promotion_hazard_ratio,
        )
        self.promotions = pd.concat([pr[keep], new], ignore_index=True).sort_values(
            ["person", "day"], ignore_index=True
        )
        # exits after the snapshot are not known yet
        self.left = self.exit <= self.as_of

    # -- tables -------------------------------------------------------------------------------
    def employees_table(self) -> pd.DataFrame:
        level = self.level_at(self.as_of)
        term = np.where(self.left, np.floor(self.exit), np.nan)
        ttype = np.array(["voluntary", "involuntary", "other"], dtype=object)[self.cause]
        mgr = np.where(self.manager >= 0, self.ids[np.maximum(self.manager, 0)], None)
        return pd.DataFrame(
            {
                "employee_id": self.ids,
                "hire_date": _to_dates(self.hire),
                "termination_date": _to_dates(term),
                "termination_type": np.where(self.left, ttype, None),
                "department": np.array([d for d, _ in DEPARTMENTS], dtype=object)[self.dept],
                "level": np.array([f"L{i + 1}" for i in range(7)], dtype=object)[level],
                "manager_id": mgr,
                "birth_year": self.birth_year,
                "annual_salary": self.salary,
                "performance_rating": self.perf.astype(float),
                "location": np.array([x for x, _ in LOCATIONS], dtype=object)[self.loc],
                "name": self._names(),
            }
        )

    def _names(self) -> np.ndarray:
        """Display names from a stream of their own (distinct while the lists allow)."""
        rng = np.random.default_rng([self.p.seed, 1])
        n_last = len(LAST_NAMES)
        combos = len(FIRST_NAMES) * n_last
        pick = rng.choice(combos, self.n, replace=self.n > combos)
        first = np.array(FIRST_NAMES, dtype=object)[pick // n_last]
        return first + " " + np.array(LAST_NAMES, dtype=object)[pick % n_last]

    def cohorts_table(self) -> pd.DataFrame:
        p = self.p
        starts = _to_dates(self.cohort_start)
        return pd.DataFrame(
            {
                "cohort_id": self.cohort_ids,
                "start_date": starts,
                "end_date": _to_dates(self.cohort_end),
                "cadence_days": p.cadence_days,
                "planned_sessions": max(1, (p.cohort_weeks * 7) // p.cadence_days),
                "name": [f"Cohort {i + 1} ({d:%b %Y})" for i, d in enumerate(starts)],
            }
        )

    def _pair_frame(self) -> pd.DataFrame:
        c = self.pair_cohort
        start = self.cohort_start[c].astype(float)
        end = self.cohort_end[c].astype(float)
        first_exit = np.minimum(self.exit[self.mentor], self.exit[self.mentee])
        withdrawn = first_exit < np.minimum(end, self.as_of)
        running = (end > self.as_of) & ~withdrawn
        status = np.where(withdrawn, "withdrawn", np.where(running, "active", "completed"))
        pair_end = np.where(withdrawn, np.floor(first_exit), np.where(running, np.nan, end))
        return pd.DataFrame({"start": start, "end": pair_end, "status": status, "cohort_end": end})

    def pairs_table(self) -> pd.DataFrame:
        pf = self._pair_frame()
        self.pf = pf
        return pd.DataFrame(
            {
                "pair_id": self.pair_ids,
                "cohort_id": self.cohort_ids[self.pair_cohort],
                "mentor_id": self.ids[self.mentor],
                "mentee_id": self.ids[self.mentee],
                "status": pf.status.to_numpy(),
                "start_date": _to_dates(pf.start.to_numpy()),
                "end_date": _to_dates(pf.end.to_numpy()),
                "goal": self.rng.choice(np.array(GOALS, dtype=object), len(self.pair_ids)),
            }
        )

    def control_table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "employee_id": [self.ids[e] for _, e in self.control],
                "cohort_id": [self.cohort_ids[c] for c, _ in self.control],
            }
        )

    def _pair_stop(self) -> np.ndarray:
        """Last day a pair could meet: pair end, cohort end or the snapshot."""
        pf = self.pf
        return np.fmin(
            pf.end.fillna(np.inf).to_numpy(), np.minimum(pf.cohort_end.to_numpy(), self.as_of)
        )

    def sessions_table(self) -> pd.DataFrame:
        p, rng = self.p, self.rng
        planned = max(1, (p.cohort_weeks * 7) // p.cadence_days)
        n_pairs = len(self.pair_ids)
        k = np.tile(np.arange(planned), n_pairs)
        pair = np.repeat(np.arange(n_pairs), planned)
        day = self.pf.start.to_numpy()[pair] + k * p.cadence_days + rng.integers(-1, 3, len(k))
        day = np.maximum(day, self.pf.start.to_numpy()[pair])
        keep = (day <= self._pair_stop()[pair]) & ~(self.stalled[pair] & (k >= 3))
        pair, day = pair[keep], day[keep]
        u = rng.random(len(pair))
        held_rate = p.session_held_rate
        status = np.where(
            u < held_rate,
            "held",
            np.where(u < held_rate + (1 - held_rate) * 0.65, "cancelled", "no_show"),
        )
        dur = np.clip(np.round(rng.normal(55, 12, len(pair)) / 5) * 5, 15, 120)
        dur = np.where(status == "held", dur, np.nan)
        return pd.DataFrame(
            {
                "pair_id": self.pair_ids[pair],
                "date": _to_dates(day),
                "duration_minutes": dur,
                "status": status,
            }
        ).sort_values(["pair_id", "date"], ignore_index=True)

    # -- surveys ------------------------------------------------------------------------------
    def surveys_table(self) -> pd.DataFrame:
        parts = [self._engagement(), self._pulses(), self._feedback()]
        out = pd.concat(parts, ignore_index=True)
        return out[
            ["respondent_id", "survey", "wave", "response_date", "item", "value", "text", "pair_id"]
        ]

    def _engagement(self) -> pd.DataFrame:
        p, rng = self.p, self.rng
        w = p.engagement_waves
        wave_days = self.as_of - 45 - 182 * np.arange(w)[::-1]
        wave_days -= (wave_days - 4) % 7
        labels = [f"{d:%Y-%m-%d}" for d in _to_dates(wave_days)]
        mu = 3.4 + 0.15 * (self.perf - 3) + rng.normal(0, 0.45, self.n)
        trend = rng.normal(0, 0.08, w)
        item_off = rng.normal(0, 0.15, len(ENGAGEMENT_ITEMS))
        treated_start = np.where(
            np.isin(self.role, ["mentor", "mentee"]), self.index_day + 42, np.inf
        )
        shift = np.full(self.n, p.engagement_shift)  # the latent shift once treated
        for who in (self.mentor, self.mentee):
            shift[who] = self.cohort_shift[self.pair_cohort]
        rows_person, rows_wave = [], []
        for j, d in enumerate(wave_days):
            here = (self.hire <= d) & (self.exit > d) & (rng.random(self.n) < p.response_rate)
            who = np.flatnonzero(here)
            rows_person.append(who)
            rows_wave.append(np.full(len(who), j))
        person = np.concatenate(rows_person)
        wave = np.concatenate(rows_wave)
        treated = wave_days[wave] >= treated_start[person]
        resp_day = wave_days[wave] + rng.integers(0, 14, len(person))
        n_items = len(ENGAGEMENT_ITEMS)
        base = (
            (mu[person] + trend[wave])[:, None]
            + item_off[None, :]
            + rng.normal(0, 0.6, (len(person), n_items))
        )
        y1 = np.clip(np.rint(base + (shift[person] * treated)[:, None]), 1, 5)
        y0 = np.clip(np.rint(base), 1, 5)
        if treated.any():
            self.truth["engagement_index_shift"] = float((y1[treated] - y0[treated]).mean())
        else:
            self.truth["engagement_index_shift"] = float("nan")
        intent_base = 3.2 + 0.7 * (mu[person] - 3.4) + rng.normal(0, 0.8, len(person))
        intent = np.clip(np.rint(intent_base + shift[person] * treated), 1, 5)
        self.truth["engagement_waves"] = labels
        codes = np.repeat(np.arange(len(person)), n_items)
        eng = pd.DataFrame(
            {
                "respondent_id": pd.Categorical.from_codes(person[codes], categories=self.ids),
                "survey": pd.Categorical.from_codes(
                    np.zeros(len(codes), dtype=int), ["engagement"]
                ),
                "wave": pd.Categorical.from_codes(wave[codes], labels),
                "response_date": _to_dates(resp_day[codes]),
                "item": pd.Categorical.from_codes(
                    np.tile(np.arange(n_items), len(person)), list(ENGAGEMENT_ITEMS)
                ),
                "value": y1.ravel(),
            }
        )
        ri = pd.DataFrame(
            {
                "respondent_id": pd.Categorical.from_codes(person, categories=self.ids),
                "survey": pd.Categorical.from_codes(
                    np.zeros(len(person), dtype=int), ["retention_intent"]
                ),
                "wave": pd.Categorical.from_codes(wave, labels),
                "response_date": _to_dates(resp_day),
                "item": pd.Categorical.from_codes(np.zeros(len(person), dtype=int), ["intent"]),
                "value": intent,
            }
        )
        return pd.concat([eng, ri], ignore_index=True).astype(
            {"respondent_id": object, "survey": object, "wave": object, "item": object}
        )

    def _member_frame(self) -> pd.DataFrame:
        n_pairs = len(self.pair_ids)
        return pd.DataFrame(
            {
                "pair": np.tile(np.arange(n_pairs), 2),
                "person": np.concatenate([self.mentor, self.mentee]),
                "role": np.repeat(["mentor", "mentee"], n_pairs),
            }
        )

    def _pair_wave_days(self) -> dict[str, np.ndarray]:
        start = self.pf.start.to_numpy()
        end = self.pf.cohort_end.to_numpy()
        return {"baseline": start + 3, "midpoint": np.round((start + end) / 2), "endpoint": end - 2}

    def _pulses(self) -> pd.DataFrame:
        rng = self.rng
        m = self._member_frame()
        safety = 5.6 + rng.normal(0, 0.5, len(m))
        frames = []
        stop = self._pair_stop()
        for wave, days in self._pair_wave_days().items():
            d = days[m.pair]
            ok = (d <= stop[m.pair]) & (self.exit[m.person] > d) & (rng.random(len(m)) < 0.92)
            mm = m[ok]
            s = safety[ok].copy()
            if wave != "baseline":
                drop = self.unsafe[mm.pair] & (mm.role == "mentor").to_numpy()
                s = s - 3.0 * drop
            noise = rng.normal(0, 0.7, (len(mm), len(PS_ITEMS)))
            agree = np.clip(np.rint(s[:, None] + noise), 1, 7)
            rev = np.isin(PS_ITEMS, PS_REVERSED)
            vals = np.where(rev[None, :], 8 - agree, agree)
            n_items = len(PS_ITEMS)
            frames.append(
                pd.DataFrame(
                    {
                        "respondent_id": np.repeat(self.ids[mm.person], n_items),
                        "survey": "psych_safety",
                        "wave": wave,
                        "response_date": _to_dates(
                            np.repeat(d[ok] + rng.integers(0, 4, len(mm)), n_items)
                        ),
                        "item": np.tile(PS_ITEMS, len(mm)),
                        "value": vals.ravel(),
                        "pair_id": np.repeat(self.pair_ids[mm.pair], n_items),
                    }
                )
            )
        self.safety = safety
        return pd.concat(frames, ignore_index=True)

    def _feedback(self) -> pd.DataFrame:
        rng = self.rng
        m = self._member_frame()
        quality = 3.6 + rng.normal(0, 0.6, len(self.pair_ids)) - 1.5 * (self.stalled | self.unsafe)
        self.quality = quality
        frames = []
        stop = self._pair_stop()
        days = self._pair_wave_days()
        for wave in ("midpoint", "endpoint"):
            d = days[wave][m.pair]
            ok = (d <= stop[m.pair]) & (self.exit[m.person] > d) & (rng.random(len(m)) < 0.85)
            mm = m[ok]
            k = len(mm)
            unsafe_mentor = self.unsafe[mm.pair] & (mm.role == "mentor").to_numpy()
            progress = np.clip(np.rint(quality[mm.pair] + rng.normal(0, 0.6, k)), 1, 5)
            safety = np.clip(
                np.rint(
                    (self.safety[ok] - 1) * 4 / 6 + 1 - 2.0 * unsafe_mentor + rng.normal(0, 0.5, k)
                ),
                1,
                5,
            )
            recommend = (rng.random(k) < 1 / (1 + np.exp(-(safety - 2.5)))).astype(float)
            worked = np.where(
                rng.random(k) < 0.6, rng.choice(np.array(WORKED, dtype=object), k), None
            )
            improve = np.where(
                rng.random(k) < 0.5, rng.choice(np.array(IMPROVE, dtype=object), k), None
            )
            resp = d[ok] + rng.integers(0, 5, k)
            base = {
                "respondent_id": self.ids[mm.person],
                "survey": "feedback",
                "wave": wave,
                "response_date": _to_dates(resp),
                "pair_id": self.pair_ids[mm.pair],
            }
            for item, value, text in (
                ("progress", progress, None),
                ("safety", safety, None),
                ("recommend", recommend, None),
                ("worked", np.nan, worked),
                ("improve", np.nan, improve),
            ):
                f = pd.DataFrame({**base, "item": item, "value": value, "text": text})
                if text is not None:
                    f = f[pd.notna(f.text)]
                frames.append(f)
        return pd.concat(frames, ignore_index=True)

    # -- skills, checkpoints, outcomes -----------------------------------------------------------
    def skills_table(self) -> pd.DataFrame:
        p, rng = self.p, self.rng
        het = self.cohort_skill[self.pair_cohort]
        groups = [
            (self.mentee, MENTEE_SKILLS, p.skill_gain + het, "mentees", self.pair_cohort),
            (self.mentor, MENTOR_SKILLS, p.mentor_skill_gain + het, "mentors", self.pair_cohort),
        ]
        if self.control:
            ctrl = np.array([e for _, e in self.control])
            ctrl_c = np.array([c for c, _ in self.control])
            groups.append((ctrl, MENTOR_SKILLS, np.zeros(len(ctrl)), "control", ctrl_c))
        frames = []
        for people, skills, gain, label, cohort in groups:
            n_s = len(skills)
            person = np.repeat(people, n_s)
            coh = np.repeat(cohort, n_s)
            skill = np.tile(np.array(skills, dtype=object), len(people))
            pre_day = self.cohort_start[coh] - 3
            post_day = self.cohort_end[coh] + 7
            ability = rng.normal(4.5, 1.3, len(person))
            pre = np.clip(np.rint(ability + rng.normal(0, 0.8, len(person))), 1, 10)
            e_post = rng.normal(0, 0.8, len(person))
            post0 = np.clip(np.rint(ability + p.retest_gain + e_post), 1, 10)
            post = np.clip(np.rint(ability + p.retest_gain + np.repeat(gain, n_s) + e_post), 1, 10)
            has_post = (
                (post_day <= self.as_of)
                & (self.exit[person] > post_day)
                & (rng.random(len(person)) > 0.08)
            )
            self.truth[f"skill_change_{label}"] = (
                float((post - pre)[has_post].mean()) if has_post.any() else float("nan")
            )
            self.truth[f"skill_effect_{label}_realised"] = (
                float((post - post0)[has_post].mean()) if has_post.any() else float("nan")
            )
            for phase, score, day, ok in (
                ("pre", pre, pre_day, np.ones(len(person), dtype=bool)),
                ("post", post, post_day, has_post),
            ):
                frames.append(
                    pd.DataFrame(
                        {
                            "employee_id": self.ids[person[ok]],
                            "skill": skill[ok],
                            "phase": phase,
                            "score": score[ok],
                            "scale_min": 1.0,
                            "scale_max": 10.0,
                            "rater": "self",
                            "date": _to_dates(day[ok]),
                        }
                    )
                )
        return pd.concat(frames, ignore_index=True)

    def checkpoints_table(self) -> pd.DataFrame:
        rng = self.rng
        start = self.pf.start.to_numpy()
        stop = self._pair_stop()
        n = len(self.pair_ids)
        wk6 = start + 42
        end = self.pf.cohort_end.to_numpy()
        p6 = np.clip(np.rint(self.quality + rng.normal(0, 0.5, n) - 0.4), 1, 5)
        self.week6_progress = np.where(wk6 <= stop, p6, np.nan)
        pe = np.clip(np.rint(self.quality + 0.5 + rng.normal(0, 0.5, n)), 1, 5)
        met = pe + rng.normal(0, 0.4, n) >= 3.6
        completed = (self.pf.status == "completed").to_numpy()
        frames = []
        for name, day, prog, goal, ok in (
            ("week6", wk6, p6, np.full(n, None), wk6 <= stop),
            ("endpoint", end, pe, np.where(met, "yes", "no"), completed),
        ):
            frames.append(
                pd.DataFrame(
                    {
                        "pair_id": self.pair_ids[ok],
                        "checkpoint": name,
                        "progress": prog[ok].astype(int),
                        "goal_met": goal[ok],
                        "date": _to_dates(day[ok]),
                        "roadblocks": np.where(
                            rng.random(ok.sum()) < 0.5,
                            rng.choice(np.array(ROADBLOCKS, dtype=object), ok.sum()),
                            None,
                        ),
                        "wins": np.where(
                            rng.random(ok.sum()) < 0.5,
                            rng.choice(np.array(WINS, dtype=object), ok.sum()),
                            None,
                        ),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def interventions_table(self, sessions: pd.DataFrame) -> pd.DataFrame:
        """The program lead's log (see the module docstring), from a stream of its own."""
        rng = np.random.default_rng([self.p.seed, 2])
        start = self.pf.start.to_numpy()
        stop = self._pair_stop()
        rows: list[tuple[int, float, str, str]] = []
        for j in np.flatnonzero(self.unsafe):
            rows.append((j, start[j] + 21, "check_in", "routine"))
        held = sessions[sessions.status == "held"]
        last_held = held.groupby("pair_id").date.max()
        for j in np.flatnonzero(self.stalled):
            last = last_held.get(self.pair_ids[j])
            anchor = _days(last) if last is not None and pd.notna(last) else start[j]
            crossed = anchor + 2 * self.p.cadence_days + 1
            rows.append((j, crossed + 2, "check_in", "stalled"))
        planted = self.unsafe | self.stalled  # the lead already talks to these
        for j in np.flatnonzero((self.week6_progress <= 2) & ~planted):
            rows.append((j, start[j] + 42 + 3, "check_in", "goal"))
        for j in np.flatnonzero((self.pf.status == "withdrawn").to_numpy()):
            rows.append((j, float(self.pf.end.to_numpy()[j]), "close", "close"))
        kept = [(j, d, a, n) for j, d, a, n in rows if start[j] <= d <= min(stop[j], self.as_of)]
        kept.sort(key=lambda r: (r[1], self.pair_ids[r[0]]))
        return pd.DataFrame(
            {
                "pair_id": [self.pair_ids[j] for j, *_ in kept],
                "date": _to_dates(np.array([d for _, d, _, _ in kept], dtype=float)),
                "action": [a for _, _, a, _ in kept],
                "note": [rng.choice(INTERVENTION_NOTES[n]) for *_, n in kept],
            }
        )

    def outcomes_table(self) -> pd.DataFrame:
        pr = self.promotions
        pr = pr[(pr.day >= self.window) & (pr.day <= self.as_of)]
        person = pr.person.to_numpy()
        # grade after each promotion: entry grade + promotions so far (1-based label number)
        nth = pr.groupby("person").cumcount().to_numpy() + 1
        before_window = self.promotions
        prior = np.bincount(before_window.person[before_window.day < self.window], minlength=self.n)
        new_level = np.minimum(self.level0[person] + prior[person] + nth, 6) + 1
        promo = pd.DataFrame(
            {
                "outcome": "promotion",
                "date": _to_dates(pr.day.to_numpy()),
                "employee_id": self.ids[person],
                "pair_id": None,
                "unit": None,
                "value": new_level.astype(float),
            }
        )
        adopted = self.rng.random(len(self.pair_ids)) < 0.3
        adopted &= (self.pf.status == "completed").to_numpy()
        proj = pd.DataFrame(
            {
                "outcome": "project_adopted",
                "date": _to_dates(self.pf.cohort_end.to_numpy()[adopted] + 14),
                "employee_id": None,
                "pair_id": self.pair_ids[adopted],
                "unit": None,
                "value": 1.0,
            }
        )
        proj = proj[proj.date <= pd.Timestamp(self.p.as_of)]
        return pd.concat([promo, proj], ignore_index=True).sort_values(
            ["date", "outcome"], ignore_index=True
        )
