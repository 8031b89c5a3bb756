"""Command line: ``rm-analytics validate | sample | report | check-pairs | init``.

Heavy libraries are imported inside the commands, so ``rm-analytics --help`` answers at once.
Exit codes: 0 success, 2 bad input or usage (the message says what and where, no traceback;
also an output folder that cannot be written: a file, no permission, a full disk),
1 a failed notebook cell or an unexpected internal error (rerun with ``--debug`` for the
traceback), 128 + the signal number when stopped by a signal (130 Ctrl-C, 143 SIGTERM).
No traceback reaches stderr without ``--debug``.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable, Sequence

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
#: Standard output closed by its reader (128 + SIGPIPE), as the shell reports a killed command.
EXIT_BROKEN_PIPE = 141


class CliError(Exception):
    """A usage or input problem reported as a message and exit code 2."""


#: Errors of the files and folders given (or of the disk), reported as bad input (exit 2).
INPUT_ERRNOS = {
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EEXIST,
    errno.EACCES,
    errno.EPERM,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EFBIG,
    errno.ENAMETOOLONG,
}


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _add_data_options(p: argparse.ArgumentParser, data_help: str) -> None:
    p.add_argument("--data", metavar="DIR", help=data_help)
    p.add_argument(
        "--config",
        metavar="FILE",
        help="mapping file (YAML) for vendor exports and SQL sources, see docs/your-data.md; "
        "--data then defaults to its folder",
    )


def _data_args(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(data, config) of a command; one of them is needed."""
    data, config = args.data, getattr(args, "config", None)
    if not data and not config:
        raise CliError("give --data DIR (the tables' folder) or --config FILE (a mapping file)")
    return data, config


def _add_load_options(
    p: argparse.ArgumentParser, data_help: str = "folder of table files, or one Excel workbook"
) -> None:
    """The options that say where the data are and how to read them: one set, shared by every
    command that loads a pilot (validate, report, check-pairs)."""
    _add_data_options(p, data_help)
    p.add_argument(
        "--date-format",
        metavar="FMT",
        help="strftime format of dates when not ISO, e.g. %%d/%%m/%%Y",
    )
    p.add_argument(
        "--level-order", metavar="L1,L2,...", help="grades from lowest to highest, comma-separated"
    )
    p.add_argument("--today", metavar="DATE", help="reference date for 'not in the future' checks")


def _load_options(args: argparse.Namespace) -> dict:
    """How to read the data (``config``, ``date_format``, ``level_order``, ``today``), as
    keyword arguments of :func:`rm_analytics.load_pilot`, :func:`rm_analytics.report.render`
    and the pair check."""
    order = (
        [x.strip() for x in args.level_order.split(",") if x.strip()] if args.level_order else None
    )
    return {
        "config": getattr(args, "config", None),
        "date_format": args.date_format,
        "level_order": order,
        "today": args.today,
    }


def _load(args: argparse.Namespace):
    from .data.pilot import load_pilot

    data, _ = _data_args(args)
    return load_pilot(data, **_load_options(args))


# -- commands --------------------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    pilot = _load(args)
    import pandas as pd

    with pd.option_context(
        "display.width", 160, "display.max_colwidth", 70, "display.max_rows", 500
    ):
        print(f"{args.config or args.data}: valid.\n")
        print(pilot.summary().to_string(index=False))
        print("\nData quality")
        print(pilot.quality.to_string(index=False))
    return EXIT_OK


def cmd_sample(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .data.synthetic import SAMPLE, generate

    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise CliError(f"{out} is not empty; pass --force to overwrite the tables in it")
    overrides = {**SAMPLE, "seed": args.seed}
    for name, attr in (
        ("employees", "n_employees"),
        ("cohorts", "n_cohorts"),
        ("running", "running_cohorts"),
        ("pairs", "pairs_per_cohort"),
    ):
        if getattr(args, name) is not None:
            overrides[attr] = getattr(args, name)
    if args.as_of:
        overrides["as_of"] = args.as_of
    for name in ("effect_sd", "engagement_effect_sd", "skill_effect_sd"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    try:
        data = generate(**overrides)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    files = data.write(out, format=args.format)
    print(
        f"wrote {len(files)} files to {out} ({', '.join(f'{n}={len(t):,}' for n, t in data.tables.items())})"
    )
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .data.mapping import MAPPING_FILE, write_starter_mapping

    target = Path(args.out) if args.out else Path(args.data) / MAPPING_FILE
    if target.exists() and not args.force:
        raise CliError(f"{target} exists; pass --force to replace it")
    written = write_starter_mapping(args.data, target, force=True)
    text = written.read_text(encoding="utf-8")
    todo = text.split("\ntables:", 1)[-1].count("TODO")
    print(f"wrote {written}" + (f" ({todo} line(s) marked TODO to check)" if todo else ""))
    print(f"next: rm-analytics validate --config {written}")
    return EXIT_OK


#: Exit code of ``check-pairs`` when it finds issues.
EXIT_ISSUES = 3


def cmd_check_pairs(args: argparse.Namespace) -> int:
    """Check proposed pairs (``DIR/employees.*`` and ``DIR/pairs.*``, or a mapping file)
    before launch; print the issues (or that the matching is clean). Exit 0 when clean, 3 when
    issues were found, 2 on bad input."""
    import pandas as pd

    from .data.proposal import read_proposal
    from .metrics.pairs_check import check_pairs

    data, _ = _data_args(args)
    employees, pairs = read_proposal(data, **_load_options(args))
    result = check_pairs(employees, pairs, same_department=not args.any_department)
    n_pairs = pairs.pair_id.nunique()
    where = data if data is not None else args.config
    issues = result.issues_
    if result.clean:
        print(f"{where}: {n_pairs} proposed pair(s), no conflicts found.")
        return EXIT_OK
    with pd.option_context(
        "display.width", 200, "display.max_colwidth", 90, "display.max_rows", 1000
    ):
        print(
            f"{where}: {issues.pair_id.nunique()} of {n_pairs} proposed pair(s) have "
            f"{len(issues)} issue(s) (confidential: for the program lead):\n"
        )
        print(issues.to_string(index=False))
    return EXIT_ISSUES


def cmd_report(args: argparse.Namespace) -> int:
    from .report import NotebookExecutionError, parse_assignments, render

    formats = [f for f in args.format.split(",") if f.strip()]
    data, _ = _data_args(args)
    try:
        reports = render(
            data,
            args.out,
            audience=args.audience,
            cohort=args.cohort,
            as_of=args.as_of,
            parameters=parse_assignments(args.parameter or []),
            parameters_from_text=True,
            formats=formats,
            jobs=args.jobs,
            quiet=args.quiet,
            timeout=args.timeout,
            **_load_options(args),
        )
    except NotebookExecutionError as exc:
        print(f"rm-analytics report: {exc}", file=sys.stderr)
        if exc.failed_notebook:
            print(f"failed notebook kept at {exc.failed_notebook}", file=sys.stderr)
        print("the last good report (if any) was left in place", file=sys.stderr)
        return EXIT_INTERNAL
    if not args.quiet:
        for r in reports:
            extra = f", {r.pdf}" if r.pdf else ""
            print(f"{r.name}: {r.html}{extra} ({r.seconds:.1f} s)")
    return EXIT_OK


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


# -- parser ----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="rm-analytics",
        description="Evaluate a reverse-mentoring pilot: validate HR data, render the evaluation report.",
    )
    parser.add_argument("--version", action="version", version=f"rm-analytics {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check a pilot's files against the data contract")
    _add_load_options(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("sample", help="write a synthetic pilot dataset with known effects")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument(
        "--seed", type=_positive_int, default=20250113, help="random seed (default: the sample's)"
    )
    p.add_argument("--employees", type=_positive_int, help="organisation size (default 1500)")
    p.add_argument("--cohorts", type=_positive_int, help="number of cohorts (default 3)")
    p.add_argument(
        "--running",
        type=_positive_int,
        metavar="N",
        help="how many of the cohorts (the latest) are still running at the snapshot date "
        "(default 1)",
    )
    p.add_argument("--pairs", type=_positive_int, help="pairs per cohort (default 12)")
    p.add_argument("--as-of", metavar="DATE", help="snapshot date (default 2026-09-30)")
    p.add_argument(
        "--effect-sd",
        dest="effect_sd",
        type=_non_negative_float,
        metavar="SD",
        help="between-cohort SD of the true log hazard ratio (default 0: the same effect)",
    )
    p.add_argument(
        "--engagement-sd",
        dest="engagement_effect_sd",
        type=_non_negative_float,
        metavar="SD",
        help="between-cohort SD of the true engagement shift (default 0)",
    )
    p.add_argument(
        "--skill-sd",
        dest="skill_effect_sd",
        type=_non_negative_float,
        metavar="SD",
        help="between-cohort SD of the true skill gains (default 0)",
    )
    p.add_argument("--format", choices=("csv", "parquet", "xlsx"), default="csv")
    p.add_argument("--force", action="store_true", help="overwrite tables in a non-empty folder")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser(
        "init",
        help="write a starter mapping file from the headers of your exports",
        description="Propose a mapping file (docs/your-data.md) for the exports in DIR: contract "
        "columns matched by name and vendor synonyms, termination reasons, grade order, date "
        "format, wide survey items and answer labels; what could not be mapped is marked TODO.",
    )
    p.add_argument("--data", required=True, metavar="DIR", help="folder of your exports")
    p.add_argument(
        "--out", metavar="FILE", help="mapping file to write (default DIR/rm-mapping.yaml)"
    )
    p.add_argument("--force", action="store_true", help="replace an existing mapping file")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "check-pairs", help="check proposed pairs for conflicts of interest before launch"
    )
    _add_load_options(p, "folder with employees and the proposed pairs")
    p.add_argument("--any-department", action="store_true", help="skip the same-department check")
    p.set_defaults(func=cmd_check_pairs)

    p = sub.add_parser(
        "report",
        help="render the pilot evaluation report",
        description="Render the evaluation report (HTML, executed notebook, metrics JSON, run "
        "manifest; PDF on request), each report published as one set. Exit codes: 0 done, 2 bad "
        "data, parameters or output folder (nothing was run or published), 1 a notebook cell "
        "failed or timed out, 143 stopped by SIGTERM (the last good report stays in place).",
    )
    _add_load_options(p)
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--audience",
        choices=("sponsor", "program-lead", "exploration"),
        default="sponsor",
        help="sponsor (aggregates only, default), program-lead (confidential) or exploration",
    )
    p.add_argument(
        "--cohort",
        default="all",
        metavar="ID|all|each",
        help="one cohort, all cohorts pooled (default), or one report per cohort",
    )
    p.add_argument(
        "--as-of", metavar="DATE", help="analysis date (default: latest date in the data)"
    )
    p.add_argument(
        "-p",
        "--parameter",
        action="append",
        metavar="NAME=VALUE",
        help="notebook parameter, e.g. -p currency=USD -p replacement_cost_share=0.3 (repeatable)",
    )
    p.add_argument(
        "--format", default="html", metavar="html,pdf", help="output formats (default html)"
    )
    p.add_argument(
        "--jobs", type=_positive_int, default=1, metavar="N", help="reports rendered in parallel"
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=600.0,
        metavar="S",
        help="seconds one notebook cell may run (default 600)",
    )
    p.set_defaults(func=cmd_report)
    return parser


def run(
    argv: Sequence[str] | None, parser_factory: Callable[[], argparse.ArgumentParser] = build_parser
) -> int:
    parser = parser_factory()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_INPUT
    from .errors import RmAnalyticsError

    try:
        return int(args.func(args) or 0)
    except (
        RmAnalyticsError,
        CliError,
        FileNotFoundError,
        NotADirectoryError,
        PermissionError,
    ) as exc:
        text = exc.format() if hasattr(exc, "format") else str(exc)
        print(f"rm-analytics {args.command}: {text}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", 2)  # RunInterrupted (SIGTERM, SIGHUP) or Ctrl-C
        what = str(exc) if hasattr(exc, "signum") else "interrupted"
        if args.command == "report":
            what += "; finished reports were published, the others keep their last good set"
        print(f"rm-analytics {args.command}: {what}", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        # the reader of standard output went away (``rm-analytics validate | head``): stop
        # quietly, as a command killed by SIGPIPE does, with nothing more written to the pipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        if exc.errno not in INPUT_ERRNOS:
            if args.debug:
                raise
            return _internal_error(args, exc)
        what = exc.strerror or str(exc)
        text = f"{exc.filename}: {what}" if exc.filename else what
        print(f"rm-analytics {args.command}: {text}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:
        if args.debug:
            raise
        return _internal_error(args, exc)


def _internal_error(args: argparse.Namespace, exc: BaseException) -> int:
    print(
        f"rm-analytics {args.command}: internal error: {type(exc).__name__}: {exc}\n"
        "This is a bug in rm-analytics; rerun with --debug for the traceback and report it.",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    code = run(argv)
    if code > 128:  # stopped by a signal, everything cleaned up: skip the interpreter's
        sys.stdout.flush()  # teardown, which can wait seconds on a killed kernel's sockets
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
