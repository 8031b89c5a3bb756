"""Privacy of the sponsor output as a whole set: the minimum group size, complementary cells,
figures, differencing across cohorts and across runs, the identifier scan.

Each case is built here from the synthetic generator (small cohorts, one more answer, one more
exit) or by hand; the rules are in ``rm_analytics/report/privacy.py`` and
``docs/reliability.md`` ("Privacy").
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from rm_analytics.report.collector import MetricsCollector
from rm_analytics.report.privacy import (
    PrivacyError,
    PrivacyPolicy,
    check_privacy,
    complement_line,
    differencing_ids,
    protect_counts,
    release_waves,
    small_cohorts,
)

K = 5


# -- builders -------------------------------------------------------------------------------------
def organisation(*, small: int | None = 3, seed: int = 7, running: int = 0, **kw):
    """Three cohorts of 10 pairs from the generator; with ``small`` the last one keeps only
    that many pairs (and two controls per pair)."""
    from rm_analytics.data.synthetic import generate

    gen = generate(
        n_employees=600,
        n_cohorts=3,
        pairs_per_cohort=10,
        seed=seed,
        running_cohorts=running,
        unsafe_pairs=0,
        stalled_pairs=0,
        conflict_pairs=0,
        **kw,
    )
    if small is not None:
        t = {k: v.copy() for k, v in gen.tables.items()}
        p = t["pairs"]
        drop = set(p[p.cohort_id == "C03"].pair_id.iloc[small:])
        t["pairs"] = p[~p.pair_id.isin(drop)]
        for name in ("sessions", "checkpoints", "interventions", "surveys", "outcomes"):
            if name in t and "pair_id" in t[name]:
                t[name] = t[name][~t[name].pair_id.isin(drop)]
        c = t["control"]
        t["control"] = c.drop(c[c.cohort_id == "C03"].index[2 * small :])
        gen.tables = t
    return gen


def sponsor_report(pilot, as_of, **params):
    from rm_analytics.report.document import Report
    from rm_analytics.report.parameters import ReportParameters

    day = pd.Timestamp(as_of)
    return Report("sponsor", pilot.as_of(day), ReportParameters(data="unused", **params), day)


def visible(report) -> str:
    """Everything a sponsor reads in the report, as text."""
    from rm_analytics.report.document import PARTS

    parts = [report.header_html(), report.executive_summary_html()]
    parts += [report.part_html(p) for p in PARTS]
    page = re.sub(r"<img[^>]*>", " ", "".join(parts))
    import html

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# -- the minimum group size ------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, 1, 4, True, "5"])
def test_the_sponsor_minimum_group_cannot_go_below_5(value):
    with pytest.raises(ValueError, match="min_cell_size"):
        PrivacyPolicy.for_audience("sponsor", value)
    assert PrivacyPolicy.for_audience("sponsor", 7).min_group == 7
    # the confidential views do not suppress (and are never sponsor output)
    assert not PrivacyPolicy.for_audience("program-lead", 5).active


def test_the_wave_window_is_a_whole_number_of_days():
    from rm_analytics.report.parameters import check_parameter_values

    assert check_parameter_values({"survey_window_days": 21}) == []
    for bad in (0, -3, 2.5, True, 400):
        (problem,) = check_parameter_values({"survey_window_days": bad})
        assert "survey_window_days" in problem and "whole number of days" in problem


def test_a_hidden_metric_carries_no_estimate_interval_p_value_or_n():
    m = MetricsCollector(report={"audience": "sponsor"})
    small = m.add("share", 0.5, 0.2, 0.8, label="Share", unit="share", n=4, p_value=0.3)
    assert small.suppressed and small.display == "hidden (fewer than 5 people)"
    assert (small.estimate, small.ci_low, small.ci_high, small.p_value, small.n) == (None,) * 5
    # a comparison is hidden when either group is small, whatever the total
    cmp = m.add("diff", 0.1, 0.0, 0.2, label="Diff", unit="pp", n=40, groups=[36, 4])
    assert cmp.suppressed and cmp.n is None
    # everyone answered 4: "4.00 (4.00 to 4.00)" says what each person answered
    same = m.add("rating", 4.0, 4.0, 4.0, label="Rating", unit="number", n=12, digits=2)
    assert same.suppressed and same.display == "hidden (all answers the same)"
    shown = m.add("rating2", 4.0, 3.5, 4.5, label="Rating", unit="number", n=12, digits=2)
    assert shown.display == "4.00 (3.50 to 4.50)" and shown.n == 12
    # counts of people from 1 to 4 are hidden, zero is not
    assert m.add("c", 3, label="People", unit="people").suppressed
    assert m.add("z", 0, label="People", unit="people").display == "0"
    # the program lead's collector shows everything
    lead = MetricsCollector(min_cell_size=None)
    assert lead.add("share", 0.5, 0.2, 0.8, label="Share", unit="share", n=4).n == 4


# -- complementary cells ---------------------------------------------------------------------------
def _bounds(values: np.ndarray, hidden: np.ndarray) -> list[tuple[float, float]]:
    """What a reader can work out about each hidden cell of a line whose total is shown: the
    smallest and largest value consistent with the total and the shown cells (cells >= 0)."""
    from scipy.optimize import linprog

    rest = float(values[hidden].sum())
    n = int(hidden.sum())
    out = []
    for i in range(n):
        c = np.zeros(n)
        c[i] = 1.0
        lo = linprog(c, A_eq=np.ones((1, n)), b_eq=[rest], bounds=[(0, None)] * n).fun
        hi = -linprog(-c, A_eq=np.ones((1, n)), b_eq=[rest], bounds=[(0, None)] * n).fun
        out.append((lo, hi))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_no_hidden_count_can_be_worked_out_from_the_totals(seed):
    """Random tables of people counts (cohorts x groups, the totals shown): after the policy,
    no hidden cell is determined by its column's total and shown cells, and a small cell
    could be 5 or more as far as the reader can tell."""
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 7))
    table = pd.DataFrame(
        rng.choice([0, 1, 2, 3, 4, 6, 9, 12, 20], size=(rows, 3)),
        columns=["Mentors", "Mentees", "Control"],
    )
    mask, total_hidden = protect_counts(table, K)
    assert ((table > 0) & (table < K))[~mask].sum().sum() == 0  # every small cell is hidden
    for col in table.columns:
        v, h = table[col].to_numpy(float), mask[col].to_numpy()
        if not h.any() or total_hidden[col]:
            continue  # nothing hidden, or the total is hidden too
        bounds = _bounds(v, h)
        for (lo, hi), value in zip(bounds, v[h], strict=True):
            assert hi - lo >= 1, (col, table[col].tolist(), mask[col].tolist())
            if 0 < value < K:
                assert hi >= K
    # a one-line table: its only cell is the total, hidden when small
    assert complement_line([3], [True], K)[1] is True


def test_linked_counts_are_hidden_together():
    """Pairs, mentors and mentees of a cohort give each other: one small, all hidden."""
    t = pd.DataFrame({"Pairs": [10, 3, 8], "Mentors": [10, 3, 8], "Controls": [20, 6, 16]})
    mask, _ = protect_counts(t, K, linked=[list(t.columns)])
    assert mask.loc[1].all()  # the small cohort's row, controls included
    assert mask.loc[2].all() and not mask.loc[0].any()  # next smallest cohort protects it


def test_a_breakdown_with_an_overall_row_hides_a_second_part():
    """Engagement by role with "all participants": mentors (3) hidden, and the mentees too,
    since all minus mentees would give the mentors."""
    s = pd.DataFrame(
        {
            "outcome": ["eng"] * 3 + ["intent"] * 3,
            "role": ["mentor", "mentee", "all"] * 2,
            "estimate": [0.1, 0.2, 0.15, 0.3, 0.1, 0.2],
            "ci_low": [-0.2, 0.0, 0.0, 0.0, -0.1, 0.0],
            "ci_high": [0.4, 0.4, 0.3, 0.6, 0.3, 0.4],
            "n_treated": [3, 20, 23, 8, 20, 28],
            "n_control": [40] * 6,
        }
    )
    hidden = PrivacyPolicy(K).rows(
        "engagement",
        s,
        id_cols=["outcome", "role"],
        n_cols=["n_treated", "n_control"],
        parts={"all": ["mentor", "mentee"]},
        part_col="role",
        line_cols=["outcome"],
    )
    assert hidden.tolist() == [True, True, False, False, False, False]
    # one part only (the other missing): the overall row would be that part, so it goes too
    one = s[s.role != "mentee"].reset_index(drop=True)
    hidden = PrivacyPolicy(K).rows(
        "engagement",
        one,
        id_cols=["outcome", "role"],
        n_cols=["n_treated", "n_control"],
        parts={"all": ["mentor", "mentee"]},
        part_col="role",
        line_cols=["outcome"],
    )
    assert hidden.tolist() == [True, True, False, False]


# -- figures ---------------------------------------------------------------------------------------
def test_the_sponsor_survival_figure_shows_no_single_exit(synthetic_completed):
    """A pilot's Kaplan-Meier figure for sponsors: no step of one exit, no censoring tick,
    points only every 6 months while 5 or more are followed, numbers at risk rounded to 5."""
    import matplotlib.pyplot as plt

    from rm_analytics import pilot_retention

    pilot = synthetic_completed.to_pilot()
    r = pilot_retention(pilot, horizons=(6, 12))
    tab = r.km_["treated"]
    assert (tab.n_event[tab.n_event > 0] < K).any()  # the pilot has steps of one or two exits
    ax = r.plot(min_group=K, statistics=False)
    lines = ax.get_lines()
    assert not [ln for ln in lines if ln.get_drawstyle().startswith("steps")]
    assert not [ln for ln in lines if ln.get_marker() == "|"]  # no censoring tick
    points = 0
    for ln in lines:
        x = np.asarray(ln.get_xdata(), float)
        if x.size and ln.get_marker() == "o":
            points += x.size
            assert np.allclose(np.round(x / 6) * 6, x, atol=0.5)  # the 6-month grid (dodged)
    assert points, "no retention point drawn"
    followed = [t.get_text() for t in ax.texts if re.fullmatch(r"[\d,]+|hidden", t.get_text())]
    assert followed and all(t == "hidden" or int(t.replace(",", "")) % 5 == 0 for t in followed)
    # the analyst's figure draws the steps and ticks (so the checks above can fail)
    plt.close("all")
    full = r.plot(statistics=False)
    assert [ln for ln in full.get_lines() if ln.get_drawstyle().startswith("steps")]
    assert [ln for ln in full.get_lines() if ln.get_marker() == "|"]
    plt.close("all")


def test_hidden_rows_are_drawn_as_hidden_not_left_out(synthetic_completed):
    import matplotlib.pyplot as plt

    from rm_analytics import pilot_skills

    r = pilot_skills(synthetic_completed.to_pilot())
    hidden = np.zeros(len(r.summary), bool)
    hidden[0] = True
    ax = r.plot(hidden=hidden)
    assert [t for t in ax.texts if t.get_text() == "hidden"]
    assert len(ax.get_yticks()) == int(r.summary.estimate.notna().sum())  # the row stays
    plt.close("all")


# -- notes and words ------------------------------------------------------------------------------
def test_notes_for_sponsors_lose_small_counts_not_methods():
    p = PrivacyPolicy(K)
    note = (
        "RMST difference: permutation test, because a group had fewer than 10 exits by tau = "
        "12 (participants 2, controls 3), where the Wald interval is too narrow. With 11 "
        "event(s) (1 treated, 10 control) the comparison has 80% power. 1 of 36 pair(s) have "
        "no week-6 check. Ratings 1-5 with t intervals; off track at or below 2."
    )
    out = p.sponsor_note(note)
    assert "participants 2" not in out and "1 treated" not in out and "1 of 36" not in out
    assert "fewer than 10 exits by tau = 12, where" in out and "With 11 event(s) the" in out
    assert "Ratings 1-5 with t intervals; off track at or below 2." in out
    assert PrivacyPolicy(K, active=False).sponsor_note(note) == note


def test_hidden_figures_are_never_spliced_into_sentences():
    from rm_analytics.report.language import sponsor_text_problems

    assert sponsor_text_problems("The skills rose by fewer than 5 points.")
    assert sponsor_text_problems("Engagement moved by hidden points.")
    assert not sponsor_text_problems("The skill gain is hidden (fewer than 5 people).")


# -- the last net: identifiers --------------------------------------------------------------------
def _renamed(pilot_tables: dict, mapping: dict) -> dict:
    out = {}
    for name, df in pilot_tables.items():
        df = df.copy()
        for col in ("employee_id", "mentor_id", "mentee_id", "respondent_id", "manager_id"):
            if col in df:
                df[col] = df[col].map(lambda v: mapping.get(v, v))
        out[name] = df
    return out


def test_ids_with_spaces_and_punctuation_are_caught(synthetic_completed):
    from rm_analytics import Pilot

    t = synthetic_completed.tables
    ids = list(t["employees"].employee_id)
    mapping = {e: f"Sales {i:04d}" if i % 2 else f"o'brien-{i}.x" for i, e in enumerate(ids)}
    tables = _renamed(t, mapping)
    for name in ("pairs", "sessions", "checkpoints", "surveys", "interventions", "outcomes"):
        if name in tables and "pair_id" in tables[name]:  # C01-P07 -> "C01 / pair 07"
            tables[name] = tables[name].assign(
                pair_id=lambda d: d.pair_id.str.replace("-P", " / pair ", regex=False)
            )
    pilot = Pilot.from_frames(today="2026-09-30", **tables)
    someone = tables["pairs"].mentor_id.iloc[0]
    with pytest.raises(PrivacyError, match="employee id"):
        check_privacy(f"<td>{someone}</td>", pilot)
    with pytest.raises(PrivacyError, match="employee id"):  # spread over a line break
        check_privacy(f"<p>{someone.replace(' ', chr(10))} met</p>", pilot)
    with pytest.raises(PrivacyError, match="pair id"):
        check_privacy(f"<li>{tables['pairs'].pair_id.iloc[0]} is stalled</li>", pilot)
    # whole values only: the words of an id, or a longer number, are not an id
    check_privacy("<p>Sales grew; 10 of 12 pairs; Sales 00011 is not an id.</p>", pilot)


# -- differencing across runs: survey waves count once closed --------------------------------------
def test_waves_count_once_closed_so_one_more_answer_changes_nothing():
    """Day by day through a wave's window: the answers a sponsor report may use never change
    by one person; the whole wave arrives when it closes."""
    gen = organisation(small=None, running=1)
    pilot = gen.to_pilot()
    sv = pilot.surveys
    fb = sv[(sv.survey == "feedback") & sv.pair_id.astype(str).str.startswith("C03")]
    first = pd.to_datetime(fb.response_date).min()
    seen = []
    for day in pd.date_range(first - pd.Timedelta(days=2), first + pd.Timedelta(days=30)):
        released, _ = release_waves(pilot.as_of(day), day, 21)
        r = released.surveys
        mine = r[(r.survey == "feedback") & r.pair_id.astype(str).str.startswith("C03")]
        seen.append(mine.respondent_id.nunique())
    steps = np.diff(seen)
    assert set(steps[steps != 0]) and all(s >= K for s in steps[steps != 0]), seen


@pytest.mark.slow
def test_two_runs_differing_by_one_answer_give_the_same_sponsor_report():
    """Run B has one more feedback answer than run A: in the wave still open, and late after
    a closed wave. The sponsor's figures, words and metrics are the same."""
    gen = organisation(small=None, running=1)
    a = gen.to_pilot()
    as_of = gen.params.as_of
    sv = gen.tables["surveys"]
    fb = sv[sv.survey == "feedback"]
    rows = []
    for cohort, late in (("C03", 0), ("C01", 40)):
        wave = fb[fb.pair_id.str.startswith(cohort)]
        wave = wave[wave.wave == wave.wave.iloc[-1]]
        answered = set(wave.respondent_id)
        p = gen.tables["pairs"]
        p = p[p.cohort_id == cohort]
        who = next(e for e in [*p.mentor_id, *p.mentee_id] if e not in answered)
        pair = p[(p.mentor_id == who) | (p.mentee_id == who)].pair_id.iloc[0]
        one = wave[wave.respondent_id == wave.respondent_id.iloc[0]].copy()
        day = pd.to_datetime(wave.response_date).max() + pd.Timedelta(days=late)
        one = one.assign(respondent_id=who, pair_id=pair, response_date=day.strftime("%Y-%m-%d"))
        rows.append(one)
    from rm_analytics import Pilot

    b = Pilot.from_frames(today=as_of, **{**gen.tables, "surveys": pd.concat([sv, *rows])})
    ra, rb = sponsor_report(a, as_of, cohort="all"), sponsor_report(b, as_of, cohort="all")
    assert len(b.surveys) == len(a.surveys) + sum(len(r) for r in rows)
    assert ra.metrics.to_json() == rb.metrics.to_json()
    assert visible(ra) == visible(rb)
    # the analyst's figures (no policy) do see the new answers: the check above can fail
    from rm_analytics.metrics.reaction import pilot_reaction

    assert not pilot_reaction(a.as_of(as_of)).summary.equals(pilot_reaction(b.as_of(as_of)).summary)


@pytest.mark.slow
def test_two_runs_differing_by_one_exit_show_no_count_date_or_step_of_it():
    """Run B has one more voluntary exit (a mentor of C01) than run A. Counts of people do
    not move, no count of exits appears, the figure keeps its 6-month points; the retention
    shares do change (the documented limit: a report shows retention)."""
    gen = organisation(small=None)
    as_of = gen.params.as_of
    e = gen.tables["employees"].copy()
    p = gen.tables["pairs"]
    stay = e.set_index("employee_id").termination_date.isna()
    who = next(m for m in p[p.cohort_id == "C01"].mentor_id if stay.get(m, False))
    start = pd.Timestamp(gen.tables["cohorts"].set_index("cohort_id").start_date["C01"])
    e.loc[e.employee_id == who, "termination_date"] = (start + pd.DateOffset(months=4)).strftime(
        "%Y-%m-%d"
    )
    e.loc[e.employee_id == who, "termination_type"] = "voluntary"
    from rm_analytics import Pilot

    a = gen.to_pilot()
    b = Pilot.from_frames(today=as_of, **{**gen.tables, "employees": e})
    ra, rb = sponsor_report(a, as_of), sponsor_report(b, as_of)
    ma, mb = ra.metrics.metrics, rb.metrics.metrics
    for key, m in ma.items():
        if m.unit in ("people", "count"):
            assert (m.display, m.n) == (mb[key].display, mb[key].n), key
    changed = {k for k in ma if ma[k].display != mb[k].display}
    follow_up = (
        "retention",
        "hazard",
        "roi",
        "break_even",
        "synthesis",
        "sequential",
        "probability_benefit_retention",
        "promotion",
    )
    assert "retention_participants" in changed
    assert changed <= {k for k in ma if k.startswith(follow_up)}, changed
    text = visible(rb)
    assert not re.search(r"(?<![\d.,])[1-4] (?:treated|control|exits?|leavers?)\b", text)
    assert not re.search(r"\((?:participants|treated) [1-4],", text)


# -- differencing across cohorts -----------------------------------------------------------------
def test_a_lone_small_cohort_is_left_out_of_pooled_figures():
    gen = organisation(small=3)
    pilot = gen.to_pilot()
    assert small_cohorts(pilot, K) == (["C01", "C02"], ["C03"])
    two_small = organisation(small=3).to_pilot().select(["C03"])
    assert small_cohorts(two_small, K) == (["C03"], [])  # the whole report: nothing to pool
    assert differencing_ids({"C01": {"x": (10, False)}, "C02": {"x": (9, True)}}, K) == {"x"}


@pytest.mark.slow
def test_pooled_minus_the_cohorts_gives_no_hidden_figure():
    """Cohort C02 has only 3 answers at its last feedback and C03 has 3 pairs. For every
    figure of the pooled sponsor report: when one cohort's own report hides it, the pooled
    report hides it too, so pooled minus the others gives nothing hidden."""
    from rm_analytics import Pilot

    gen = organisation(small=3)
    sv = gen.tables["surveys"]
    c02 = sv[(sv.survey == "feedback") & sv.pair_id.astype(str).str.startswith("C02")]
    last = c02[c02.wave == c02.wave.iloc[-1]]
    keep = set(last.respondent_id.drop_duplicates().iloc[:3])
    sv = sv.drop(last[~last.respondent_id.isin(keep)].index)
    pilot = Pilot.from_frames(today=gen.params.as_of, **{**gen.tables, "surveys": sv})
    as_of = gen.params.as_of
    pooled = sponsor_report(pilot, as_of).metrics.to_dict()
    own = {c: sponsor_report(pilot.select(c), as_of).metrics.to_dict() for c in ("C01", "C02")}
    assert pooled["report"]["left_out_cohorts"] == ["C03"]
    assert own["C02"]["metrics"]["recommend_share"]["suppressed"]  # 3 respondents
    for key, m in pooled["metrics"].items():
        hidden = [
            c for c in own if key in own[c]["metrics"] and own[c]["metrics"][key]["suppressed"]
        ]
        if len(hidden) == 1:
            assert m["suppressed"], key
    # counts: the pooled count is the sum of the shown cohorts' counts (C03 left out)
    for key in ("mentors", "mentees", "pairs"):
        assert pooled["metrics"][key]["estimate"] == sum(
            own[c]["metrics"][key]["estimate"] for c in own
        )
    # every figure shown anywhere rests on 5 or more people
    for d in (pooled, *own.values()):
        for key, m in d["metrics"].items():
            assert m["suppressed"] or m["n"] is None or m["n"] >= K, key


# -- the reports as published: a 3-pair cohort, per cohort and pooled -------------------------------
@pytest.fixture(scope="module")
def small_cohort_reports(tmp_path_factory):
    """The pooled report and one report per cohort of an organisation whose third cohort
    has 3 pairs, rendered as a sponsor gets them (4 renders)."""
    from rm_analytics.report.collector import read_metrics
    from rm_analytics.report.runner import render

    gen = organisation(small=3)
    data = tmp_path_factory.mktemp("small-cohort") / "data"
    gen.write(data)
    out = tmp_path_factory.mktemp("small-cohort-out")
    kw = {"today": gen.params.as_of, "quiet": True}
    reps = render(data, out, cohort="each", jobs=2, **kw) + render(data, out, **kw)
    by = {}
    for rep in reps:
        m = read_metrics(rep.metrics)
        by[m["report"]["cohort"]] = (rep.html.read_text(encoding="utf-8"), m)
    return by


def _page_text(page: str) -> str:
    import html

    for pattern in (
        r"<style.*?</style>",
        r"<script.*?</script>",
        r"<img[^>]*>",
        r"<head.*?</head>",
    ):
        page = re.sub(pattern, " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.mark.slow
def test_a_three_pair_cohort_report_shows_no_figure_about_them(small_cohort_reports):
    page, m = small_cohort_reports["C03"]
    text = _page_text(page)
    # no count of 3 pairs (or 3 mentors, 6 controls: they give the pairs away) anywhere
    for key in ("pairs", "mentors", "mentees", "control_group", "pairs_completed_share"):
        assert m["metrics"][key]["suppressed"] and m["metrics"][key]["n"] is None, key
    assert not re.search(r"\bpairs: 3\b|\b3 pairs\b|Pairs \| 3\b", text)
    table = page[page.index('id="section-glance"') :].split("</table>", 1)[0]
    assert re.findall(r"<td>(?:3|6)</td>", table) == []
    # every figure about the participants is hidden as a whole, with the reason
    about_people = ("reaction", "skills", "goals", "retention", "engagement", "roi", "power")
    assert set(about_people) <= set(m["sections"])
    for key, sec in m["sections"].items():
        if key in about_people:
            assert sec["status"] == "unavailable" and "fewer than 5 pairs" in sec["reason"], key
    assert "<img" not in page
    # no interval of no width, no number shown from fewer than 5 people
    assert not re.search(r"(\d+(?:\.\d+)?) \(\1 to \1\)", text)
    for key, metric in m["metrics"].items():
        assert metric["suppressed"] or metric["n"] is None or metric["n"] >= K, key
    from rm_analytics.report.language import sponsor_text_problems

    assert not [p for p in sponsor_text_problems(text, appendix=True) if "spliced" in p]


@pytest.mark.slow
def test_pooled_report_minus_the_cohort_reports_reveals_nothing(small_cohort_reports):
    _, pooled = small_cohort_reports["all"]
    own = {c: small_cohort_reports[c][1] for c in ("C01", "C02", "C03")}
    assert pooled["report"]["left_out_cohorts"] == ["C03"]
    for key in ("pairs", "mentors", "mentees", "control_group"):
        # the pooled count is the shown cohorts' sum: subtracting them leaves nothing
        assert pooled["metrics"][key]["estimate"] == sum(
            own[c]["metrics"][key]["estimate"] for c in ("C01", "C02")
        )
    for key, m in pooled["metrics"].items():
        if m["suppressed"]:
            continue
        hidden = [
            c for c in ("C01", "C02") if own[c]["metrics"].get(key, {}).get("suppressed", False)
        ]
        assert len(hidden) != 1, key  # one cohort hides it: the pooled figure would give it
    page, _ = small_cohort_reports["all"]
    assert "C03" in _page_text(page) and "fewer than 5 pairs" in _page_text(page)


@pytest.mark.slow
def test_goal_ratings_are_hidden_check_by_check(sample_pilot):
    """The sample's goal checks each have a rating given by fewer than 5 pairs: with the
    check's pairs, mean and share off track in the table, the others would give it away, so
    the spread is not drawn at all (a sentence says why); the analyst still has it."""
    from rm_analytics.metrics.goals import pilot_goals

    r = sponsor_report(sample_pilot, "2026-09-30")
    goals = r.results["goals"]
    assert goals.figures == [] and "How the ratings spread is not shown" in " ".join(goals.text)
    dist = pilot_goals(sample_pilot.as_of("2026-09-30")).distribution_
    assert dist.n_pairs.between(1, 4).any()
