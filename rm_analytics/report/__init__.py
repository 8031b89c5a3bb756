"""The evaluation report: parameters, sections, formatting, verdicts, privacy, the metrics
collector, the papermill runner and the PDF export.

``rm_analytics.report.render`` renders the report notebooks (see :mod:`.runner`).
"""

from .parameters import (
    ReportParameterError,
    ReportParameters,
    check_parameters,
    notebook_parameters,
    parse_assignments,
)
from .runner import (
    AUDIENCES,
    NotebookExecutionError,
    RenderedReport,
    export_html,
    input_fingerprint,
    library_versions,
    manifest_of,
    notebook_path,
    render,
)

__all__ = [
    "AUDIENCES",
    "NotebookExecutionError",
    "RenderedReport",
    "ReportParameterError",
    "ReportParameters",
    "check_parameters",
    "export_html",
    "input_fingerprint",
    "library_versions",
    "manifest_of",
    "notebook_parameters",
    "notebook_path",
    "parse_assignments",
    "render",
]
