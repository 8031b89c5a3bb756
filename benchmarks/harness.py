"""Benchmark harness: a registry of stages, each timed against a baseline in fresh processes.

A *stage* is a piece of rm-analytics work; its *baseline* does the same work with plain
pandas / lifelines / statsmodels calls written directly (or, for the report, the floor of
an empty notebook). Register one with :func:`stage`::

    @stage("load_parquet", baseline=read_parquet_files, target=1.25)
    def load_parquet(ctx):
        rm.load_pilot(ctx.parquet, today=ctx.as_of)

``target`` is a ratio (stage / baseline) unless ``absolute=True`` (seconds); ``None`` means
informational. ``max_peak_mb`` is a memory target: the stage's peak resident memory must stay
below it. ``setup(ctx)`` (optional, untimed) runs once per process and its return value
is ``ctx.state`` for both the stage and its baseline. ``check(ctx, value)`` (optional, untimed)
runs after the timed call of the stage side with the value the stage returned and returns a
``{label: text}`` dict (e.g. the package's estimates next to the libraries'), printed under
the table; a check that finds a disagreement raises, which marks the stage as an error.

Every timed run happens in a fresh Python process (``run.py --worker``): first ``warmup``
untimed calls (imports, file cache), then one timed call; the peak resident memory of that
process (``getrusage``: the process itself or its largest child, e.g. a notebook kernel) is
recorded. Stage and baseline processes alternate, ``repeat`` times each, so a change in the
machine's load affects both sides alike; the table reports medians. A stage with a ``setup``
first runs it once in a process of its own (untimed), so inputs cached by that set-up are built
before any measured process and its peak memory.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass
class Context:
    """What a stage needs: the generated organisation, the committed sample, the python."""

    params: dict
    data_dir: str
    sample: str
    python: str
    state: object = None

    @property
    def parquet(self) -> Path:
        """Folder of the large organisation's tables as Parquet."""
        return Path(self.data_dir) / "parquet"

    @property
    def csv(self) -> Path:
        """Folder of the large organisation's tables as CSV."""
        return Path(self.data_dir) / "csv"

    @property
    def as_of(self) -> str:
        """The snapshot date of the generated data (``today`` for loading)."""
        return self.params.get("as_of", "2026-09-30")


@dataclass
class Stage:
    name: str
    func: Callable[[Context], object]
    baseline: Callable[[Context], object] | None = None
    target: float | None = None
    absolute: bool = False
    setup: Callable[[Context], object] | None = None
    warmup: int = 1
    needs_data: bool = True
    doc: str = ""
    max_peak_mb: float | None = None
    check: Callable[[Context, object], dict] | None = None


STAGES: dict[str, Stage] = {}


def stage(
    name: str,
    *,
    baseline: Callable[[Context], object] | None = None,
    target: float | None = None,
    absolute: bool = False,
    setup: Callable[[Context], object] | None = None,
    warmup: int = 1,
    needs_data: bool = True,
    max_peak_mb: float | None = None,
    check: Callable[[Context, object], dict] | None = None,
):
    """Register a benchmark stage (see the module docstring)."""

    def register(func: Callable[[Context], object]) -> Callable[[Context], object]:
        if name in STAGES:
            raise ValueError(f"stage {name!r} is registered twice")
        STAGES[name] = Stage(
            name,
            func,
            baseline,
            target,
            absolute,
            setup,
            warmup,
            needs_data,
            (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else "",
            max_peak_mb,
            check,
        )
        return func

    return register


# -- one process, one side ----------------------------------------------------------------------
def peak_rss_mb() -> float:
    """Peak resident set size of this process or its largest finished child, in MB."""
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) * scale / 2**20


def run_worker(name: str, side: str, ctx: Context, warmup: int | None = None) -> dict:
    """Inside a fresh process: set up, warm up, time one call of one side of a stage."""
    st = STAGES[name]
    if side == "setup":  # builds and caches derived inputs (see stages.derived); not timed
        if st.setup is not None:
            st.setup(ctx)
        return {"seconds": float("nan"), "peak_rss_mb": peak_rss_mb()}
    fn = st.func if side == "stage" else st.baseline
    if fn is None:
        raise ValueError(f"stage {name!r} has no baseline")
    if st.setup is not None:
        ctx.state = st.setup(ctx)
    for _ in range(st.warmup if warmup is None else warmup):
        fn(ctx)
    t0 = time.perf_counter()
    value = fn(ctx)
    seconds = time.perf_counter() - t0
    out = {"seconds": seconds, "peak_rss_mb": peak_rss_mb()}
    if side == "stage" and st.check is not None:
        out["checks"] = {str(k): str(v) for k, v in st.check(ctx, value).items()}
    return out


# -- the driver -----------------------------------------------------------------------------------
@dataclass
class Result:
    name: str
    doc: str
    target: float | None
    absolute: bool
    times_s: list[float] = field(default_factory=list)
    baseline_times_s: list[float] = field(default_factory=list)
    peak_rss_mb: float = float("nan")
    baseline_peak_rss_mb: float = float("nan")
    error: str = ""
    max_peak_mb: float | None = None
    checks: dict = field(default_factory=dict)

    @property
    def median_s(self) -> float:
        return median(self.times_s) if self.times_s else float("nan")

    @property
    def baseline_median_s(self) -> float:
        return median(self.baseline_times_s) if self.baseline_times_s else float("nan")

    @property
    def ratio(self) -> float:
        if not self.baseline_times_s or not self.times_s:
            return float("nan")
        return self.median_s / self.baseline_median_s

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        if self.max_peak_mb is not None and self.peak_rss_mb == self.peak_rss_mb:
            if self.peak_rss_mb >= self.max_peak_mb:
                return "MISSED"
            if self.target is None:
                return "ok"
        if self.target is None:
            return "info"
        value = self.median_s if self.absolute else self.ratio
        if value != value:  # NaN
            return "n/a"
        return "ok" if value <= self.target else "MISSED"

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(
            median_s=self.median_s,
            baseline_median_s=self.baseline_median_s,
            ratio=self.ratio,
            status=self.status,
            target_kind=("seconds" if self.absolute else "ratio") if self.target else None,
            speedup=(1 / self.ratio) if self.ratio == self.ratio and self.ratio > 0 else None,
        )
        return d


def spawn(name: str, side: str, ctx: Context, warmup: int | None) -> dict:
    """Run one side of a stage in a fresh process; returns its seconds and peak memory."""
    cmd = [
        ctx.python,
        str(HERE / "run.py"),
        "--worker",
        name,
        "--side",
        side,
        "--context",
        json.dumps({k: v for k, v in asdict(ctx).items() if k != "state"}),
    ]
    if warmup is not None:
        cmd += ["--warmup", str(warmup)]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise RuntimeError(f"{name} ({side}) failed:\n" + "\n".join(tail))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(st: Stage, ctx: Context, repeat: int, warmup: int | None, log=print) -> Result:
    """Alternate stage and baseline processes ``repeat`` times each."""
    res = Result(st.name, st.doc, st.target, st.absolute, max_peak_mb=st.max_peak_mb)
    peaks, base_peaks = [], []
    try:
        if st.setup is not None:
            # build the stage's cached inputs in a process of their own first, so that no timed
            # process's peak memory includes a one-off preparation
            spawn(st.name, "setup", ctx, warmup)
        for i in range(repeat):
            r = spawn(st.name, "stage", ctx, warmup)
            res.times_s.append(r["seconds"])
            peaks.append(r["peak_rss_mb"])
            if r.get("checks") and not res.checks:
                res.checks = r["checks"]
            line = f"  {st.name} run {i + 1}/{repeat}: {r['seconds']:.3f} s"
            if st.baseline is not None:
                b = spawn(st.name, "baseline", ctx, warmup)
                res.baseline_times_s.append(b["seconds"])
                base_peaks.append(b["peak_rss_mb"])
                line += f", baseline {b['seconds']:.3f} s"
            log(line)
    except RuntimeError as exc:
        res.error = str(exc)
        log(f"  {st.name}: {exc}")
    res.peak_rss_mb = max(peaks) if peaks else float("nan")
    res.baseline_peak_rss_mb = max(base_peaks) if base_peaks else float("nan")
    return res


def target_text(target: float, absolute: bool) -> str:
    return f"<{target:g} s" if absolute else f"{target:g}x"


def _fmt(x: float, spec: str) -> str:
    return "-" if x != x else format(x, spec)


def table(results: list[Result]) -> str:
    """The results as a fixed-width text table."""
    head = (
        f"{'stage':<22}{'median s':>10}{'baseline s':>12}{'ratio':>8}{'target':>10}"
        f"{'status':>8}{'peak MB':>10}{'base MB':>10}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        target = "-" if r.target is None else target_text(r.target, r.absolute)
        if r.max_peak_mb is not None:
            mem = f"<{r.max_peak_mb / 1024:g} GB"
            target = mem if r.target is None else f"{target},{mem}"
        lines.append(
            f"{r.name:<22}{_fmt(r.median_s, '.3f'):>10}{_fmt(r.baseline_median_s, '.3f'):>12}"
            f"{_fmt(r.ratio, '.2f'):>8}{target:>10}{r.status:>8}"
            f"{_fmt(r.peak_rss_mb, '.0f'):>10}{_fmt(r.baseline_peak_rss_mb, '.0f'):>10}"
        )
    checks = [(r.name, k, v) for r in results for k, v in r.checks.items()]
    if checks:
        lines += ["", "checks (untimed; the package's numbers next to the plain libraries'):"]
        lines += [f"  {name}: {k}: {v}" for name, k, v in checks]
    return "\n".join(lines)
