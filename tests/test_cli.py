"""The command line: exit codes, messages without tracebacks, lazy imports, sample data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rm_analytics.cli import run

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rm_analytics.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=300,
    )


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "from rm_analytics.cli import build_parser\n"
        "try:\n    build_parser().parse_args(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pandas', 'numpy', 'lifelines', 'statsmodels', 'matplotlib', 'papermill') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "usage: rm-analytics" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "HEAVY="


def test_import_package_is_lazy():
    code = "import sys, rm_analytics; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_validate_sample_exits_zero(sample_dir, capsys):
    assert run(["validate", "--data", str(sample_dir), "--today", "2026-09-30"]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "rows read" in out and "employees" in out


def test_validate_bad_data_exits_two_without_traceback(sample_dir, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in ("employees.csv", "cohorts.csv", "pairs.csv"):
        (bad / f).write_bytes((sample_dir / f).read_bytes())
    pairs = pd.read_csv(bad / "pairs.csv", dtype=str, keep_default_na=False)
    pairs.loc[3, "status"] = "ongoing"
    pairs.to_csv(bad / "pairs.csv", index=False)
    res = cli("validate", "--data", str(bad), "--today", "2026-09-30")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "pairs.csv, row 5, column 'status'" in res.stderr
    assert "ongoing" in res.stderr


def test_a_closed_output_pipe_stops_quietly(sample_dir, monkeypatch, capsys):
    """``rm-analytics validate | head -1``: the reader closes the pipe; the command stops with
    128 + SIGPIPE and no message (it printed "internal error: BrokenPipeError ... a bug")."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone: every write now fails with EPIPE
    with open(write_end, "w", buffering=1) as closed:
        monkeypatch.setattr(sys, "stdout", closed)
        code = run(["validate", "--data", str(sample_dir)])
        monkeypatch.undo()
    assert code == 141
    assert capsys.readouterr().err == ""


def test_validate_missing_folder_exits_two(tmp_path, capsys):
    assert run(["validate", "--data", str(tmp_path / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_usage_errors_exit_two():
    res = cli("sample", "--out", "x", "--employees", "many")
    assert res.returncode == 2 and "expected a whole number" in res.stderr
    res = cli()
    assert res.returncode == 2


def test_sample_writes_a_valid_dataset(tmp_path, capsys):
    out = tmp_path / "s"
    assert (
        run(
            [
                "sample",
                "--out",
                str(out),
                "--employees",
                "400",
                "--pairs",
                "5",
                "--cohorts",
                "1",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    meta = json.loads((out / "PARAMETERS.json").read_text())
    assert meta["params"]["n_employees"] == 400 and meta["params"]["seed"] == 3
    assert run(["validate", "--data", str(out), "--today", meta["params"]["as_of"]]) == 0
    # refuses to overwrite without --force
    assert run(["sample", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err


def test_sample_rejects_impossible_parameters(tmp_path, capsys):
    assert run(["sample", "--out", str(tmp_path / "x"), "--employees", "10"]) == 2
    assert "n_employees" in capsys.readouterr().err


def test_sample_parquet(tmp_path):
    for fmt in ("parquet",):  # Excel output is covered by the loader round trip
        out = tmp_path / fmt
        assert (
            run(
                [
                    "sample",
                    "--out",
                    str(out),
                    "--employees",
                    "300",
                    "--pairs",
                    "4",
                    "--cohorts",
                    "1",
                    "--format",
                    fmt,
                ]
            )
            == 0
        )
        assert run(["validate", "--data", str(out), "--today", "2026-09-30"]) == 0


def test_committed_sample_matches_the_generator(sample_dir, tmp_path):
    """data/sample is exactly what `make sample` writes (seed 20250113)."""
    assert run(["sample", "--out", str(tmp_path / "s"), "--seed", "20250113"]) == 0
    for f in sorted(sample_dir.glob("*.csv")):
        assert (tmp_path / "s" / f.name).read_bytes() == f.read_bytes(), f.name


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help(flag):
    res = cli(flag)
    assert res.returncode == 0 and "rm-analytics" in res.stdout


def test_data_contract_docs_are_in_sync():
    from rm_analytics.data.contract import contract_markdown

    doc = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert doc == contract_markdown(), (
        "regenerate with: python -m rm_analytics.data.contract > docs/data-contract.md"
    )


def test_check_pairs_command(sample_dir, tmp_path, capsys):
    assert run(["check-pairs", "--data", str(sample_dir)]) == 3  # the sample plants one conflict
    assert "reporting_line" in capsys.readouterr().out
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "employees.csv").write_bytes((sample_dir / "employees.csv").read_bytes())
    pairs = pd.read_csv(sample_dir / "pairs.csv", dtype=str)
    emp = pd.read_csv(sample_dir / "employees.csv", dtype=str)
    staying = set(emp.employee_id[emp.termination_date.isna()])
    keep = pairs.mentor_id.isin(staying) & pairs.mentee_id.isin(staying)
    planted = json.loads((sample_dir / "PARAMETERS.json").read_text())["truth"]["conflict_pairs"]
    pairs = pairs[keep & ~pairs.pair_id.isin(planted)]
    pairs = pairs[["pair_id", "cohort_id", "mentor_id", "mentee_id"]]
    pairs.to_csv(clean / "pairs.csv", index=False)
    code = run(["check-pairs", "--data", str(clean), "--any-department"])
    assert code == 0, capsys.readouterr()
    assert run(["check-pairs", "--data", str(tmp_path / "missing")]) == 2
