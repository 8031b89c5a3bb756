"""rm_analytics.load_sample(): the committed sample (data/sample), generated in memory."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

import rm_analytics as rm

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_the_tables_equal_the_committed_sample():
    """Table by table, values and dtypes, the same as ``load_pilot("data/sample")`` read with
    the sample's snapshot date as today. Only the bookkeeping differs: the sources name
    DataFrames instead of files, and the quality log has no entries for the files of
    data/sample that are not tables (PARAMETERS.json, README.md)."""
    # A fresh read, not the session's shared pilot: analyses add their exclusions to a pilot's
    # quality log, so the shared one depends on which tests ran before.
    sample_pilot = rm.load_pilot(SAMPLE, today="2026-09-30")
    pilot = rm.load_sample()
    assert pilot.today == sample_pilot.today == pd.Timestamp("2026-09-30")
    assert sorted(pilot.tables) == sorted(sample_pilot.tables)
    for name, table in sample_pilot.tables.items():
        pd.testing.assert_frame_equal(pilot.tables[name], table, obj=name)
    assert pilot.extra_columns == sample_pilot.extra_columns
    read = sample_pilot.quality
    read = read[read.action.ne("ignored")]
    assert sorted(pilot.quality.table) == sorted(read.table)
    assert pilot.quality.set_index("table").rows.to_dict() == read.set_index("table").rows.to_dict()


def test_each_call_is_an_independent_copy():
    before = rm.load_sample()
    a = rm.load_sample()
    a.pairs["status"] = "paused"
    a.surveys.loc[a.surveys.index[0], "value"] = -99.0
    a.cohorts.loc[a.cohorts.index[0], "name"] = "renamed"
    a.log_quality("pairs", "analysis", "test", 1, "excluded")
    b = rm.load_sample()
    for name, table in before.tables.items():
        pd.testing.assert_frame_equal(b.tables[name], table, obj=name)
    pd.testing.assert_frame_equal(b.quality, before.quality)
    for name, table in a.tables.items():
        assert table is not b.tables[name]


def test_the_second_call_is_fast():
    rm.load_sample()  # generated and validated at most once per process
    start = time.perf_counter()
    rm.load_sample()
    assert time.perf_counter() - start < 0.5


def test_it_is_public():
    assert "load_sample" in rm.__all__
    from rm_analytics.data.sample import load_sample

    assert rm.load_sample is load_sample


def test_the_vendor_style_exports_read_back_through_a_starter_mapping(tmp_path):
    """save_sample_exports writes the roster with an HRIS's headers; the mapping that `init`
    proposes reads it back to the sample's own roster, and nothing else moved."""
    from rm_analytics.data.mapping import write_starter_mapping
    from rm_analytics.data.sample import VENDOR_ROSTER_HEADERS, save_sample_exports

    exports = save_sample_exports(tmp_path / "exports")
    header = (exports / "workers.csv").read_text().splitlines()[0].split(",")
    assert set(VENDOR_ROSTER_HEADERS.values()) <= set(header)
    assert not (exports / "employees.csv").exists()
    pilot = rm.load_pilot(config=write_starter_mapping(exports), today="2026-09-30")
    sample = rm.load_sample()
    assert pilot.sources["employees"].endswith("workers.csv")
    for name, table in sample.tables.items():
        pd.testing.assert_frame_equal(pilot.tables[name], table, obj=name)
