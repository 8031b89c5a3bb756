"""The benchmark stages. Add one with a few lines::

    @stage("engagement_did", baseline=plain_statsmodels_did, target=1.25, setup=load_large)
    def engagement_did(ctx):
        rm.engagement_did(ctx.state["pilot"], ...)

``ctx.parquet`` / ``ctx.csv`` are the large organisation's folders, ``ctx.sample`` the committed
sample, ``ctx.state`` whatever ``setup`` returned (computed once per process, not timed).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness import Context, stage


# -- shared set-up helpers (untimed) -------------------------------------------------------------
def load_large(ctx: Context) -> dict:
    """Set-up for analysis stages: the large organisation, loaded and validated."""
    import rm_analytics as rm

    return {"pilot": rm.load_pilot(ctx.parquet, today=ctx.as_of)}


# -- loading ----------------------------------------------------------------------------------
def read_parquet_files(ctx: Context) -> None:
    """Baseline: ``pandas.read_parquet`` of every table file, nothing else."""
    import pandas as pd

    for f in sorted(ctx.parquet.glob("*.parquet")):
        pd.read_parquet(f)


def read_csv_files(ctx: Context) -> None:
    """Baseline: ``pandas.read_csv(dtype=str)`` of every table file, nothing else."""
    import pandas as pd

    for f in sorted(ctx.csv.glob("*.csv")):
        pd.read_csv(f, dtype=str)


@stage("load_parquet", baseline=read_parquet_files, target=1.25)
def load_parquet(ctx: Context) -> None:
    """load_pilot (read, type, validate every rule) of the Parquet folder."""
    import rm_analytics as rm

    rm.load_pilot(ctx.parquet, today=ctx.as_of)


@stage("load_csv", baseline=read_csv_files, target=1.25)
def load_csv(ctx: Context) -> None:
    """load_pilot (read, type, validate every rule) of the CSV folder."""
    import rm_analytics as rm

    rm.load_pilot(ctx.csv, today=ctx.as_of)


# -- command line start-up ------------------------------------------------------------------
def _cli(ctx: Context) -> list[str]:
    script = Path(ctx.python).with_name("rm-analytics")
    return [str(script)] if script.exists() else [ctx.python, "-m", "rm_analytics.cli"]


def python_startup(ctx: Context) -> None:
    """Baseline: start the same interpreter and do nothing (``python -c pass``)."""
    subprocess.run([ctx.python, "-c", "pass"], check=True, capture_output=True)


@stage("cli_help", baseline=python_startup, target=0.5, absolute=True, needs_data=False)
def cli_help(ctx: Context) -> None:
    """`rm-analytics --help` in a new process (target: absolute seconds)."""
    subprocess.run([*_cli(ctx), "--help"], check=True, capture_output=True)


# -- synthetic data ---------------------------------------------------------------------------
@stage("synthetic_generate", needs_data=False)
def synthetic_generate(ctx: Context) -> None:
    """synthetic.generate of the large organisation (informational, no target)."""
    from rm_analytics.synthetic import generate

    generate(**ctx.params)
