"""External benchmarks: provenance, labelling, and never feeding the ROI."""

from __future__ import annotations

import inspect

from rm_analytics import external as X
from rm_analytics import roi as R


def test_external_benchmarks_columns_and_label():
    df = X.external_benchmarks()
    assert list(df.columns) == X.BENCHMARK_COLUMNS
    assert df.attrs["label"] == "context only, not comparable, never used in ROI"
    assert (df["use"] == X.CONTEXT_LABEL).all()
    # every row says where it was read and whether a control existed
    assert df["reported_in"].str.len().gt(0).all()
    assert df["source"].str.len().gt(0).all()
    assert df["control_group"].dtype == bool
    assert not df["control_group"].any()  # none of the published figures had a control group


def test_pershing_row():
    df = X.external_benchmarks()
    row = df[df.benchmark.str.contains("Pershing")].iloc[0]
    assert row.value == 0.96
    assert not row.control_group
    assert row.second_hand
    assert "Harvard Business Review" in row.citation and "2019" in row.citation


def test_sources_are_real_publications_not_internal_files():
    df = X.external_benchmarks()
    text = " ".join(df.astype(str).to_numpy().ravel())
    for internal in ("seed 0", "machine-reworded", "domain brief", "source material"):
        assert internal not in text
    assert df.citation.str.contains(r"\(\d{4}\)").all()  # author (year). title


def test_benchmarks_are_never_used_in_roi():
    src = inspect.getsource(R)
    assert "external_benchmarks" not in src
    assert "from .external" not in src and "import external" not in src


def test_replacement_cost_sources_match_roi_defaults():
    df = X.replacement_cost_benchmarks()
    assert list(df.columns) == X.REPLACEMENT_COLUMNS
    cap = df[df.source.str.contains("Center for American Progress")].iloc[0]
    assert cap.share_low == R.DEFAULT_REPLACEMENT_SHARE == 0.21
    gallup = df[df.source.str.startswith("Gallup")].iloc[0]
    assert (gallup.share_low, gallup.share_high) == R.REPLACEMENT_SHARE_RANGE
