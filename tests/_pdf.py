"""Reading a rendered PDF as a reader sees it: the text of each page, and where words sit."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path


def page_texts(pdf: Path) -> list[str]:
    """The text of every page (pypdf; poppler's pdftotext when pypdf is not installed)."""
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - the dev extra installs pypdf
        exe = shutil.which("pdftotext")
        if exe is None:
            raise
        text = subprocess.run(
            [exe, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")
    return [page.extract_text() or "" for page in PdfReader(str(pdf)).pages]


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    """(width, height) of every page in points."""
    from pypdf import PdfReader

    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(str(pdf)).pages]


def word_boxes(pdf: Path) -> list[tuple[int, float, float, str]] | None:
    """(page, xMin, xMax, word) of every word drawn, from ``pdftotext -bbox``; None without
    poppler."""
    exe = shutil.which("pdftotext")
    if exe is None:
        return None
    html = subprocess.run(
        [exe, "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    out = []
    for page_no, page in enumerate(html.split("<page ")[1:], start=1):
        for m in re.finditer(
            r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
            page,
        ):
            out.append((page_no, float(m.group(1)), float(m.group(2)), m.group(3)))
    return out
