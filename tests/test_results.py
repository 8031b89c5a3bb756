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
