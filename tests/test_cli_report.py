"""Command line ``rm-analytics report``: input problems exit 2 before anything is executed."""

from __future__ import annotations

import shutil

import pytest

from rm_analytics.cli import run


def _report(capsys, *args):
    code = run(["report", *args])
    return code, capsys.readouterr()


def test_unknown_parameter_exits_2(sample_dir, tmp_path, capsys):
    code, out = _report(
        capsys, "--data", str(sample_dir), "--out", str(tmp_path), "-p", "colour=red"
    )
    assert code == 2
    assert "unknown parameter colour" in out.err
    assert "currency" in out.err  # the known names are listed
    assert not any(tmp_path.iterdir())


def test_mistyped_parameter_exits_2(sample_dir, tmp_path, capsys):
    code, out = _report(
        capsys, "--data", str(sample_dir), "--out", str(tmp_path), "-p", "min_cell_size=five"
    )
    assert code == 2
    assert "min_cell_size expects a whole number" in out.err
    code, out = _report(
        capsys, "--data", str(sample_dir), "--out", str(tmp_path), "-p", "min_cell_size=0"
    )
    assert code == 2 and "min_cell_size" in out.err


def test_controlled_parameter_and_bad_options_exit_2(sample_dir, tmp_path, capsys):
    code, out = _report(capsys, "--data", str(sample_dir), "--out", str(tmp_path), "-p", "data=x")
    assert code == 2 and "--data" in out.err
    code, out = _report(
        capsys, "--data", str(sample_dir), "--out", str(tmp_path), "--cohort", "C99"
    )
    assert code == 2 and "unknown cohort 'C99'" in out.err and "C01" in out.err
    code, out = _report(
        capsys, "--data", str(sample_dir), "--out", str(tmp_path), "--format", "docx"
    )
    assert code == 2 and "unknown format" in out.err
    code, out = _report(
        capsys, "--data", str(sample_dir), "--out", str(tmp_path), "--as-of", "soon"
    )
    assert code == 2 and "as_of" in out.err
    code, out = _report(capsys, "--data", str(sample_dir), "--out", str(tmp_path), "--jobs", "0")
    assert code == 2 and "jobs" in out.err


def test_invalid_data_exits_2_with_the_validation_message(sample_dir, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(sample_dir, data)
    pairs = (data / "pairs.csv").read_text().splitlines()
    head, first = pairs[0], pairs[1].split(",")
    first[5] = "2024-13-45"  # start_date
    (data / "pairs.csv").write_text("\n".join([head, ",".join(first), *pairs[2:]]) + "\n")
    out_dir = tmp_path / "out"
    code, out = _report(capsys, "--data", str(data), "--out", str(out_dir))
    assert code == 2
    assert "pairs.csv" in out.err and "start_date" in out.err and "2024-13-45" in out.err
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_pdf_without_chromium_exits_2(sample_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RM_ANALYTICS_CHROMIUM", str(tmp_path / "no-such-browser"))
    code, out = _report(
        capsys, "--data", str(sample_dir), "--out", str(tmp_path / "o"), "--format", "html,pdf"
    )
    assert code == 2
    assert "Chromium" in out.err and "apt-get install chromium" in out.err


def test_report_help_lists_the_options(capsys):
    with pytest.raises(SystemExit):
        run(["report", "--help"])
    text = capsys.readouterr().out
    for opt in (
        "--audience",
        "--cohort",
        "--as-of",
        "-p",
        "--format",
        "--jobs",
        "--quiet",
        "--timeout",
    ):
        assert opt in text


def test_today_as_a_notebook_parameter_is_refused(sample_dir, tmp_path, capsys):
    # `-p today=` used to reach the notebook while the checks before the run used the real
    # date: invalid data then failed inside the notebook (exit 1) instead of exit 2
    for value in ("2026-01-01", ""):
        code, res = _report(
            capsys, "--data", str(sample_dir), "--out", str(tmp_path), "-p", f"today={value}"
        )
        assert code == 2
        assert "--today" in res.err
    assert not any(tmp_path.iterdir())


def test_today_option_is_used_by_the_checks_before_the_run(sample_dir, tmp_path, capsys):
    code, res = _report(
        capsys, "--data", str(sample_dir), "--out", str(tmp_path), "--today", "2026-01-01"
    )
    assert code == 2
    assert "in the future" in res.err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("value", ["1", "4", "0", "-3"])
def test_sponsor_minimum_group_size_cannot_go_below_5(sample_dir, tmp_path, capsys, value):
    code, res = _report(
        capsys, "--data", str(sample_dir), "--out", str(tmp_path), "-p", f"min_cell_size={value}"
    )
    assert code == 2
    assert "min_cell_size" in res.err and "fewer than 5 people" in res.err
    assert not any(tmp_path.iterdir())


def test_minimum_group_size_checked_by_the_document_itself(sample_pilot):
    import pandas as pd

    from rm_analytics.report.document import Report
    from rm_analytics.report.parameters import ReportParameters

    params = ReportParameters(min_cell_size=2)
    with pytest.raises(ValueError, match="fewer than 5 people"):
        Report("sponsor", sample_pilot, params, pd.Timestamp("2026-09-27"))
