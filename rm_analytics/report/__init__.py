"""The evaluation report: parameters, sections, formatting, verdicts, privacy, the metrics
collector, the papermill runner and the PDF export.

``rm_analytics.report.render`` renders the report notebooks (see :mod:`.runner`).
"""

from .runner import (
    AUDIENCES,
    NotebookExecutionError,
    RenderedReport,
    ReportParameterError,
    check_parameters,
    export_html,
    input_fingerprint,
    library_versions,
    manifest_of,
    notebook_parameters,
    notebook_path,
    parse_assignments,
    render,
)

__all__ = [
    "AUDIENCES",
    "NotebookExecutionError",
    "RenderedReport",
    "ReportParameterError",
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
