"""The program lead's view on a small hand-built pilot (see ``lead_pilot.py``): one entry per
pair, this week's list, interventions moving flags from open to addressed, flag dates,
program health; and the interventions table of the data contract."""

from __future__ import annotations

import json

import lead_pilot as lp
import pandas as pd
import pytest

from rm_analytics import DataValidationError, Pilot
from rm_analytics.cli import run
from rm_analytics.metrics.lead import (
    FLAG_HEALTH,
    HEALTH_STATES,
    PairView,
    display_names,
    pair_comments,
    pair_view,
)
from rm_analytics.metrics.program import enrolment_funnel, feedback_by_role, sessions_by_week
from rm_analytics.metrics.safety import FLAG_CODES, flag_pairs


@pytest.fixture(scope="module")
def view() -> PairView:
    return pair_view(lp.pilot(), as_of=lp.AS_OF)


def entry(view: PairView, pair: str) -> pd.Series:
    return view.pair(pair)


# -- one entry per pair ---------------------------------------------------------------------------
def test_every_started_pair_once_with_its_state(view):
    s = view.pairs_
    assert sorted(s.pair_id) == sorted(lp.PAIRS)
    assert s.pair_id.is_unique
    ended = set(s.pair_id[s.state.eq("ended")])
    assert ended == {"B1", "B2", "A8"}  # cohort C1 is over; A8 withdrew on day 20
    assert set(s.state) <= {"running", "ended"} and set(s.health) <= set(HEALTH_STATES)
    assert entry(view, "A1").mentor == "Ada Mentor" and entry(view, "A6").mentee == "TL"


def test_summary_counts_pairs_by_state_and_health(view):
    s = view.summary
    assert list(s.columns[:7]) == [
        "metric",
        "state",
        "health",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
    ]
    pairs = view.pairs_
    for r in s[s.metric == "pairs"].itertuples():
        assert r.estimate == (pairs.state.eq(r.state) & pairs.health.eq(r.health)).sum()
    assert s.estimate[s.metric == "pairs"].sum() == len(pairs) == s.n.iloc[0]
    assert view.row(metric="pairs_needing_action").estimate == len(view.this_week()) == 4
    with pytest.raises(KeyError, match="not in the view"):
        view.pair("ZZ")


def test_ended_pairs_have_no_action_and_no_priority(view):
    h = view.history()
    assert set(h.pair_id) == {"B1", "B2", "A8"}
    assert h.action.isna().all() and h.priority.isna().all()
    # B1 ended with its goal off track: history, not a to-do
    assert entry(view, "B1").open_flags == ["GOAL_OFF_TRACK"]


def test_this_week_most_urgent_first_with_the_playbook_action(view):
    week = view.this_week()
    assert week.pair_id.tolist() == ["A6", "A2", "A3", "A5"]
    assert week.priority.tolist() == [1, 2, 3, 4]
    assert (week.state == "running").all()
    a6, a2, a3, a5 = (week.iloc[i] for i in range(4))
    assert a6.health == "act_now" and a6.action.startswith("Rematch before anything else")
    assert a2.health == "act_now" and a2.action.startswith("Pause the pair and talk to both")
    assert a3.health == "act_now" and a3.action.startswith("Reshuffle")
    assert a5.health == "needs_check_in" and "paused since 2026-04-16" in a5.action
    assert a2.since == pd.Timestamp("2026-04-11")  # the midpoint pulse
    assert a6.since == lp.C2_START  # a conflict exists from the pair's start


def test_on_track_and_too_early_pairs_have_no_action(view):
    assert entry(view, "A1").health == "on_track" and entry(view, "A1").action is None
    a7 = entry(view, "A7")
    assert a7.health == "too_early" and a7.action is None and a7.weeks_running < 3


def test_intervention_addresses_an_earlier_flag(view):
    a4 = entry(view, "A4")
    assert a4.open_flags == [] and a4.addressed_flags == ["GOAL_OFF_TRACK"]
    assert a4.health == "on_track" and a4.action is None
    f = view.flags_[(view.flags_.pair_id == "A4") & (view.flags_.flag == "GOAL_OFF_TRACK")]
    (f,) = (r for _, r in f.iterrows())
    assert f.status == "addressed" and f.addressed_by == "check_in"
    assert f.raised == pd.Timestamp("2026-04-13") and f.addressed_on == pd.Timestamp("2026-04-15")
    assert any("addressed by the check-in on 2026-04-15" in e for e in a4.evidence)


def test_a_flag_raised_after_the_intervention_is_open(view):
    # A2: the check-in (day 21) came before the unsafe midpoint pulse (day 40)
    a2 = entry(view, "A2")
    assert "LOW_SAFETY" in a2.open_flags and a2.addressed_flags == []
    # A3: stalled on day 29, checked in on day 31, still no session: stalled again from day 46
    a3 = entry(view, "A3")
    assert a3.open_flags == ["STALLED"] and a3.addressed_flags == ["STALLED"]
    stalls = view.flags_[(view.flags_.pair_id == "A3") & (view.flags_.flag == "STALLED")]
    assert stalls.sort_values("raised").status.tolist() == ["addressed", "open"]
    assert stalls.raised.sort_values().tolist() == [lp.day(29), lp.day(46)]
    assert a3.since == lp.day(46)
    assert any("since the check-in on 2026-04-02" in e for e in a3.evidence)


def test_without_interventions_every_flag_is_open():
    v = pair_view(lp.pilot(interventions=False), as_of=lp.AS_OF)
    assert v.pair("A4").open_flags == ["GOAL_OFF_TRACK"]
    assert v.pair("A5").health == "on_track"  # no pause logged
    assert any("No interventions table" in n for n in v.notes_with("missing_data"))
    assert (v.flags_.status == "open").all()


def test_stall_before_the_mid_point_means_re_energise():
    v = pair_view(lp.pilot(), as_of=lp.day(30))  # the check-in of day 31 has not happened yet
    a3 = v.pair("A3")
    assert a3.open_flags == ["STALLED"] and a3.action.startswith("Re-energise")
    assert "A4" not in set(v.flags_.pair_id)  # the week-6 check lies in the future


def test_sessions_slipping_needs_a_check_in():
    fr = lp.frames()
    s = fr["sessions"]
    kept = s[~((s.pair_id == "A1") & (s.date >= lp.day(40)))]
    last = pd.DataFrame([("A1", lp.day(39), 60.0, "held")], columns=s.columns)
    fr["sessions"] = pd.concat([kept, last], ignore_index=True)
    v = pair_view(Pilot.from_frames(today=lp.AS_OF, **fr), as_of=lp.AS_OF)
    a1 = v.pair("A1")  # 12 days idle: more than 10.5, not more than 14
    assert a1.open_flags == ["CADENCE_SLIPPING"] and a1.health == "needs_check_in"
    assert "no session for 12 days" in a1.action
    assert a1.since == lp.day(39 + 11)


def test_pause_keeps_a_pair_from_stalling():
    fr = lp.frames()
    s = fr["sessions"]
    fr["sessions"] = s[~((s.pair_id == "A5") & (s.date >= lp.day(20)))]  # last held: day 14
    iv = fr["interventions"]
    iv.loc[iv.pair_id == "A5", "date"] = lp.day(16)  # paused before the stall was crossed
    v = pair_view(Pilot.from_frames(today=lp.AS_OF, **fr), as_of=lp.AS_OF)
    a5 = v.pair("A5")
    assert a5.open_flags == [] and a5.paused and a5.health == "needs_check_in"


def test_display_names_fall_back_to_ids():
    v = pair_view(lp.pilot(names=False), as_of=lp.AS_OF)
    assert v.pair("A1").mentor == "M1" and v.pair("A1").mentee == "S1"
    e = lp.employees().assign(name=lambda d: d.name.where(d.employee_id != "M2"))
    shown = display_names(e)
    assert shown["M1"] == "Ada Mentor" and shown["M2"] == "M2"


def test_records_for_metrics_json(view):
    recs = view.to_records()
    assert [r["pair_id"] for r in recs] == view.pairs_.pair_id.tolist()
    json.dumps(recs, allow_nan=False)  # plain JSON
    a3 = next(r for r in recs if r["pair_id"] == "A3")
    assert a3["open_flags"] == ["STALLED"] and a3["since"] == "2026-04-17"
    assert a3["priority"] == 3 and a3["state"] == "running" and a3["health"] == "act_now"
    b2 = next(r for r in recs if r["pair_id"] == "B2")
    assert b2["action"] is None and b2["since"] is None and b2["priority"] is None
    codes = set(FLAG_CODES) | {"CADENCE_SLIPPING"}
    assert all(set(r["open_flags"]) <= codes for r in recs)
    assert set(FLAG_HEALTH) == codes


def test_timeline_plot_draws_every_kind_of_event(view):
    import matplotlib.pyplot as plt

    ax = view.plot(cohort="C2")
    labels = ax.get_legend_handles_labels()[1]
    kinds = ["session held", "safety pulse below the midpoint", "flag, open", "flag, addressed"]
    for what in [*kinds, "intervention by the lead"]:
        assert what in labels, what
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert len(ticks) == 8 and ticks[0].startswith("A6") and "Flo Mentor" in ticks[0]
    # one cross per intervention of the cohort
    crosses = ax.collections[labels.index("intervention by the lead")]
    assert len(crosses.get_offsets()) == len(lp.INTERVENTIONS)
    plt.close(ax.figure)
    fig, ax2 = plt.subplots()
    assert view.plot(ax=ax2, pairs=["A1"]) is ax2
    ticks = [t.get_text() for t in ax2.get_yticklabels()]
    assert len(ticks) == 1 and ticks[0].startswith("A1")  # only the pair asked for
    plt.close(fig)


def test_comments_grouped_by_pair_with_the_role():
    c = pair_comments(lp.pilot(), as_of=lp.AS_OF)
    row = c[c.text == "PRIVATE COMMENT A2"].iloc[0]
    assert (
        row.pair_id == "A2" and row.source == "mentor" and row.question == "One thing that worked"
    )
    assert pair_comments(lp.pilot(), as_of=lp.day(40)).empty  # written on day 41


# -- flag dates -------------------------------------------------------------------------------
def test_flags_carry_the_date_they_were_raised():
    f = flag_pairs(lp.pilot(), as_of=lp.AS_OF).flags_.set_index(["pair_id", "flag"]).sort_index()
    assert f.loc[("A2", "LOW_SAFETY"), "raised"] == lp.day(40)  # the pulse answer
    assert f.loc[("A3", "STALLED"), "raised"] == lp.day(29)  # 14 days after day 14, plus one
    assert f.loc[("A4", "GOAL_OFF_TRACK"), "raised"] == lp.day(42)  # the week-6 check
    assert f.loc[("A6", "CONFLICT_OF_INTEREST"), "raised"] == lp.C2_START
    fr = lp.frames()
    sv = fr["surveys"]
    fr["surveys"] = sv[~((sv.respondent_id == "S1") & (sv.wave == "midpoint"))]
    f2 = flag_pairs(Pilot.from_frames(today=lp.AS_OF, **fr), as_of=lp.AS_OF).flags_
    miss = f2[(f2.pair_id == "A1") & (f2.flag == "NO_RESPONSE")]
    assert miss.raised.tolist() == [lp.day(47)]  # the wave opened on day 40, 7 days' grace


# -- program health ---------------------------------------------------------------------------
def test_funnel_counts_each_stage():
    f = enrolment_funnel(lp.pilot(), as_of=lp.AS_OF).summary
    c2 = f[f.cohort_id == "C2"].set_index("metric").estimate
    # eligible: the 14 L1 employees employed at the start; enrolled: 8 mentors and 2 on the
    # waitlist; matched: A1..A8's mentors; engaged: every pair but A7 (two sessions so far)
    assert c2.to_dict() == {
        "eligible": 14,
        "enrolled": 10,
        "matched": 8,
        "engaged": 7,
        "completed": 0,
    }
    c1 = f[f.cohort_id == "C1"].set_index("metric").estimate
    assert c1["matched"] == 2 and c1["completed"] == 2
    total = f[f.cohort_id == "all"].set_index("metric")
    assert total.estimate["matched"] == 10
    assert total.share_of_previous["engaged"] == pytest.approx(9 / 10)


def test_sessions_per_week_against_the_plan():
    w = sessions_by_week(lp.pilot(), as_of=lp.AS_OF).summary
    c2 = w[w.cohort_id == "C2"].set_index("week")
    assert c2.index.tolist() == list(range(1, 9))  # day 51 lies in week 8
    # week 1: 7 pairs planned (A7 starts in week 7), 7 held (A1-A6, A8)
    assert c2.loc[1, "planned"] == 7 and c2.loc[1, "held"] == 7
    # week 4 (days 21-27): A8 has withdrawn, A3 stopped meeting
    assert c2.loc[4, "planned"] == 6 and c2.loc[4, "held"] == 5
    assert c2.loc[7, "planned"] == 7  # A7 joined
    assert not c2.loc[8, "complete"] and c2.loc[7, "complete"]


def test_feedback_by_role_needs_pair_answers():
    from rm_analytics.errors import InsufficientDataError

    fr = lp.frames()
    sv = fr["surveys"]
    rows = []
    for pid, who, role_score in (("A1", "M1", 4.0), ("A1", "S1", 5.0), ("A2", "M2", 2.0)):
        rows.append((who, "feedback", "midpoint", lp.day(41), "progress", role_score, None, pid))
        rows.append((who, "feedback", "midpoint", lp.day(41), "recommend", 1.0, None, pid))
    fr["surveys"] = pd.concat([sv, pd.DataFrame(rows, columns=sv.columns)], ignore_index=True)
    r = feedback_by_role(Pilot.from_frames(today=lp.AS_OF, **fr), as_of=lp.AS_OF).summary
    mentors = r[(r.role == "mentor") & (r["item"] == "progress")].iloc[0]
    assert mentors.estimate == pytest.approx(3.0) and mentors.n == 2
    assert r[(r.role == "mentee") & (r["item"] == "recommend")].estimate.iloc[0] == 1.0
    fr["surveys"] = fr["surveys"][fr["surveys"].survey != "feedback"].assign(pair_id=None)
    with pytest.raises(InsufficientDataError):
        feedback_by_role(Pilot.from_frames(today=lp.AS_OF, **fr), as_of=lp.AS_OF)


# -- the interventions table ---------------------------------------------------------------------
def test_interventions_load_typed():
    iv = lp.pilot().interventions
    assert len(iv) == len(lp.INTERVENTIONS)
    assert pd.api.types.is_datetime64_any_dtype(iv.date)
    assert set(iv.action.astype(str)) == {"check_in", "pause"}
    assert lp.pilot().select("C1").interventions.empty


@pytest.mark.parametrize(
    ("change", "column", "rule"),
    [
        ({"pair_id": "Z9"}, "pair_id", "unknown pair_id (not in pairs)"),
        ({"action": "scold"}, "action", "check_in"),
        ({"date": pd.Timestamp("2026-02-01")}, "date", "before the pair's start date 2026-03-02"),
        ({"date": pd.Timestamp("2026-05-01")}, "date", "intervention date in the future"),
    ],
)
def test_bad_interventions_are_clear_problems(change, column, rule):
    fr = lp.frames()
    for col, value in change.items():
        fr["interventions"].loc[1, col] = value
    with pytest.raises(DataValidationError) as exc:
        Pilot.from_frames(today=lp.AS_OF, **fr)
    problems = exc.value.problems
    assert len(problems) == 1
    p = problems[0]
    assert p.file == "interventions (DataFrame)" and p.row == 3 and p.column == column
    assert rule in p.rule


def test_cli_validate_names_the_bad_intervention(tmp_path, capsys):
    fr = lp.frames()
    fr["interventions"].loc[0, "action"] = "scold"
    data = tmp_path / "pilot"
    data.mkdir()
    for name, f in fr.items():
        f.to_csv(data / f"{name}.csv", index=False)
    assert run(["validate", "--data", str(data), "--today", "2026-04-22"]) == 2
    err = capsys.readouterr().err
    assert "interventions.csv" in err and "scold" in err and "action" in err
    assert "Traceback" not in err


# -- the sample ------------------------------------------------------------------------------------
def test_sample_stalled_pair_before_and_after_the_check_in(sample_pilot, sample_dir):
    truth = json.loads((sample_dir / "PARAMETERS.json").read_text())["truth"]
    (stalled,) = truth["stalled_pairs"]
    iv = sample_pilot.interventions
    check_in = iv[iv.pair_id == stalled].date.min()
    before = pair_view(sample_pilot, as_of=check_in - pd.Timedelta(days=1)).pair(stalled)
    assert before.open_flags[0] == "STALLED" and before.addressed_flags == []
    assert before.health == "act_now" and before.priority is not pd.NA
    on_day = pair_view(sample_pilot, as_of=check_in).pair(stalled)
    assert "STALLED" not in on_day.open_flags and "STALLED" in on_day.addressed_flags
    now = pair_view(sample_pilot).pair(stalled)  # no session since: stalled again
    assert now.open_flags[0] == "STALLED" and "STALLED" in now.addressed_flags
    assert now.action.startswith("Reshuffle")


def test_generator_leaves_the_latest_cohort_running():
    from rm_analytics.data.synthetic import generate

    d = generate(n_employees=600, n_cohorts=2, running_cohorts=1, pairs_per_cohort=6, seed=5)
    t, as_of = d.tables, pd.Timestamp(d.params.as_of)
    live = t["pairs"][t["pairs"].cohort_id == "C02"]
    assert (live.status == "active").all() and live.end_date.isna().all()
    c02 = t["cohorts"].set_index("cohort_id").loc["C02"]
    eight_weeks = as_of - pd.Timedelta(weeks=8)
    assert c02.start_date.dayofweek == 0  # the Monday on or before eight weeks ago
    assert eight_weeks - pd.Timedelta(days=6) <= c02.start_date <= eight_weeks
    assert c02.end_date > as_of
    for k in ("unsafe_pairs", "stalled_pairs", "conflict_pairs"):
        assert all(p.startswith("C02-") for p in d.truth[k]), k
    assert d.truth["running_cohorts"] == ["C02"]
    assert t["employees"].name.notna().all()
    pilot = d.to_pilot()  # validates, interventions included
    (stalled,) = d.truth["stalled_pairs"]
    assert (pilot.interventions.pair_id == stalled).any()
    with pytest.raises(ValueError, match="running_cohorts"):
        generate(n_cohorts=1, running_cohorts=2)
