"""The result contract shared by every analysis."""

from __future__ import annotations

import pandas as pd
import pytest


def test_results_follow_one_contract():
    from rm_analytics.results import Note, Result

    r = Result(pd.DataFrame({"metric": ["x"], "estimate": [1.0]}), ["a"], alpha=0.05)
    r.note("b", code="no_events")
    r.note("b", code="no_events")  # once
    assert [(n, n.code) for n in r.notes] == [("a", "info"), ("b", "no_events")]
    assert r.notes_with("no_events") == ["b"]
    assert r.arguments == {"alpha": 0.05}
    with pytest.warns(DeprecationWarning, match="arguments"):
        assert r.params == {"alpha": 0.05}
    frame = r.to_frame()
    frame.loc[0, "estimate"] = 2.0
    assert r.summary.estimate.iloc[0] == 1.0
    assert r.to_dict()["notes"][1] == {"code": "no_events", "message": "b"}
    assert isinstance(Note("x"), str)


def test_notes_carry_a_code_from_the_documented_set():
    from rm_analytics.results import NOTE_CODES, Note, Result

    with pytest.raises(ValueError, match="unknown note code 'made_up'"):
        Note("x", "made_up")
    r = Result(notes=["plain", ("Nobody left.", "no_events"), Note("Welch", "method")])
    assert [n.code for n in r.notes] == ["info", "no_events", "method"]
    assert {"method", "no_events", "excluded_rows", "few_clusters", "privacy"} <= set(NOTE_CODES)
    assert "<code>no_events</code> Nobody left." in r._repr_html_()
    assert "note [no_events]: Nobody left." in repr(r)


def test_to_dict_is_plain_json():
    import json

    import numpy as np

    from rm_analytics.results import Result

    s = pd.DataFrame(
        {
            "metric": ["a", "b"],
            "estimate": [np.float64(0.5), np.nan],
            "n": pd.array([3, None], dtype="Int64"),
            "when": pd.to_datetime(["2026-01-02", None]),
        }
    )
    r = Result(s, as_of=pd.Timestamp("2026-09-30"), horizons=(6, 12))
    d = json.loads(json.dumps(r.to_dict()))
    assert d["summary"] == [
        {"metric": "a", "estimate": 0.5, "n": 3, "when": "2026-01-02T00:00:00"},
        {"metric": "b", "estimate": None, "n": None, "when": None},
    ]
    assert d["arguments"] == {"as_of": "2026-09-30T00:00:00", "horizons": [6, 12]}


def test_summary_columns_in_the_contract_order():
    from rm_analytics.results import tidy

    s = pd.DataFrame(columns=["se", "n", "estimate", "role", "metric", "p_value", "method"])
    assert list(tidy(s, ["group", "role"]).columns) == [
        "metric",
        "role",
        "estimate",
        "p_value",
        "n",
        "se",
        "method",
    ]


def test_roles_have_one_spelling_and_the_old_one_still_works():
    from rm_analytics.results import normalise_role

    assert normalise_role("mentee") == "mentee"
    with pytest.warns(DeprecationWarning, match="population='mentors' is now population='mentor'"):
        assert normalise_role("mentors", argument="population") == "mentor"
    with pytest.raises(ValueError, match="role must be one of 'mentor', 'mentee', 'both'"):
        normalise_role("juniors")


def test_renamed_fitted_attributes_warn():
    from rm_analytics.results import Result, renamed

    class R(Result):
        verdict = renamed("verdict_", "verdict")

    r = R()
    r.verdict_ = "pays back"
    with pytest.warns(DeprecationWarning, match=r"R.verdict is now R.verdict_"):
        assert r.verdict == "pays back"


def test_attempt_turns_not_enough_data_into_an_unavailable_result(sample_pilot):
    import matplotlib.pyplot as plt

    import rm_analytics as rm

    minimal = rm.Pilot({t: sample_pilot.tables[t] for t in ("employees", "cohorts", "pairs")})
    res = rm.attempt(rm.pilot_engagement, minimal)
    assert isinstance(res, rm.Unavailable) and not res
    assert res.title == "pilot_engagement"
    assert (
        res.reason
        == "the engagement analysis needs the surveys table, which the pilot data do not have"
    )
    assert res.notes_with("not_estimable") == [res.reason]
    assert res.summary.empty and res.to_dict()["notes"][0]["code"] == "not_estimable"
    assert "Not available: the engagement analysis needs" in res._repr_html_()
    ax = res.plot()
    assert [t.get_text() for t in ax.texts] == [f"Not available: {res.reason}"]
    assert not ax.axison
    plt.close("all")
    # an input that is unavailable makes what needs it unavailable, without calling it
    called = []
    roi = rm.attempt(lambda r: called.append(r), res)
    assert not roi and not called and "it needs pilot_engagement" in roi.reason
    # an available analysis is returned as it is; other errors are raised as usual
    assert isinstance(rm.attempt(rm.pilot_retention, minimal), rm.RetentionResult)
    with pytest.raises(ValueError):
        rm.attempt(rm.pilot_retention, minimal, population="nobody")
