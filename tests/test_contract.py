"""One result contract across the library (rm_analytics/results.py, docs/architecture.md).

Every public analysis is called on the sample and its result checked against the contract: a
:class:`Result`, a tidy ``summary`` whose first column is ``metric`` followed by the estimate
columns in their order, one vocabulary of groups and roles, notes with a documented code, fitted
attributes ending in ``_``, plain-JSON ``to_dict()``, an HTML view and, where the result draws,
a plot with something on it. A new public analysis without a case here fails the test.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import rm_analytics as rm
from rm_analytics.errors import AnalysisDateError, InsufficientDataError
from rm_analytics.results import ESTIMATE_COLUMNS, NOTE_CODES, Note, Result

#: Public names that are not analyses of a pilot (loaders, generators, building blocks that
#: return a DataFrame or a sentence, classes, errors, modules).
NOT_ANALYSES = {
    "attempt",
    "load_pilot",
    "load_sample",
    "generate_sample",
    "cohort_frame",
    "planning_statement",
    "external_benchmarks",
    "planned_information",
    "probability_of_benefit",
    "sequential_boundaries",
}

#: Key columns of version 0.1 that the summaries no longer use.
OLD_KEYS = {"measure", "term", "covariate", "factor"}
GROUPS = {"treated", "control", "treated vs control"}
ROLES = {"mentor", "mentee", "both", "control"}


@pytest.fixture(scope="module")
def pilot(sample_pilot):
    return sample_pilot.copy()


@pytest.fixture(scope="module")
def results(pilot):
    """Every public analysis, called once on the sample (lazily, by name)."""
    cache: dict[str, Result] = {}

    def get(name: str) -> Result:
        if name not in cache:
            cache[name] = CASES[name](pilot, get)
        return cache[name]

    return get


def _did_frame(pilot) -> pd.DataFrame:
    """The sample's first engagement item in its first two waves: mentors vs everyone else."""
    sv = pilot.surveys
    sv = sv[sv.survey.eq("engagement") & sv["item"].eq("eng1")]
    waves = sorted(sv.wave.astype(str).unique())[:2]
    sv = sv[sv.wave.astype(str).isin(waves)]
    mentors = set(pilot.pairs.mentor_id.astype(str))
    return pd.DataFrame(
        {
            "id": sv.respondent_id.astype(str).to_numpy(),
            "y": sv.value.to_numpy(dtype=float),
            "post": (sv.wave.astype(str) == waves[1]).astype(int).to_numpy(),
            "treated": sv.respondent_id.astype(str).isin(mentors).astype(int).to_numpy(),
        }
    )


def _event_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    person = np.repeat(np.arange(40), 4)
    e = np.tile([-3, -2, -1, 0], 40)
    d = (person < 20).astype(int)
    y = rng.normal(0, 1, 40)[person] + 0.5 * d * (e == 0) + rng.normal(0, 0.3, len(e))
    return pd.DataFrame({"y": y, "d": d, "e": e, "id": person})


def _cohort_estimates(results) -> pd.DataFrame:
    c = results("pilot_synthesis").cohorts_
    return c[c.status.eq("ok")]


CASES = {
    "pilot_retention": lambda p, r: rm.pilot_retention(p, horizons=(6, 12)),
    "compare_retention": lambda p, r: rm.compare_retention(
        r("pilot_retention").frame_,
        duration="duration",
        event="event",
        group="treated",
        horizons=[12],
        competing="competing",
    ),
    "match_controls": lambda p, r: rm.pilot_retention(p, control="matched").matching_,
    "pilot_engagement": lambda p, r: rm.pilot_engagement(p),
    "difference_in_differences": lambda p, r: rm.difference_in_differences(
        _did_frame(p), outcome="y", group="treated", period="post", unit="id"
    ),
    "event_study": lambda p, r: rm.event_study(
        _event_frame(), outcome="y", group="d", event_time="e", unit="id"
    ),
    "pilot_skills": lambda p, r: rm.pilot_skills(p),
    "prepost": lambda p, r: rm.prepost(
        p.skills[p.skills.skill.astype(str) == p.skills.skill.astype(str).iloc[0]],
        id="employee_id",
        phase="phase",
        score="score",
        scale=(1, 10),
    ),
    "pilot_goals": lambda p, r: rm.pilot_goals(p),
    "goal_progress": lambda p, r: rm.goal_progress(p.checkpoints),
    "pilot_reaction": lambda p, r: rm.pilot_reaction(p),
    "feedback_summary": lambda p, r: rm.feedback_summary(p.surveys, by=None),
    "pilot_promotion": lambda p, r: rm.pilot_promotion(p),
    "promotion_rates": lambda p, r: rm.promotion_rates(
        r("pilot_promotion").followup_,
        group="group",
        followup="followup_years",
        events="promotions",
        first_event="years_to_first",
        treated="treated",
    ),
    "pair_delivery": lambda p, r: rm.pair_delivery(p),
    "delivery_summary": lambda p, r: rm.delivery_summary(p),
    "scale_scores": lambda p, r: rm.scale_scores(p),
    "cronbach_alpha": lambda p, r: rm.cronbach_alpha(p),
    "flag_pairs": lambda p, r: rm.flag_pairs(p),
    "safety_summary": lambda p, r: rm.safety_summary(p),
    "check_pairs": lambda p, r: rm.check_pairs(p.employees, p.pairs),
    "program_costs": lambda p, r: rm.program_costs(p),
    "roi_from_retention": lambda p, r: rm.roi_from_retention(
        r("pilot_retention"),
        costs=r("program_costs"),
        salary=rm.roi.participant_salary(p),
    ),
    "phillips_roi": lambda p, r: rm.phillips_roi(
        n_participants=24,
        attrition_participants=0.05,
        attrition_control=0.20,
        replacement_cost=15_000,
        costs=r("program_costs"),
        se_difference=0.06,
    ),
    "sensitivity": lambda p, r: rm.sensitivity(r("phillips_roi"), salary=60_000),
    "pilot_synthesis": lambda p, r: rm.pilot_synthesis(p, looks=4),
    "meta_analysis": lambda p, r: rm.meta_analysis(
        _cohort_estimates(r), estimate="estimate", se="se", label="cohort_id"
    ),
    "sequential_monitor": lambda p, r: rm.sequential_monitor(
        _cohort_estimates(r), estimate="estimate", se="se", label="cohort_id"
    ),
    "pair_view": lambda p, r: rm.pair_view(p),
    "enrolment_funnel": lambda p, r: rm.enrolment_funnel(p),
    "sessions_by_week": lambda p, r: rm.sessions_by_week(p),
    "feedback_by_role": lambda p, r: rm.feedback_by_role(p),
}

#: Results whose rows are not estimates with an interval (people per stage, counts by week,
#: cost lines, balance of covariates, a tornado table, the looks of a sequential plan).
NO_INTERVAL = {
    "enrolment_funnel",
    "sessions_by_week",
    "program_costs",
    "match_controls",
    "sensitivity",
    "sequential_monitor",
}


def test_every_public_analysis_has_a_case():
    import inspect

    public = {n for n in rm.__all__ if inspect.isfunction(getattr(rm, n)) and n not in NOT_ANALYSES}
    assert public == set(CASES), (
        f"public analyses without a contract case: {sorted(public - set(CASES))}; "
        f"cases that are not public: {sorted(set(CASES) - public)}"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_result_contract(results, name):
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.patches import Rectangle

    r = results(name)
    assert isinstance(r, Result), f"{name} returns {type(r).__name__}"
    s = r.summary
    assert isinstance(s, pd.DataFrame) and len(s), f"{name}: empty summary"
    cols = list(s.columns)
    assert cols[0] == "metric", f"{name}: first column {cols[0]!r}"
    assert not OLD_KEYS & set(cols), f"{name}: old key column(s) {OLD_KEYS & set(cols)}"
    present = [c for c in cols if c in ESTIMATE_COLUMNS]
    assert present == [c for c in ESTIMATE_COLUMNS if c in cols], f"{name}: {cols}"
    if present:  # contiguous, after the key columns
        start = cols.index(present[0])
        assert cols[start : start + len(present)] == present, f"{name}: {cols}"
    if name not in NO_INTERVAL:
        assert present == ESTIMATE_COLUMNS, f"{name}: estimate columns {present}"
    if "group" in cols:
        assert set(s.group.dropna()) <= GROUPS, f"{name}: groups {set(s.group.dropna())}"
    if "role" in cols:
        assert set(s.role.dropna()) <= ROLES, f"{name}: roles {set(s.role.dropna())}"
    assert "notes" not in s.attrs
    # notes: objects with a documented code
    assert all(isinstance(n, Note) and n.code in NOTE_CODES for n in r.notes), name
    assert "params" not in r.arguments, f"{name}: arguments stored one level too deep"
    # fitted attributes end in "_"
    own = set(vars(r)) - {"summary", "notes", "arguments", "title"}
    assert all(a.endswith("_") for a in own), f"{name}: {sorted(own)}"
    # plain JSON, the same rows; an HTML view with the title and the table
    d = json.loads(json.dumps(r.to_dict()))
    assert len(d["summary"]) == len(s)
    assert [n["code"] for n in d["notes"]] == [n.code for n in r.notes]
    page = r._repr_html_()
    assert "<table" in page and r.title.split(":")[0].replace("'", "&#x27;") in page
    # a plot that draws something, where the result has one
    if type(r).plot is not Result.plot:
        ax = r.plot()
        ax = ax[0] if isinstance(ax, (list, tuple, np.ndarray)) else ax
        assert isinstance(ax, Axes), name
        drawn = (
            [line for line in ax.get_lines() if len(line.get_xdata())]
            + list(ax.collections)
            + [
                p
                for p in ax.patches
                if not isinstance(p, Rectangle) or p.get_width() or p.get_height()
            ]
        )
        assert drawn, f"{name}: the plot draws nothing"
        plt.close("all")


def test_not_enough_data_is_one_exception(pilot):
    """Each analysis says "not enough data" with InsufficientDataError (a report turns it into
    "not available: <reason>"); a bad argument stays a ValueError."""
    frame = rm.pilot_retention(pilot, horizons=(12,)).frame_
    with pytest.raises(InsufficientDataError, match="no control rows"):
        rm.compare_retention(
            frame[frame.treated.eq(1)], duration="duration", event="event", group="treated"
        )
    with pytest.raises(InsufficientDataError, match="at least 2 estimates"):
        rm.meta_analysis(pd.DataFrame({"y": [0.1], "s": [0.2]}), estimate="y", se="s")
    fu = pd.DataFrame({"g": [1, 1], "fu": [1.0, 2.0], "k": [0, 1]})
    with pytest.raises(InsufficientDataError, match="and a control"):
        rm.promotion_rates(fu, group="g", followup="fu", events="k")
    with pytest.raises(InsufficientDataError, match="two or more cohorts"):
        rm.pilot_synthesis(pilot.select(pilot.cohort_ids[0]))
    with pytest.raises(InsufficientDataError, match="no cohort had started"):
        rm.pilot_retention(pilot.as_of(pilot.cohorts.start_date.min() - pd.Timedelta(days=1)))
    did = _did_frame(pilot)
    with pytest.raises(InsufficientDataError, match="no control group"):
        rm.difference_in_differences(
            did[did.treated.eq(1)], outcome="y", group="treated", period="post", unit="id"
        )
    with pytest.raises(ValueError, match="population must be one of") as exc:
        rm.pilot_retention(pilot, population="seniors")
    assert not isinstance(exc.value, InsufficientDataError)


def test_one_analysis_date(pilot):
    """Without as_of every analysis judges the pilot at Pilot.analysis_date(); a date after
    today is refused by all of them alike."""
    day = f"{pilot.analysis_date():%Y-%m-%d}"
    dated = {
        "retention": rm.pilot_retention(pilot, horizons=(12,)),
        "promotion": rm.pilot_promotion(pilot),
        "delivery": rm.delivery_summary(pilot),
        "pair delivery": rm.pair_delivery(pilot),
        "safety": rm.safety_summary(pilot),
        "flags": rm.flag_pairs(pilot),
        "pair view": rm.pair_view(pilot),
        "funnel": rm.enrolment_funnel(pilot),
        "sessions per week": rm.sessions_by_week(pilot),
    }
    assert {k: r.arguments["as_of"] for k, r in dated.items()} == dict.fromkeys(dated, day)
    later = pilot.today + pd.Timedelta(days=1)
    for f in (
        rm.pilot_retention,
        rm.pilot_promotion,
        rm.delivery_summary,
        rm.flag_pairs,
        rm.pair_view,
        rm.enrolment_funnel,
        rm.feedback_by_role,
    ):
        with pytest.raises(AnalysisDateError, match="after today"):
            f(pilot, as_of=later)


@pytest.mark.slow
def test_seed_reaches_the_permutation_test_and_nothing_else_varies():
    """The report's seed reaches the RMST permutation test (the sample's groups have fewer than
    10 exits, so its p-value is a permutation p-value): another seed moves the p-value's last
    digits; the same seed gives the identical metrics.json."""
    from rm_analytics.report.document import Report

    def build(seed: int):
        return Report.build("sponsor", data="data/sample", today="2026-09-30", seed=seed)

    a, b, c = build(1), build(1), build(2)
    rmst = {
        k: rep.ctx.cache["retention"].row(metric="rmst_difference", horizon=12.0)
        for k, rep in (("a", a), ("b", b), ("c", c))
    }
    assert any("seed 1)" in n for n in a.ctx.cache["retention"].notes_with("method"))
    assert rmst["a"].p_value == rmst["b"].p_value
    assert rmst["a"].p_value != rmst["c"].p_value
    assert abs(rmst["a"].p_value - rmst["c"].p_value) < 0.05  # the same test, another draw
    assert a.metrics.to_json() == b.metrics.to_json()
    assert json.loads(a.metrics.to_json())["report"]["seed"] == 1
