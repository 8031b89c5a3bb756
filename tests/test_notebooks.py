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


# -- the exploration notebook: every analysis on the sample, in the report's order -----------------
EXPLORATION_PARTS = (
    "1. Load and validate",
    "2. Retention",
    "3. Matching balance",
    "4. Engagement",
    "5. Skills pre/post",
    "6. Goals",
    "7. Delivery",
    "8. Safety and pair flags",
    "9. Reaction and feedback",
    "10. Return on investment",
    "11. Power and the next cohort",
    "12. Evidence across cohorts",
)
FIGURE_PARTS = ("2. Retention", "3. Matching balance", "10. Return on investment")


def _parts(nb) -> dict[str, list]:
    """Code cells per part: from a part's ``## N. ...`` heading up to the next ``## `` heading."""
    parts: dict[str, list] = {}
    current = None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            heading = cell.source.splitlines()[0][3:]
            current = next((p for p in EXPLORATION_PARTS if heading.startswith(p)), None)
            if current is not None:
                assert current not in parts, f"part {current!r} twice"
                parts[current] = []
        elif cell.cell_type == "code" and current is not None:
            parts[current].append(cell)
    return parts


def test_exploration_notebook_has_every_part_in_order():
    nb = nbformat.read(str(notebook_path("exploration")), as_version=4)
    parts = _parts(nb)
    assert list(parts) == list(EXPLORATION_PARTS)
    for part, cells in parts.items():
        assert cells, f"part {part!r} has no code"
        for cell in cells:
            assert cell.outputs == [] and cell.execution_count is None, part
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import rm_analytics as rm" in code
    assert "def " not in code and "class " not in code  # no reusable logic in the notebook


@pytest.fixture(scope="module")
def exploration(tmp_path_factory, sample_dir):
    """The exploration notebook executed by papermill on the sample (``render``), in a tmp dir."""
    from rm_analytics.report.runner import render

    out = tmp_path_factory.mktemp("exploration")
    (rep,) = render(sample_dir, out, audience="exploration", quiet=True)
    return rep


@pytest.mark.slow
def test_exploration_runs_without_errors(exploration):
    nb = nbformat.read(str(exploration.notebook), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code)
    for i, cell in enumerate(code):
        for o in cell.outputs:
            assert o.output_type != "error", f"code cell {i}: {o.get('ename')}: {o.get('evalue')}"
            stderr = o.output_type == "stream" and o.name == "stderr"
            assert not stderr, f"code cell {i} wrote to stderr: {o.text[:500]}"


@pytest.mark.slow
def test_exploration_shows_every_part(exploration):
    nb = nbformat.read(str(exploration.notebook), as_version=4)
    parts = _parts(nb)
    assert list(parts) == list(EXPLORATION_PARTS)

    def shown(o) -> bool:
        if o.output_type == "stream":
            return bool(o.text.strip())
        data = o.get("data", {})
        return bool(data) and any(str(v).strip() for v in data.values())

    for part, cells in parts.items():
        outputs = [o for c in cells for o in c.outputs if shown(o)]
        assert outputs, f"part {part!r} shows nothing"
        if part in FIGURE_PARTS:
            assert any("image/png" in o.get("data", {}) for o in outputs), f"{part!r}: no figure"


@pytest.mark.slow
def test_exploration_html_shows_the_api(exploration):
    html = exploration.html.read_text()
    assert "load_pilot" in html  # code is shown to analysts
    assert "data:image/png;base64," in html
    assert "Traceback" not in html


@pytest.mark.slow
@pytest.mark.parametrize(
    "case", ["required_tables_only", "before_the_first_cohort", "no_voluntary_exit"]
)
def test_exploration_runs_to_the_end_on_any_pilot_the_contract_allows(tmp_path, sample_dir, case):
    """Every part runs; a part the data cannot support says why (it failed the whole run
    with exit 1 at the first analysis that raised InsufficientDataError)."""
    from builders import copy_pilot

    from rm_analytics.report.runner import render

    data = tmp_path / "data"
    kw = {}
    if case == "required_tables_only":
        optional = ["control", "sessions", "surveys", "skills", "checkpoints", "outcomes"]
        copy_pilot(sample_dir, data, drop=[*optional, "interventions"])
        expected = {
            "4. Engagement": "the engagement analysis needs the surveys table",
            "5. Skills pre/post": "the skills analysis needs the skills table",
            "6. Goals": "the SMART-goal analysis needs the checkpoints table",
            "7. Delivery": "the delivery analysis needs the sessions table",
            "9. Reaction and feedback": "the feedback summary needs the surveys table",
        }
    elif case == "no_voluntary_exit":
        # no cohort has a retention estimate to combine; engagement and skills have
        copy_pilot(sample_dir, data, blank={"employees": ["termination_date", "termination_type"]})
        kw = {"today": "2026-09-30"}
        expected = {}
    else:
        copy_pilot(sample_dir, data)
        kw = {"as_of": "2024-11-23", "today": "2026-09-30"}  # C01 starts 2024-12-23
        never = "no cohort had started by the analysis date 2024-11-23"
        expected = {
            "2. Retention": never,
            "3. Matching balance": never,
            "5. Skills pre/post": "the skills analysis needs rows in the skills table, which had none",
            "10. Return on investment": f"it needs pilot_retention, which is not available: {never}",
            "12. Evidence across cohorts": "a synthesis across cohorts needs two or more cohorts",
        }
    (rep,) = render(data, tmp_path / "out", audience="exploration", quiet=True, **kw)
    nb = nbformat.read(str(rep.notebook), as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o.output_type != "error", (o.get("ename"), o.get("evalue"))
    parts = _parts(nb)
    for part, reason in expected.items():
        shown = " ".join(
            str(o.get("data", {}).get("text/plain", "")) for c in parts[part] for o in c.outputs
        )
        assert f"not available: {reason}" in shown, (part, shown[:500])
    if case == "no_voluntary_exit":  # one cumulative forest plot per outcome combined
        figures = [
            o
            for c in parts["12. Evidence across cohorts"][:2]
            for o in c.outputs
            if "image/png" in o.get("data", {})
        ]
        assert len(figures) == 2
    # the data are taken as they stood on the analysis date, as in the reports
    if "as_of" in kw:
        assert "pairs=0" in str(nb.cells[4].outputs[0]["data"]["text/plain"])
