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
from .publish import ReportOutputError
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
    report_names,
)
from .workers import RunInterrupted

__all__ = [
    "AUDIENCES",
    "NotebookExecutionError",
    "RenderedReport",
    "ReportOutputError",
    "ReportParameterError",
    "ReportParameters",
    "RunInterrupted",
    "check_parameters",
    "export_html",
    "input_fingerprint",
    "library_versions",
    "manifest_of",
    "notebook_parameters",
    "notebook_path",
    "parse_assignments",
    "render",
    "report_names",
]
