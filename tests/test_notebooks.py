"""The report notebooks: committed without outputs, one parameters cell of plain literals."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import nbformat
import pytest

from rm_analytics.report.parameters import ReportParameters, notebook_parameters
from rm_analytics.report.runner import AUDIENCES, notebook_path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_committed_without_outputs(name):
    nb = nbformat.read(str(NOTEBOOKS / name), as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name} cell {i} has outputs"
            assert cell.execution_count is None, f"{name} cell {i} has an execution count"
    assert "papermill" not in nb.metadata


@pytest.mark.parametrize("audience", list(AUDIENCES))
def test_each_audience_has_a_notebook_with_literal_parameters(audience):
    path = notebook_path(audience)
    assert path.parent == NOTEBOOKS
    params = notebook_parameters(path)
    for name in ("data", "cohort", "as_of", "min_cell_size", "seed"):
        assert name in params, name
    if audience != "exploration":
        # the report notebooks pass every parameter on to ReportParameters
        assert set(params) == {f.name for f in fields(ReportParameters)}
        defaults = ReportParameters()
        for name, p in params.items():
            if name != "title" and name != "organisation":
                assert p.default == getattr(defaults, name), name
