"""Render the evaluation report: parameterized notebooks executed with papermill, exported to
HTML (and PDF) for sponsors, the program lead or analysts.

Rendering runs notebooks on a Jupyter kernel and writes files, so these lines are not run as
doctests:

.. code-block:: python

    from rm_analytics.report import render

    render("data/sample", "reports")                        # sponsor report, cohorts pooled
    render("data/sample", "reports", cohort="each", jobs=2)  # one report per cohort
    render("data/sample", "reports", audience="program-lead", formats=("html", "pdf"))

Per report ``NAME`` (``sponsor-report``, ``sponsor-report-C01``, ``program-lead-report``,
``exploration``) the output folder receives ``NAME.html``, ``NAME.ipynb`` (the executed
notebook), ``NAME.metrics.json`` (every figure with its interval; no timestamps, so the same
inputs give the same file), ``NAME.manifest.json`` (parameters, SHA-256 of the input files,
package and library versions, timings) and ``NAME.pdf`` when asked.

What happens, in order, before anything is executed: the audience and formats are checked
(PDF: Chromium must be installed), the notebook's ``parameters`` cell is read (plain literals
only) and the given parameters are checked against it (unknown names and wrong types are
rejected: papermill itself would only warn), and the data are loaded and validated. Then the
notebook runs on a kernel that uses this very interpreter (``sys.executable``, through a
temporary kernelspec), with a per-cell timeout. The files are written into a staging folder
and published as one set only when the whole report succeeded (one atomic switch, see
:mod:`rm_analytics.report.publish`), so a failed, interrupted or killed run never replaces
the last good report or leaves a mixed set; the failed notebook is kept as
``NAME.failed.ipynb``. Confidential reports (program lead) are written 0600 in 0700 folders.

Cohort ids become part of file names only through :func:`report_names` (characters other
than letters, digits, ``.``, ``_`` and ``-`` are replaced and a short hash keeps names
apart); the manifest records the cohort id of each report.

A run stops as a whole on SIGTERM, SIGHUP or Ctrl-C (see :mod:`rm_analytics.report.workers`):
kernels and worker processes end, staging and temporary folders are removed, and the
reports not yet published keep their last good set.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import RmAnalyticsError
from .parameters import (
    NotebookParameter,
    ReportParameterError,
    check_parameters,
    notebook_parameters,
)
from .publish import (
    OUTPUT_ERRNOS,
    ReportOutputError,
    Staging,
    check_output_folder,
    ensure_output_folder,
    output_error,
    sweep_leftovers,
    temporary_folder,
    write_atomically,
)
from .workers import ON_INTERRUPT, run_in_workers, stop_on_signals

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"

#: audience -> (notebook file, report base name, show code)
AUDIENCES: dict[str, tuple[str, str, bool]] = {
    "sponsor": ("sponsor_report.ipynb", "sponsor-report", False),
    "program-lead": ("program_lead.ipynb", "program-lead-report", False),
    "exploration": ("exploration.ipynb", "exploration", True),
}
FORMATS = ("html", "pdf")
#: Parameters set from render's own arguments (not through ``parameters``): name -> option.
CONTROLLED = {
    "data": "--data",
    "config": "--config",
    "cohort": "--cohort",
    "as_of": "--as-of",
    "today": "--today",
    "date_format": "--date-format",
    "level_order": "--level-order",
}
#: Audiences whose reports are confidential: files 0600, folders 0700.
PRIVATE_AUDIENCES = ("program-lead",)
MANIFEST_SCHEMA = "rm-analytics/run-manifest"
MANIFEST_SCHEMA_VERSION = "1.0"
#: Libraries whose versions go to the manifest.
LIBRARIES = (
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "lifelines",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "nbformat",
    "nbclient",
    "ipykernel",
    "jupyter_client",
)
KERNEL_NAME = "rm-analytics-report"


class NotebookExecutionError(RuntimeError):
    """A notebook cell failed. ``failed_notebook`` is the kept notebook with the error.

    Not a :class:`RmAnalyticsError`: the command line exits 1 for it (the data were valid,
    the report could not be computed), not 2.
    """

    def __init__(self, message: str, failed_notebook: str | None = None):
        super().__init__(message, failed_notebook)
        self.message = message
        self.failed_notebook = failed_notebook

    def __str__(self) -> str:
        return self.message


@dataclass
class RenderedReport:
    """Files of one rendered report.

    Examples
    --------
    >>> from pathlib import Path
    >>> from rm_analytics.report import RenderedReport
    >>> out = Path("reports")
    >>> report = RenderedReport(name="sponsor-report", audience="sponsor", cohort="all",
    ...                         html=out / "sponsor-report.html",
    ...                         notebook=out / "sponsor-report.ipynb",
    ...                         metrics=out / "sponsor-report.metrics.json",
    ...                         manifest=out / "sponsor-report.manifest.json")
    >>> report.html.name, report.pdf
    ('sponsor-report.html', None)
    """

    name: str
    audience: str
    cohort: str
    html: Path
    notebook: Path
    metrics: Path
    manifest: Path
    pdf: Path | None = None
    seconds: float = 0.0


# -- notebooks and their parameters -------------------------------------------------------------
def notebook_dirs() -> list[Path]:
    """Where the notebooks are looked for: ``$RM_ANALYTICS_NOTEBOOKS``, the installed package's
    ``notebooks`` folder, then the source tree's ``notebooks/``."""
    dirs = []
    if os.environ.get("RM_ANALYTICS_NOTEBOOKS"):
        dirs.append(Path(os.environ["RM_ANALYTICS_NOTEBOOKS"]))
    dirs += [PACKAGE_DIR / "notebooks", PACKAGE_DIR.parent / "notebooks"]
    return dirs


def notebook_path(audience: str) -> Path:
    """The notebook of an audience.

    Examples
    --------
    >>> from rm_analytics.report import notebook_path
    >>> path = notebook_path("sponsor")
    >>> path.name, path.exists()
    ('sponsor_report.ipynb', True)
    """
    if audience not in AUDIENCES:
        raise ReportParameterError(
            f"unknown audience {audience!r}; audiences are {', '.join(AUDIENCES)}"
        )
    name = AUDIENCES[audience][0]
    for d in notebook_dirs():
        if (d / name).is_file():
            return d / name
    raise FileNotFoundError(
        f"notebook {name} not found in {', '.join(str(d) for d in notebook_dirs())}"
    )


# -- fingerprint and versions --------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_fingerprint(
    data: str | os.PathLike | None, config: str | os.PathLike | None = None
) -> dict[str, Any]:
    """SHA-256 of every table file of the data, and one fingerprint over all of them.

    With a mapping file: the mapping file, the files it names and the folder's other tables;
    SQL queries are listed with their database URL, password redacted (their rows are not
    hashed: a database changes under the same query).

    Examples
    --------
    >>> import tempfile
    >>> import rm_analytics as rm
    >>> from rm_analytics.report import input_fingerprint
    >>> folder = tempfile.TemporaryDirectory()
    >>> files = rm.load_sample().save(folder.name)
    >>> fingerprint = input_fingerprint(folder.name)
    >>> sorted(fingerprint)
    ['files', 'path', 'sha256']
    >>> sorted(fingerprint["files"])[:3], len(fingerprint["sha256"])
    (['checkpoints.csv', 'cohorts.csv', 'control.csv'], 64)
    >>> folder.cleanup()
    """
    from ..data.readers import find_tables

    queries: list[dict[str, Any]] = []
    if config:
        from ..data.mapping import input_description

        described = input_description(config, data)
        files, root, queries = described["files"], described["root"], described["queries"]
    else:
        assert data is not None
        found, _, _ = find_tables(data)
        files = sorted({Path(f) for f, _ in found.values()})
        root = Path(data) if Path(data).is_dir() else Path(data).parent
    entries = {}
    for f in files:
        rel = os.path.relpath(f, root)
        entries[rel] = {"sha256": _sha256(f), "bytes": f.stat().st_size}
    text = "".join(f"{k}\0{v['sha256']}\n" for k, v in sorted(entries.items()))
    text += "".join(f"{q['table']}\0{q['source']}\0{q['query']}\n" for q in queries)
    combined = hashlib.sha256(text.encode()).hexdigest()
    out = {
        "path": str(Path(data if data else root).resolve()),
        "sha256": combined,
        "files": entries,
    }
    if config:
        out["config"] = str(Path(config).resolve())
        out["queries"] = queries
    return out


def library_versions() -> dict[str, str | None]:
    """Installed versions of Python, rm-analytics and the libraries the report uses.

    Examples
    --------
    >>> from rm_analytics.report import library_versions
    >>> versions = library_versions()
    >>> list(versions)[:4]
    ['python', 'rm_analytics', 'pandas', 'numpy']
    """
    from importlib.metadata import PackageNotFoundError, version

    from .._version import __version__

    out: dict[str, str | None] = {
        "python": sys.version.split()[0],
        "rm_analytics": __version__,
    }
    for lib in LIBRARIES:
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            out[lib] = None
    return out


# -- kernel ----------------------------------------------------------------------------------
#: Kernels started by this process and not yet ended: (Popen, process group or None).
_KERNELS: list[tuple[Any, int | None]] = []


def stop_kernels() -> None:
    """Kill the kernels this process started that are still running (with their process
    groups). Normally papermill shuts a kernel down; after an interruption or an error
    inside the executor this makes sure none outlives the report."""
    import signal

    own_group = os.getpgid(0) if hasattr(os, "getpgid") else None
    for entry in list(_KERNELS):
        proc, pgid = entry
        if proc.poll() is None:  # still our unreaped child: its group id cannot be reused
            try:
                if pgid is not None and pgid != own_group:
                    os.killpg(pgid, signal.SIGKILL)
                else:
                    proc.kill()
            except OSError:
                pass
            with suppress(Exception):
                proc.wait(5)
        _KERNELS.remove(entry)


ON_INTERRUPT.append(stop_kernels)


def _kernel_manager_class(workdir: Path):
    """A kernel-manager class whose kernel is this interpreter, via a kernelspec in ``workdir``.

    The kernel's ``PYTHONPATH`` starts with the folder holding this very ``rm_analytics``, so
    the notebook imports the same package version as the command (no wrong environment, no
    NoSuchKernel whatever kernelspecs are installed). On POSIX the kernel talks over IPC
    sockets in ``workdir`` rather than unencrypted local TCP. The kernel's own output (its
    log, tracebacks while it is shut down) goes to ``workdir/kernel.log``, not to the
    command's stderr; the kernel ends when this process dies (ipykernel watches its parent)
    and :func:`stop_kernels` kills it on an interruption.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum, default

    kernels = workdir / "kernels"
    kdir = kernels / KERNEL_NAME
    kdir.mkdir(parents=True, exist_ok=True)
    path = [str(PACKAGE_DIR.parent)]
    if os.environ.get("PYTHONPATH"):
        path.append(os.environ["PYTHONPATH"])
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"rm-analytics ({sys.executable})",
        "language": "python",
        "env": {
            "PYTHONPATH": os.pathsep.join(path),
            "PYTHONHASHSEED": "0",
        },
        "metadata": {"debugger": False},
    }
    (kdir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    use_ipc = os.name == "posix"
    ipc_prefix = str(workdir / "kernel-ipc")
    log_path = workdir / "kernel.log"

    class ReportKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(
            ["tcp", "ipc"], default_value="ipc" if use_ipc else "tcp", config=True
        )

        @default("kernel_spec_manager")
        def _rm_kernel_spec_manager(self):
            return KernelSpecManager(kernel_dirs=[str(kernels)])

        @default("ip")
        def _rm_ip(self):
            return ipc_prefix if use_ipc else "127.0.0.1"

        @default("connection_file")
        def _rm_connection_file(self):  # in the run's temporary folder, not loose in /tmp
            return str(workdir / f"kernel-{os.getpid()}-{id(self):x}.json")

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            with open(log_path, "ab") as log:  # the child keeps its own descriptor
                kw["stdout"] = log
                kw["stderr"] = log
                await super()._async_launch_kernel(kernel_cmd, **kw)
            proc = getattr(self.provisioner, "process", None)
            if proc is not None:
                _KERNELS.append((proc, getattr(self.provisioner, "pgid", None)))

    return ReportKernelManager


def _kernel_log_tail(workdir: Path, limit: int = 300) -> str:
    """The last line the kernel wrote (e.g. why it died), for error messages."""
    try:
        lines = (workdir / "kernel.log").read_text(errors="replace").splitlines()
    except OSError:
        return ""
    last = next((ln.strip() for ln in reversed(lines) if ln.strip()), "")
    return last[:limit]


class _CellTimeout:
    """Per-cell timeout for nbclient's ``timeout_func``: seconds as given (``1.5`` stays 1.5;
    nbclient's own ``timeout`` option accepts whole seconds only)."""

    def __init__(self, seconds: float):
        self.seconds = float(seconds)

    def __call__(self, cell) -> float:
        return self.seconds


@functools.lru_cache(maxsize=1)
def _report_engine() -> str:
    """Register (once) a papermill engine that hands the notebook being executed to the
    caller, so a run that times out or loses its kernel can still keep its failed notebook
    (papermill itself saves nothing then unless it saves after every cell)."""
    from papermill.engines import NBClientEngine, papermill_engines

    name = "rm-analytics"

    class ReportEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            holder = kwargs.pop("rm_notebook_holder", None)
            if holder is not None:
                holder.append(nb_man)
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register(name, ReportEngine)
    return name


# -- HTML --------------------------------------------------------------------------------------
def _clean_for_html(nb, *, show_code: bool):
    """Copy of the executed notebook without parameter cells, stderr, and the metrics output."""
    from .collector import METRICS_MIMETYPE

    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"remove-cell", "injected-parameters"}:
            continue
        if not show_code and "parameters" in tags:
            continue
        if not show_code and cell.cell_type == "code" and not cell.get("outputs"):
            continue
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                and METRICS_MIMETYPE not in o.get("data", {})
            ]
        cells.append(cell)
    nb.cells = cells
    return nb


def export_html(nb, *, title: str, audience: str, footer: str = "") -> str:
    """HTML of an executed notebook with the report template (no code unless exploration).

    Examples
    --------
    >>> import nbformat
    >>> from rm_analytics.report import export_html
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Retention")])
    >>> page = export_html(nb, title="Pilot evaluation", audience="sponsor")
    >>> page.startswith("<!DOCTYPE html>"), "<title>Pilot evaluation</title>" in page
    (True, True)
    """
    from nbconvert import HTMLExporter

    show_code = AUDIENCES[audience][2]
    clean = _clean_for_html(nb, show_code=show_code)
    clean.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="lab",
        template_file="rm_report.html.j2",
        extra_template_paths=[str(TEMPLATES)],
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        anchor_link_text="",
    )
    body, _ = exporter.from_notebook_node(
        clean, resources={"rm_audience": audience, "rm_footer": footer}
    )
    return body


def _published_metrics(nb) -> dict[str, Any] | None:
    from .collector import METRICS_MIMETYPE

    found = None
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if METRICS_MIMETYPE in data:
                found = data[METRICS_MIMETYPE]
    if isinstance(found, str):
        found = json.loads(found)
    return found


# -- one report ------------------------------------------------------------------------------
@dataclass
class _Task:
    audience: str
    name: str
    cohort: str
    parameters: dict[str, Any]
    out: str
    formats: tuple[str, ...]
    timeout: float
    progress: bool
    quiet: bool
    inputs: dict[str, Any] = field(default_factory=dict)
    validate_seconds: float = 0.0

    @property
    def private(self) -> bool:
        return self.audience in PRIVATE_AUDIENCES


def _say(task: _Task, text: str) -> None:
    if not task.quiet:
        print(text, file=sys.stderr, flush=True)


def _execute(task: _Task, source: Path, tmp: Path, failed_path: Path):
    """Run the notebook; return the executed notebook or raise NotebookExecutionError after
    keeping the failed notebook."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    workdir = tmp / "work"
    workdir.mkdir()
    holder: list[Any] = []
    quiet_logs = _quiet_loggers("papermill", "traitlets")
    try:
        return pm.execute_notebook(
            str(source),
            None,  # the caller writes the executed notebook (or the failed one)
            parameters=task.parameters,
            engine_name=_report_engine(),
            rm_notebook_holder=holder,
            kernel_name=KERNEL_NAME,
            language="python",
            kernel_manager_class=_kernel_manager_class(tmp),
            execution_timeout=max(1, math.ceil(task.timeout)),
            timeout_func=_CellTimeout(task.timeout),
            start_timeout=120,
            progress_bar=task.progress,
            log_output=False,
            cwd=str(workdir),
        )
    except PapermillExecutionError as exc:
        message = _failure_message(task, exc, source)
        kept = _keep_failed(task, holder, failed_path)
        raise NotebookExecutionError(message, kept) from None
    except Exception as exc:  # timeouts, dead kernels
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if isinstance(exc, CellTimeoutError):
            what = f"a cell ran longer than the timeout of {task.timeout:g} s (--timeout, per cell)"
            error = ("CellTimeoutError", f"the cell ran longer than {task.timeout:g} s")
        elif isinstance(exc, DeadKernelError):
            last = _kernel_log_tail(tmp)
            what = "the kernel died (out of memory or killed?)" + (
                f"; its last message: {last}" if last else ""
            )
            error = ("DeadKernelError", "the kernel died while the cell was running")
        else:
            what = f"{type(exc).__name__}: {exc}"
            error = (type(exc).__name__, str(exc))
        kept = _keep_failed(task, holder, failed_path, error=error)
        raise NotebookExecutionError(
            f"{task.name}: the notebook {source.name} could not be executed: {what}", kept
        ) from None
    finally:
        quiet_logs.close()


def _render_one(task: _Task) -> RenderedReport:
    import nbformat

    t0 = time.perf_counter()
    started = datetime.now(timezone.utc)
    out = Path(task.out)
    files = {
        "html": f"{task.name}.html",
        "notebook": f"{task.name}.ipynb",
        "metrics": f"{task.name}.metrics.json",
        "manifest": f"{task.name}.manifest.json",
        "pdf": f"{task.name}.pdf",
    }
    kinds = ("html", "notebook", "metrics") + (("pdf",) if "pdf" in task.formats else ())
    failed_path = out / f"{task.name}.failed.ipynb"
    source = notebook_path(task.audience)
    timings: dict[str, float] = {"validate_s": round(task.validate_seconds, 3)}
    _say(task, f"rendering {task.name} ({task.audience}, cohort {task.cohort}) ...")
    ensure_output_folder(out, private=task.private)
    try:
        with temporary_folder() as tmp_name, Staging(out, task.name, private=task.private) as st:
            tmp = Path(tmp_name)
            t = time.perf_counter()
            nb = _execute(task, source, tmp, failed_path)
            timings["execute_s"] = round(time.perf_counter() - t, 3)

            metrics = _published_metrics(nb)
            if metrics is None:
                kept = _keep_failed(task, [nb], failed_path)
                raise NotebookExecutionError(
                    f"{task.name}: the notebook {source.name} published no metrics "
                    "(call report.publish_metrics() in its last cell)",
                    kept,
                )
            t = time.perf_counter()
            title = str(task.parameters.get("title") or _default(source, "title", task.name))
            footer = (
                f"rm-analytics {library_versions()['rm_analytics']} · data as of "
                f"{metrics.get('report', {}).get('as_of', '')} · input fingerprint "
                f"sha256:{task.inputs.get('sha256', '')[:16]}"
            )
            html_text = export_html(nb, title=title, audience=task.audience, footer=footer)
            st.write_text(files["html"], html_text)
            st.write_text(files["notebook"], nbformat.writes(nb))
            st.write_text(
                files["metrics"],
                json.dumps(metrics, indent=2, sort_keys=True, allow_nan=False) + "\n",
            )
            timings["export_s"] = round(time.perf_counter() - t, 3)
            if "pdf" in task.formats:
                from .pdf import html_to_pdf

                t = time.perf_counter()
                html_to_pdf(st.path / files["html"], tmp / files["pdf"])
                st.add_file(files["pdf"], tmp / files["pdf"])
                timings["pdf_s"] = round(time.perf_counter() - t, 3)
            timings["total_s"] = round(time.perf_counter() - t0 + task.validate_seconds, 3)
            manifest = {
                "schema": MANIFEST_SCHEMA,
                "schema_version": MANIFEST_SCHEMA_VERSION,
                "report": task.name,
                "audience": task.audience,
                "cohort": task.cohort,
                "status": "ok",
                "version": st.version,
                "parameters": task.parameters,
                "inputs": task.inputs,
                "notebook": {"path": str(source), "sha256": _sha256(source)},
                "outputs": {k: files[k] for k in kinds},
                "versions": library_versions(),
                "kernel": {"python": sys.executable, "kernelspec": KERNEL_NAME},
                "started": started.isoformat(timespec="seconds"),
                "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "timings": timings,
            }
            st.write_text(
                files["manifest"],
                json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n",
            )
            # every file is written and flushed: switch the whole set at once
            st.publish(
                [files[k] for k in (*kinds, "manifest")],
                retire=[files[k] for k in files if k not in kinds and k != "manifest"],
            )
    finally:
        stop_kernels()
    if failed_path.exists():
        failed_path.unlink()  # a good report supersedes the last failure
    seconds = time.perf_counter() - t0 + task.validate_seconds
    _say(task, f"wrote {out / files['html']} ({seconds:.1f} s)")
    return RenderedReport(
        name=task.name,
        audience=task.audience,
        cohort=task.cohort,
        html=out / files["html"],
        notebook=out / files["notebook"],
        metrics=out / files["metrics"],
        manifest=out / files["manifest"],
        pdf=out / files["pdf"] if "pdf" in task.formats else None,
        seconds=round(seconds, 3),
    )


class _quiet_loggers:
    """Silence loggers until ``close()``: papermill and jupyter_client log errors (a timeout,
    a kernel shut down) that the report's own message already states."""

    def __init__(self, *names: str) -> None:
        import logging

        self.loggers = [logging.getLogger(n) for n in names]
        self.levels = [lg.level for lg in self.loggers]
        for lg in self.loggers:
            lg.setLevel(logging.CRITICAL + 1)

    def close(self) -> None:
        for lg, level in zip(self.loggers, self.levels, strict=True):
            lg.setLevel(level)


def _default(source: Path, name: str, fallback: Any) -> Any:
    p = notebook_parameters(source).get(name)
    return p.default if p is not None else fallback


def _keep_failed(
    task: _Task, holder: list[Any], failed: Path, error: tuple[str, str] | None = None
) -> str | None:
    """Keep the failed notebook next to the report (atomically; 0600 for confidential
    reports). ``error`` (name, message) is added as the error output of the cell that was
    running when it timed out or its kernel died. Returns the path, or None when nothing
    could be kept (e.g. the disk is full)."""
    import nbformat

    if not holder:
        return None
    nb = holder[0]
    nb = getattr(nb, "nb", nb)  # papermill's execution manager, or the notebook itself
    if error is not None:
        nb = copy.deepcopy(nb)
        # papermill stamps start_time on every cell it starts (statuses are all "completed"
        # after an exception); the last one started is the one that timed out or died
        started = [
            i
            for i, c in enumerate(nb.cells)
            if c.get("metadata", {}).get("papermill", {}).get("start_time")
        ]
        if started:
            cell = nb.cells[started[-1]]
            cell.setdefault("outputs", []).append(
                nbformat.v4.new_output("error", ename=error[0], evalue=error[1], traceback=[])
            )
            cell.metadata.setdefault("papermill", {})["status"] = "failed"
    try:
        write_atomically(failed, nbformat.writes(nb).encode("utf-8"), private=task.private)
    except (ReportOutputError, OSError):
        return None
    return str(failed)


def _failing_line_number(traceback: Sequence[str] | None) -> int | None:
    """The line of the failing cell in an IPython traceback (``Cell In[3], line 5``): the
    first frame is the cell's own."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(traceback or ()))
    m = re.search(r"Cell In\[\d+\], line (\d+)", text)
    return int(m.group(1)) if m else None


def _failure_message(task: _Task, exc, source: Path) -> str:
    """``NAME: cell 7 (execution count 5), line 2: report.show_part(...) failed with KeyError:
    'x'``.

    The cell index counts the executed notebook's cells from 0 (including the injected
    parameters cell), as shown in the kept ``NAME.failed.ipynb``; the line is the cell's line
    that raised (from the kernel's traceback), else the cell's first line.
    """
    src = str(getattr(exc, "source", "") or "")
    lines = src.splitlines()
    number = _failing_line_number(getattr(exc, "traceback", None))
    if number is not None and 1 <= number <= len(lines) and lines[number - 1].strip():
        line, at = lines[number - 1].strip(), f", line {number}"
    else:
        line, at = next((ln.strip() for ln in lines if ln.strip()), ""), ""
    where = (
        f"cell {exc.cell_index}"
        + (f" (execution count {exc.exec_count})" if exc.exec_count is not None else "")
        + at
    )
    code = f": {line[:80]}" if line else ""
    return (
        f"{task.name}: {where}{code} failed with {exc.ename}: {exc.evalue}; the failed "
        f"notebook of {source.name} is kept for debugging"
    )


def _run_task(task: _Task) -> tuple[str, Any]:
    """Worker entry point: ('ok', RenderedReport) or ('error', (kind, message, failed)),
    kind one of ``execution`` (exit 1), ``output`` and ``input`` (exit 2)."""
    try:
        return "ok", _render_one(task)
    except NotebookExecutionError as exc:
        return "error", ("execution", exc.message, exc.failed_notebook)
    except ReportOutputError as exc:
        return "error", ("output", f"{task.name}: {exc}", None)
    except RmAnalyticsError as exc:
        return "error", ("input", f"{task.name}: {exc}", None)
    except OSError as exc:
        if exc.errno in OUTPUT_ERRNOS:  # e.g. the temporary folder's disk is full
            return "error", ("output", f"{task.name}: {output_error(exc, 'write')}", None)
        raise


# -- names -----------------------------------------------------------------------------------
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def report_names(base: str, cohorts: Sequence[str]) -> dict[str, str]:
    """File-safe report names: ``base`` for ``"all"``, ``base-<cohort>`` for a cohort.

    A cohort id made of letters, digits, ``.``, ``_`` and ``-`` (not starting with ``.`` or
    ``-``) is used as it is; any other id (``/``, spaces, quotes, non-ASCII, a very long id)
    has those characters replaced by ``_`` and the first 8 hex digits of its SHA-256
    appended, so two ids never share a name (also on case-insensitive file systems).

    >>> report_names("sponsor-report", ["all", "C01", "Sales/EMEA"])
    {'all': 'sponsor-report', 'C01': 'sponsor-report-C01', 'Sales/EMEA': 'sponsor-report-Sales_EMEA-a2b21beb'}

    Examples
    --------
    >>> from rm_analytics.report import report_names
    >>> report_names("sponsor-report", ["all", "C01", "C 02/x"])
    {'all': 'sponsor-report', 'C01': 'sponsor-report-C01', 'C 02/x':
    'sponsor-report-C_02_x-6a2db0b7'}
    """
    out: dict[str, str] = {}
    for c in cohorts:
        if c == "all":
            out[c] = base
            continue
        part = _UNSAFE.sub("_", c).strip("._-")[:60]
        if part != c or not part:
            digest = hashlib.sha256(c.encode("utf-8")).hexdigest()[:8]
            part = f"{part}-{digest}" if part else digest
        out[c] = f"{base}-{part}"
    folded: dict[str, list[str]] = {}
    for c, n in out.items():
        folded.setdefault(n.lower(), []).append(c)
    for group in folded.values():
        if len(group) > 1:  # e.g. "c01" and "C01"
            for c in group:
                out[c] = f"{out[c]}-{hashlib.sha256(c.encode('utf-8')).hexdigest()[:8]}"
    return out


# -- the public entry point ------------------------------------------------------------------
def render(
    data: str | os.PathLike | None,
    out: str | os.PathLike,
    *,
    config: str | os.PathLike | None = None,
    audience: str = "sponsor",
    cohort: str | None = None,
    as_of: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    formats: Sequence[str] = ("html",),
    jobs: int = 1,
    quiet: bool = False,
    timeout: float = 600,
    today: str | None = None,
    parameters_from_text: bool = False,
    date_format: str | None = None,
    level_order: Sequence[str] | None = None,
) -> list[RenderedReport]:
    """Render report(s) of the pilot in ``data`` into the folder ``out``.

    Parameters
    ----------
    data
        Folder of table files, or one Excel workbook (see :func:`rm_analytics.load_pilot`);
        may be None with ``config``.
    config
        A mapping file (``docs/your-data.md``); passed to the notebooks as ``config``.
    out
        Output folder (created when missing; 0700 for the program lead's report). Each report
        is published there as one set (see :mod:`rm_analytics.report.publish`).
    audience
        ``"sponsor"`` (aggregates only), ``"program-lead"`` (confidential, pair level) or
        ``"exploration"`` (the analyst notebook, code shown).
    cohort
        None or ``"all"``: cohorts pooled, one report; ``"each"``: one report per cohort
        (``NAME-<cohort>``, see :func:`report_names`), in parallel with ``jobs``; a cohort
        id: that cohort only.
    as_of
        Analysis date (ISO). Default: the latest date found in the data.
    parameters
        Other notebook parameters by name (``currency``, ``replacement_cost_share``,
        ``min_cell_size``, ...). Unknown names or wrong types raise
        :class:`ReportParameterError` before anything runs. With ``parameters_from_text``
        string values are converted to the declared types (the command line's ``-p``).
    formats
        ``("html",)`` or ``("html", "pdf")``; PDF needs headless Chromium.
    jobs
        Reports rendered at the same time (processes), for ``cohort="each"``.
    quiet
        No progress output.
    timeout
        Seconds a single cell may run (fractions allowed).
    today
        Reference date of the data validation's "not in the future" checks (default: today);
        the notebook gets the same date.
    date_format, level_order
        How to read the files, as for :func:`rm_analytics.load_pilot` (``validate`` takes the
        same options): the ``strftime`` format of dates that are not ISO, and the grades from
        lowest to highest (required when grade labels carry no number).

    Returns
    -------
    list of RenderedReport
        One per report, in cohort order.

    Raises
    ------
    ReportParameterError, DataValidationError, ChromiumNotFoundError
        Bad input, before anything is executed (exit code 2 on the command line).
    ReportOutputError
        ``out`` is a file, cannot be written, or the disk is full (exit code 2); nothing of
        that report was published.
    NotebookExecutionError
        A cell failed or timed out (exit code 1); earlier good reports are left untouched and
        the failed notebook is kept as ``NAME.failed.ipynb``.
    RunInterrupted
        SIGTERM, SIGHUP or SIGINT (a ``KeyboardInterrupt``; exit code 128 + the signal): the
        worker processes and kernels are stopped, reports not yet published keep their last
        good set.

    Examples
    --------
    Rendering executes notebooks on a Jupyter kernel and writes files, so these lines are not
    run as doctests:

    >>> from rm_analytics.report import render
    >>> reports = render("data/sample", "reports")  # doctest: +SKIP
    >>> reports[0].name, reports[0].html.name  # doctest: +SKIP
    ('sponsor-report', 'sponsor-report.html')
    >>> render("data/sample", "reports", cohort="each", jobs=2)  # doctest: +SKIP
    >>> render("data/sample", "reports", audience="program-lead",  # doctest: +SKIP
    ...        parameters={"currency": "USD"}, formats=("html", "pdf"))

    Parameters are checked before anything runs or is written:

    >>> from rm_analytics.report import ReportParameterError
    >>> try:
    ...     render("data/sample", "reports", parameters={"curency": "USD"})
    ... except ReportParameterError as err:
    ...     print(str(err).split(";")[0])
    unknown parameter curency for sponsor_report.ipynb
    """
    t0 = time.perf_counter()
    if audience not in AUDIENCES:
        raise ReportParameterError(
            f"unknown audience {audience!r}; audiences are {', '.join(AUDIENCES)}"
        )
    formats = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ReportParameterError(
            f"unknown format(s) {', '.join(bad) or '(none)'}; formats are {', '.join(FORMATS)}"
        )
    if "html" not in formats:
        formats = ("html", *formats)  # the PDF is printed from the HTML
    if "pdf" in formats:
        from .pdf import require_chromium

        require_chromium()
    if not isinstance(jobs, int) or jobs < 1:
        raise ReportParameterError(f"jobs must be a whole number >= 1, not {jobs!r}")
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ReportParameterError(f"timeout must be a positive number of seconds, not {timeout!r}")

    source = notebook_path(audience)
    declared = notebook_parameters(source)
    given = dict(parameters or {})
    clash = sorted(set(given) & set(CONTROLLED))
    if clash:
        raise ReportParameterError(
            f"set {', '.join(clash)} with {', '.join(CONTROLLED[c] for c in clash)} (render's "
            f"{', '.join(f'{c}=' for c in clash)}), not as a notebook parameter (-p): the checks "
            "before the run must use the values the notebook gets"
        )
    params = check_parameters(declared, given, from_text=parameters_from_text, notebook=source.name)
    if as_of:
        check_parameters(declared, {"as_of": str(as_of)}, notebook=source.name)
    if today:
        check_parameters({"today": NotebookParameter("today", "", "str")}, {"today": str(today)})
    check_output_folder(out)  # a file or an unwritable folder: exit 2 before anything runs

    # validate the data (raises DataValidationError with every problem)
    from ..data.pilot import load_pilot

    if data is None and not config:
        raise ReportParameterError("render needs the data folder or a mapping file (config)")
    data_path = Path(data).resolve() if data else None
    config_path = Path(config).resolve() if config else None
    order = [str(x) for x in level_order] if level_order else None
    pilot = load_pilot(
        data_path,
        config=config_path,
        today=today or None,
        date_format=date_format or None,
        level_order=order,
    )
    cohort = "all" if cohort in (None, "", "all") else str(cohort)
    known = pilot.cohort_ids
    if cohort == "each":
        cohorts = list(known)
    elif cohort == "all":
        cohorts = ["all"]
    elif cohort in known:
        cohorts = [cohort]
    else:
        raise ReportParameterError(
            f"unknown cohort {cohort!r}; cohorts in the data: {', '.join(known)} (or 'all', 'each')"
        )
    resolved_as_of = pilot.analysis_date(as_of or None).date().isoformat()
    inputs = input_fingerprint(data_path, config_path)
    validate_s = time.perf_counter() - t0

    base = AUDIENCES[audience][1]
    names = report_names(base, cohorts)
    ensure_output_folder(out, private=audience in PRIVATE_AUDIENCES)
    sweep_leftovers(out)  # staging and temporary folders of killed runs
    tasks = []
    for c in cohorts:
        p = dict(params)
        if "data" in declared:
            p["data"] = str(data_path or config_path.parent)
        if config_path is not None and "config" in declared:
            p["config"] = str(config_path)
        if "cohort" in declared:
            p["cohort"] = c
        if "as_of" in declared:
            p["as_of"] = resolved_as_of
        if today and "today" in declared:
            p["today"] = str(today)
        if date_format and "date_format" in declared:
            p["date_format"] = str(date_format)
        if order and "level_order" in declared:
            p["level_order"] = order
        tasks.append(
            _Task(
                audience=audience,
                name=names[c],
                cohort=c,
                parameters=p,
                out=str(Path(out)),
                formats=formats,
                timeout=float(timeout),
                progress=(not quiet) and jobs == 1 and len(cohorts) == 1 and sys.stderr.isatty(),
                quiet=quiet,
                inputs=inputs,
                validate_seconds=validate_s,
            )
        )

    with stop_on_signals():
        try:
            if jobs == 1 or len(tasks) == 1:
                outcomes = [_run_task(t) for t in tasks]
            else:
                outcomes = run_in_workers(_run_task, tasks, jobs)
        except KeyboardInterrupt:  # Ctrl-C or RunInterrupted: the workers are stopped
            stop_kernels()
            sweep_leftovers(out)
            raise
    return _collect(outcomes, tasks)


def _collect(outcomes: list[Any], tasks: list[_Task]) -> list[RenderedReport]:
    """The rendered reports, or the first failure as an exception (with the names of the
    other failed reports)."""
    failed = [(t.name, o) for t, o in zip(tasks, outcomes, strict=True) if o[0] == "error"]
    if not failed:
        return [o[1] for o in outcomes]
    _, first = failed[0]
    kind, message, kept = first[1]
    if len(failed) > 1:
        others = ", ".join(n for n, _ in failed[1:6]) + (", ..." if len(failed) > 6 else "")
        message += f" (and {len(failed) - 1} more failed report(s): {others})"
    if kind == "output":
        raise ReportOutputError(message)
    if kind == "input":
        raise ReportParameterError(message)
    if kind == "internal":
        raise RuntimeError(message) from _RemoteTraceback(first[2] if len(first) > 2 else "")
    raise NotebookExecutionError(message, kept)


class _RemoteTraceback(Exception):
    """The traceback of an error in a worker process (shown with ``--debug``)."""

    def __init__(self, tb: str):
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


def manifest_of(report: RenderedReport) -> dict[str, Any]:
    """The run manifest of a rendered report, as a dict.

    Examples
    --------
    The manifest of a report that :func:`render` wrote (shown, not run as a doctest: rendering
    needs a Jupyter kernel and writes files):

    .. code-block:: python

        from rm_analytics.report import manifest_of, render

        manifest = manifest_of(render("data/sample", "reports")[0])
        manifest["report"], manifest["status"]  # ('sponsor-report', 'ok')
    """
    return json.loads(Path(report.manifest).read_text(encoding="utf-8"))
