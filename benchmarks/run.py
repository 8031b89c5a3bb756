"""Performance benchmarks of rm-analytics against plain library calls.

    make bench                                   # = .venv/bin/python benchmarks/run.py
    python benchmarks/run.py --quick             # small organisation, one repeat (smoke)
    python benchmarks/run.py --only load_parquet --repeat 5

Generates a large organisation with ``rm_analytics.data.synthetic.generate`` (default 100,000
employees, 5 years of history, 40 cohorts of 25 pairs), writes it as Parquet and CSV under
``benchmarks/_data/`` (cached by parameters and generator version), times every registered
stage against its baseline (see ``harness.py`` and ``stages.py``), prints a table of medians,
ratios, targets and peak memory, and writes it as JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))

import harness  # noqa: E402
import stages  # noqa: E402,F401  (registers the stages)
from harness import STAGES, Context  # noqa: E402

FULL = {"employees": 100_000, "cohorts": 40, "pairs": 25, "repeat": 3}
QUICK = {"employees": 2_000, "cohorts": 2, "pairs": 6, "repeat": 1}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--employees", type=int, help=f"organisation size (default {FULL['employees']:,})"
    )
    p.add_argument("--cohorts", type=int, help=f"number of cohorts (default {FULL['cohorts']})")
    p.add_argument("--pairs", type=int, help=f"pairs per cohort (default {FULL['pairs']})")
    p.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    p.add_argument("--repeat", type=int, help="timed runs per side (default 3; median reported)")
    p.add_argument(
        "--warmup", type=int, help="untimed calls before the timed one (default: per stage)"
    )
    p.add_argument("--quick", action="store_true", help="small organisation, one repeat (smoke)")
    p.add_argument(
        "--only",
        action="append",
        metavar="STAGE",
        help="run only these stages (repeatable or comma-separated)",
    )
    p.add_argument(
        "--skip",
        action="append",
        metavar="STAGE",
        help="leave these stages out (repeatable or comma-separated)",
    )
    p.add_argument("--list", action="store_true", help="list the stages and exit")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="JSON results file (default benchmarks/results/bench-<time>.json)",
    )
    p.add_argument("--data-root", default=str(HERE / "_data"), help="cache of generated data")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    # internal: one side of one stage in a fresh process
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--side", choices=("stage", "baseline", "setup"), help=argparse.SUPPRESS)
    p.add_argument("--context", help=argparse.SUPPRESS)
    p.add_argument("--generate", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    return args


def generator_params(args: argparse.Namespace) -> dict:
    return {
        "n_employees": args.employees,
        "n_cohorts": args.cohorts,
        "pairs_per_cohort": args.pairs,
        "seed": args.seed,
        "years": 5.0,
    }


def _version_hash() -> str:
    """Changes when the generator or the writers change, so the cache is rebuilt."""
    h = hashlib.sha1()
    for name in ("data/synthetic.py", "data/readers.py"):
        h.update((ROOT / "rm_analytics" / name).read_bytes())
    return h.hexdigest()[:10]


def data_folder(params: dict, root: Path) -> Path:
    key = "e{n_employees}-c{n_cohorts}-p{pairs_per_cohort}-s{seed}".format(**params)
    return root / f"{key}-{_version_hash()}"


def prepare_data(params: dict, root: Path, log=print) -> Path:
    """Generate the organisation once per parameters (in a child process, so this driver
    stays small and the peak memory of the worker processes it starts is their own)."""
    folder = data_folder(params, root)
    if (folder / ".complete").exists():
        log(f"data: cached {folder}")
        return folder
    cmd = [sys.executable, __file__, "--generate", json.dumps(params), "--data-root", str(root)]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)
    return folder


def generate_data(params: dict, root: Path, log=print) -> Path:
    folder = data_folder(params, root)
    if folder.exists():
        shutil.rmtree(folder)
    from rm_analytics.data.synthetic import generate

    t0 = time.perf_counter()
    data = generate(**params)
    log(
        f"data: generated in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(f"{n}={len(t):,}" for n, t in data.tables.items())
    )
    for fmt in ("parquet", "csv"):
        t0 = time.perf_counter()
        data.write(folder / fmt, format=fmt)
        log(f"data: wrote {fmt} in {time.perf_counter() - t0:.1f} s")
    (folder / ".complete").write_text(json.dumps(params) + "\n")
    return folder


def _names(items: list[str] | None) -> list[str]:
    names = [n.strip() for item in items or [] for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise SystemExit(f"unknown stage(s): {', '.join(unknown)}; stages: {', '.join(STAGES)}")
    return names


def selected(args: argparse.Namespace) -> list[harness.Stage]:
    names = _names(args.only) if args.only else list(STAGES)
    skip = set(_names(args.skip))
    return [STAGES[n] for n in names if n not in skip]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.generate:
        generate_data(
            json.loads(args.generate), Path(args.data_root), log=lambda m: print(m, flush=True)
        )
        return 0
    if args.worker:
        ctx = Context(**json.loads(args.context))
        out = harness.run_worker(args.worker, args.side, ctx, args.warmup)
        print(json.dumps(out))
        return 0
    if args.list:
        for s in STAGES.values():
            t = (
                "-"
                if s.target is None
                else (f"< {s.target:g} s" if s.absolute else f"{s.target:g}x")
            )
            print(f"{s.name:<22} target {t:<8} {s.doc}")
        return 0

    todo = selected(args)
    params = generator_params(args)
    data_dir = ""
    if any(s.needs_data for s in todo):
        data_dir = str(prepare_data(params, Path(args.data_root)))
    ctx = Context(
        params=params,
        data_dir=data_dir,
        sample=str(ROOT / "data" / "sample"),
        python=sys.executable,
    )
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    results = []
    for s in todo:
        print(f"{s.name}: {s.doc}", flush=True)
        results.append(
            harness.measure(s, ctx, args.repeat, args.warmup, log=lambda m: print(m, flush=True))
        )
    text = harness.table(results)
    print()
    print(
        f"rm-analytics benchmarks: {args.employees:,} employees, {args.cohorts} cohorts x {args.pairs} pairs, "
        f"median of {args.repeat} run(s) per side, {os.cpu_count()} CPU(s), load average {load_before[0]:.1f}"
    )
    print(text)
    missed = [r.name for r in results if r.status in ("MISSED", "error")]

    report = {
        "started": started,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "params": params,
        "repeat": args.repeat,
        "data_dir": data_dir,
        "stages": [r.to_dict() for r in results],
        "table": text,
    }
    out = (
        Path(args.out)
        if args.out
        else HERE / "results" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    if missed:
        print("targets missed or failed: " + ", ".join(missed))
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
