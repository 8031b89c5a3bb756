"""The program lead's view of the sample, rendered through papermill mid-cohort (cohort C03 is
running at the sample's as-of date), and the sponsor report of the same sample, which must
show none of it."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from test_lead_report import assert_clean, page_text

from rm_analytics.metrics.safety import FLAG_CODES
from rm_analytics.report.collector import read_metrics
from rm_analytics.report.runner import render

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def truth(sample_dir) -> dict:
    return json.loads((sample_dir / "PARAMETERS.json").read_text())["truth"]


@pytest.fixture(scope="module")
def lead(tmp_path_factory, sample_dir):
    (rep,) = render(
        sample_dir, tmp_path_factory.mktemp("lead"), audience="program-lead", quiet=True
    )
    body = re.sub(r"<(style|script)\b.*?</\1>", "", rep.html.read_text(), flags=re.S)
    return rep, body, read_metrics(rep.metrics)


@pytest.fixture(scope="module")
def sponsor(tmp_path_factory, sample_dir):
    (rep,) = render(sample_dir, tmp_path_factory.mktemp("sponsor"), audience="sponsor", quiet=True)
    return rep


def table_rows(body: str, section: str, caption: str) -> list[list[str]]:
    """The cells of the table with ``caption`` in section ``section``, row by row."""
    sec = re.search(rf'id="section-{section}">(.*?)</section>', body, re.S).group(1)
    cap = re.escape(caption)
    table = re.search(rf"<caption>{cap}</caption>(.*?)</table>", sec, re.S).group(1)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("</thead>")[-1], re.S)
    return [[page_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


def test_the_sample_is_mid_cohort(lead, truth):
    _, _, metrics = lead
    assert truth["running_cohorts"] == ["C03"]
    assert metrics["report"]["as_of"] < "2026-10-23"  # C03's planned end
    assert metrics["metrics"]["pairs_running"]["estimate"] == 12


def test_this_week_planted_pairs_first_with_the_right_action(lead, truth):
    _, body, metrics = lead
    text = page_text(body)
    assert text.index("This week: pairs that need you") < text.index("Every pair")
    rows = table_rows(body, "this_week", "This week's list (running pairs that need action)")
    order = [r[1] for r in rows]
    assert len(order) == len(set(order))  # each pair once
    planted = ("conflict_pairs", "unsafe_pairs", "stalled_pairs")
    (conflict,), (unsafe,), (stalled,) = (truth[k] for k in planted)
    assert order[:3] == [conflict, unsafe, stalled]
    action = {r[1]: r[5] for r in rows}
    assert action[conflict].startswith("Rematch before anything else")
    assert action[unsafe].startswith("Pause the pair and talk to both separately")
    assert action[stalled].startswith(("Reshuffle", "Re-energise"))
    assert [r[4] for r in rows[:3]] == ["Act now"] * 3
    running = {p["pair_id"] for p in metrics["pairs"] if p["state"] == "running"}
    assert set(order) <= running
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]


def test_every_started_pair_once_ended_pairs_without_actions(lead, sample_pilot):
    _, body, metrics = lead
    ids = sample_pilot.pairs.pair_id.astype(str).tolist()
    pairs = metrics["pairs"]
    assert sorted(p["pair_id"] for p in pairs) == sorted(ids)  # every pair started by as_of
    section = page_text(re.search(r'id="section-pair_list">(.*?)</section>', body, re.S).group(1))
    for pid in ids:
        assert len(re.findall(rf"\b{pid}\b", section)) == 1, pid
    ended = [p for p in pairs if p["state"] == "ended"]
    assert len(ended) == 24
    assert all(p["action"] is None and p["priority"] is None for p in ended)
    history = table_rows(body, "pair_list", "History: ended pairs (no action)")
    assert len(history) == 24
    week = page_text(re.search(r'id="section-this_week">(.*?)</section>', body, re.S).group(1))
    assert not re.search(r"\bC0[12]-P\d\d\b", week)  # the ended cohorts are history only


def test_intervention_addresses_a_flag_and_a_later_flag_reopens_it(lead, truth):
    _, body, metrics = lead
    (stalled,) = truth["stalled_pairs"]
    entry = next(p for p in metrics["pairs"] if p["pair_id"] == stalled)
    assert "STALLED" in entry["addressed_flags"] and "STALLED" in entry["open_flags"]
    said = " ".join(entry["evidence"])
    assert re.search(r"Stalled \(raised \d{4}-\d\d-\d\d\) was addressed by the check-in on", said)
    assert "no held session in the" in said and "since the check-in on" in said
    log = table_rows(body, "interventions", "Intervention log (latest first)")
    mine = [r for r in log if r[1] == stalled]
    assert mine and mine[0][2] == "check-in" and "stalled" in mine[0][4]


def test_page_has_no_missing_markers_or_codes(lead):
    _, body, _ = lead
    text = page_text(body)
    assert "CONFIDENTIAL" in text
    assert_clean(text)


def test_metrics_json_pairs_list(lead):
    _, _, metrics = lead
    keys = {"pair_id", "cohort_id", "mentor", "mentee", "state", "health", "open_flags"}
    keys |= {"addressed_flags", "action", "since", "evidence"}
    assert all(keys <= set(p) for p in metrics["pairs"])
    healths = {p["health"] for p in metrics["pairs"]}
    assert healths <= {"act_now", "needs_check_in", "too_early", "on_track"}
    assert all(not re.fullmatch(r"E\d{6}", p["mentor"]) for p in metrics["pairs"])  # names


def test_sponsor_report_shows_no_pair_level_content(sponsor, sample_pilot, sample_dir):
    html = sponsor.html.read_text()
    metrics_text = sponsor.metrics.read_text()
    assert "pairs" not in json.loads(metrics_text)
    text = page_text(re.sub(r"<(style|script)\b.*?</\1>", "", html, flags=re.S))
    for doc in (text, metrics_text):
        assert not re.search(r"\bC\d\d-P\d\d\b", doc)  # pair ids
        assert not re.search(r"\bE\d{6}\b", doc)  # employee ids
        for code in FLAG_CODES:
            assert code not in doc
    names = set(sample_pilot.employees.name.dropna())
    assert names and not [n for n in names if n in text]
    notes = set(pd.read_csv(sample_dir / "interventions.csv").note.dropna())
    assert notes and not [n for n in notes if n in text or n in metrics_text]
    for code in ("act_now", "needs_check_in", "CADENCE_SLIPPING"):
        assert code not in text
