"""A self-contained HTML data-quality report of a loaded pilot (no individual-level data)."""

from __future__ import annotations

import html
import os
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .pilot import Pilot

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.45}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}th{background:#f2f2f2}
td.num{text-align:right}.muted{color:#666}
"""


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, border=0, na_rep="", escape=True)


def quality_report_html(pilot: Pilot, *, data_label: str = "") -> str:
    """HTML page: tables loaded, cohorts and pair counts, and the data-quality table."""
    cohorts = pilot.cohorts.copy()
    pair_counts = pilot.pairs.groupby("cohort_id", observed=True).size()
    cohorts = pd.DataFrame(
        {
            "cohort": cohorts.cohort_id.astype(str),
            "start": cohorts.start_date.dt.strftime("%Y-%m-%d"),
            "end": cohorts.end_date.dt.strftime("%Y-%m-%d"),
            "pairs": cohorts.cohort_id.map(pair_counts).fillna(0).astype(int),
        }
    )
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Pilot data quality</title>
<style>{_CSS}</style></head><body>
<h1>Reverse-mentoring pilot: data quality</h1>
<p class="muted">Data: {html.escape(str(data_label))} &middot; generated {stamp}</p>
<h2>Tables</h2>{_table(pilot.summary())}
<h2>Cohorts</h2>{_table(cohorts)}
<h2>Rows read, kept and excluded</h2>{_table(pilot.quality)}
</body></html>
"""


def write_quality_report(pilot: Pilot, out: str | os.PathLike, *, data_label: str = "") -> Path:
    """Write ``data-quality.html`` into ``out`` atomically and return its path."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "data-quality.html"
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(quality_report_html(pilot, data_label=data_label), encoding="utf-8")
    os.replace(tmp, target)
    return target
