"""Smoke test of the benchmark harness (benchmarks/run.py) on a tiny organisation.

The figures themselves are not asserted (they depend on the machine); the test checks that
every stage runs against its baseline in fresh processes and that the table and the JSON
results are complete.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def harness(bench):
    bench("stages")  # registers the stages
    return bench("harness")


@pytest.mark.slow
def test_quick_run_times_every_stage_against_its_baseline(tmp_path):
    out = tmp_path / "results.json"
    cmd = [
        sys.executable,
        str(BENCH / "run.py"),
        "--quick",
        "--employees",
        "1500",
        "--cohorts",
        "2",
        "--pairs",
        "6",
        "--repeat",
        "1",
        "--warmup",
        "0",
        # the report stages render the sample report several times (tested in test_report_*)
        "--skip",
        "report_sample,report_each_jobs2",
        "--data-root",
        str(tmp_path / "data"),
        "--out",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "median s" in proc.stdout and "load_parquet" in proc.stdout
    report = json.loads(out.read_text())
    by_name = {s["name"]: s for s in report["stages"]}
    analyses = [
        "matching",
        "retention",
        "cox_robust",
        "engagement_did",
        "skills",
        "safety_flags",
        "roi",
    ]
    assert {"load_parquet", "load_csv", "cli_help", "synthetic_generate", *analyses} <= set(by_name)
    assert "report_sample" not in by_name
    # every analysis ran against its baseline, and its agreement check passed
    for name in analyses:
        assert by_name[name]["error"] == "", by_name[name]["error"]
        assert by_name[name]["checks"], name
    assert "checks (untimed" in proc.stdout
    full = by_name["full_evaluation"]
    assert full["error"] == "" and full["max_peak_mb"] == 4096
    assert full["status"] == ("ok" if full["peak_rss_mb"] < 4096 else "MISSED")
    for name in ("load_parquet", "load_csv", "cli_help", *analyses):
        s = by_name[name]
        assert s["error"] == ""
        assert len(s["times_s"]) == 1 and len(s["baseline_times_s"]) == 1
        assert s["median_s"] > 0 and s["baseline_median_s"] > 0 and s["ratio"] > 0
        assert s["status"] in ("ok", "MISSED")
        assert 5 < s["peak_rss_mb"] < 4096
    assert by_name["cli_help"]["target_kind"] == "seconds"
    assert by_name["load_parquet"]["target_kind"] == "ratio"
    assert by_name["synthetic_generate"]["status"] == "info"
    # the data were generated once, as Parquet and CSV, and are reused
    folders = list((tmp_path / "data").iterdir())
    assert len(folders) == 1 and (folders[0] / ".complete").exists()
    assert (folders[0] / "parquet" / "surveys.parquet").exists()
    assert (folders[0] / "csv" / "surveys.csv").exists()


@pytest.mark.slow
def test_the_report_stage_runs_against_its_empty_notebook_floor(tmp_path):
    """The quick run skips the report stages; this runs the sponsor-report stage once on the
    sample, both sides (the floor once used a name the report package no longer exports)."""
    out = tmp_path / "results.json"
    cmd = [
        sys.executable,
        str(BENCH / "run.py"),
        "--only",
        "report_sample",
        "--repeat",
        "1",
        "--warmup",
        "0",
        "--data-root",
        str(tmp_path / "data"),
        "--out",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    stage = {s["name"]: s for s in json.loads(out.read_text())["stages"]}["report_sample"]
    assert stage["error"] == "", stage["error"]
    assert stage["median_s"] > 0 and stage["baseline_median_s"] > 0
    assert stage["ratio"] == pytest.approx(stage["median_s"] / stage["baseline_median_s"], rel=1e-2)
    assert stage["status"] in ("ok", "MISSED")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a missed target fails only --check


def test_registry_rejects_duplicates_and_judges_targets(harness):
    with pytest.raises(ValueError, match="registered twice"):
        harness.stage("load_parquet")(lambda ctx: None)
    r = harness.Result("x", "", target=1.25, absolute=False, times_s=[2.0, 1.0, 3.0])
    r.baseline_times_s = [1.0, 1.0, 2.0]
    assert r.median_s == 2.0 and r.ratio == 2.0 and r.status == "MISSED"
    r.baseline_times_s = [2.0]
    assert r.status == "ok"
    a = harness.Result("help", "", target=0.5, absolute=True, times_s=[0.2])
    assert a.status == "ok"
    info = harness.Result("gen", "", target=None, absolute=False, times_s=[1.0])
    assert info.status == "info"
    mem = harness.Result(
        "all", "", target=None, absolute=False, times_s=[9.0], max_peak_mb=4096, peak_rss_mb=5000.0
    )
    assert mem.status == "MISSED"
    mem.peak_rss_mb = 3000.0
    assert mem.status == "ok"
    assert "<4 GB" in harness.table([mem])
    text = harness.table([r, a, info]).splitlines()
    assert len(text) == 5 and "1.25x" in text[2] and "<0.5 s" in text[3] and "info" in text[4]
