"""PDF export of a rendered report through headless Chromium (or Chrome).

The HTML is self-contained (figures embedded, no network), so Chromium prints it exactly as a
browser shows it, with the report's print stylesheet. Set ``RM_ANALYTICS_CHROMIUM`` to the
browser's path when it is not on ``PATH`` under a usual name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import RmAnalyticsError

#: Executable names tried in order when ``RM_ANALYTICS_CHROMIUM`` is not set.
BROWSER_NAMES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "headless_shell",
)


class ChromiumNotFoundError(RmAnalyticsError):
    """No headless Chromium/Chrome was found for the PDF export."""


class PdfExportError(RmAnalyticsError):
    """Chromium ran but produced no PDF."""


def find_chromium() -> str | None:
    """Path of a Chromium or Chrome executable, or None."""
    env = os.environ.get("RM_ANALYTICS_CHROMIUM")
    if env:
        return env if Path(env).exists() or shutil.which(env) else None
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """The browser's path, or :class:`ChromiumNotFoundError` with installation advice."""
    path = find_chromium()
    if path is None:
        raise ChromiumNotFoundError(
            "PDF export needs headless Chromium, and none was found (tried "
            f"{', '.join(BROWSER_NAMES)} on PATH and $RM_ANALYTICS_CHROMIUM). Install it, e.g. "
            "'sudo apt-get install chromium' on Debian/Ubuntu, or set RM_ANALYTICS_CHROMIUM to "
            "the browser's path; or render --format html only."
        )
    return path


def _base_args(browser: str, profile: str) -> list[str]:
    args = [
        browser,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    return args


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PdfExportError(f"Chromium did not finish within {timeout:g} s") from exc


def html_to_pdf(
    html_path: str | os.PathLike,
    pdf_path: str | os.PathLike,
    *,
    browser: str | None = None,
    timeout: float = 120,
) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium (A4, no header/footer).

    Chromium decides how to show a local file from its suffix: a staged file such as
    ``.report.html.123.tmp`` would be shown (and printed) as plain text, i.e. the HTML source.
    A file whose name does not end in ``.html``/``.htm`` is therefore printed from a copy
    named ``report.html`` (the report is self-contained, so its folder does not matter).
    """
    browser = browser or require_chromium()
    src = Path(html_path).resolve()
    out = Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="rm-chromium-") as profile:
        page = src
        if src.suffix.lower() not in (".html", ".htm"):
            page = Path(profile) / "page" / "report.html"
            page.parent.mkdir()
            shutil.copyfile(src, page)
        args = [
            *_base_args(browser, str(Path(profile) / "profile")),
            "--no-pdf-header-footer",
            "--print-to-pdf-no-header",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        proc = _run(args, timeout)
    if not out.exists() or out.stat().st_size == 0:
        tail = "\n".join((proc.stderr or "").strip().splitlines()[-5:])
        raise PdfExportError(f"Chromium produced no PDF (exit code {proc.returncode}). {tail}")
    return out


def dump_dom(
    html_path: str | os.PathLike, *, browser: str | None = None, timeout: float = 60
) -> str:
    """The DOM of a page after Chromium loaded it (``--dump-dom``), for rendering checks."""
    browser = browser or require_chromium()
    with tempfile.TemporaryDirectory(prefix="rm-chromium-") as profile:
        proc = _run(
            [*_base_args(browser, profile), "--dump-dom", Path(html_path).resolve().as_uri()],
            timeout,
        )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise PdfExportError(f"Chromium could not load the page (exit code {proc.returncode})")
    return proc.stdout
