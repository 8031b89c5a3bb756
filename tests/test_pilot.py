"""The Pilot container: snapshot date, copies, cohort selection."""

from __future__ import annotations

import pandas as pd

import rm_analytics as rm
from rm_analytics.data.pilot import snapshot_date


def test_snapshot_date_ignores_planned_end_dates(sample_pilot):
    tables = dict(sample_pilot.tables)
    recorded = snapshot_date(tables)
    # the sample's last recorded event; cohort C03 runs on to its planned end 2026-10-23
    assert recorded == pd.Timestamp("2026-09-30")
    future = tables["cohorts"].copy()
    future.loc[future.index[-1], "end_date"] = pd.Timestamp("2027-06-30")  # a planned end
    pairs = tables["pairs"].copy()
    pairs["end_date"] = pd.Timestamp("2027-06-30")
    assert snapshot_date({**tables, "cohorts": future, "pairs": pairs}) == recorded
    assert pd.isna(snapshot_date({"cohorts": future[["cohort_id"]]}))


def test_copy_has_its_own_quality_log(sample_pilot):
    p = sample_pilot.copy()
    p.log_quality("pairs", "test", "probe", 1, "excluded", "probe")
    assert "probe" in set(p.quality.check) and "probe" not in set(sample_pilot.quality.check)
    assert p.pairs is sample_pilot.pairs


def test_select_restricts_pair_tables(sample_pilot):
    one = sample_pilot.select("C01")
    assert set(one.pairs.cohort_id) == {"C01"}
    assert set(one.sessions.pair_id) <= set(one.pairs.pair_id)
    assert len(one.employees) == len(sample_pilot.employees)  # organisation-wide tables whole


def test_a_selection_saved_reads_back_unchanged(tmp_path):
    """A cohort chosen with select() and saved is a valid pilot: outcomes about another
    cohort's pair (and no person) leave with that cohort; outcomes about people stay."""
    pilot = rm.load_sample()
    o = pilot.outcomes
    about_pairs = o[o.pair_id.notna() & o.employee_id.isna()]
    assert len(about_pairs) and not about_pairs.pair_id.str.startswith("C01").all()
    one = pilot.select("C01")
    assert set(one.outcomes.pair_id.dropna()) <= set(one.pairs.pair_id)
    assert one.outcomes.employee_id.notna().sum() == o.employee_id.notna().sum()
    one.save(tmp_path)
    back = rm.load_pilot(tmp_path, today=one.today)
    for name, table in one.tables.items():
        # the order of survey waves is derived from the answers present, so it is re-derived
        pd.testing.assert_frame_equal(
            back.tables[name].reset_index(drop=True),
            table.reset_index(drop=True),
            obj=name,
            check_categorical=False,
        )
