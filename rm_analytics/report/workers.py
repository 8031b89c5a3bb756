"""Signals and worker processes of a report run: a run stops as a whole.

- :func:`stop_on_signals` turns SIGTERM and SIGHUP (a scheduler stopping the job, a closed
  terminal) into :class:`RunInterrupted` in the main thread, as Ctrl-C already raises
  ``KeyboardInterrupt``, so every ``finally`` runs: kernels are stopped, staging and
  temporary folders removed, and nothing half-written is published.
- :func:`run_in_workers` renders reports in ``jobs`` worker processes. When the run is
  interrupted (or fails) the workers are sent SIGTERM, given a few seconds to clean up, then
  killed; none survives the call. Each worker also ends itself when the run's process dies,
  even by SIGKILL: Linux delivers it SIGTERM (``prctl(PR_SET_PDEATHSIG)``) and a thread that
  watches the parent process does the same elsewhere. A worker that stops between two
  reports publishes nothing more; one that stops inside a report leaves that report's last
  good set (see :mod:`rm_analytics.report.publish`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

#: Seconds a stopped worker gets to clean up before it is killed.
STOP_GRACE_S = 15.0
_STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by a signal (``signum``); exit status ``128 + signum``."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def signal_name(self) -> str:
        try:
            return signal.Signals(self.signum).name
        except ValueError:  # pragma: no cover
            return f"signal {self.signum}"

    def __str__(self) -> str:
        return f"interrupted by {self.signal_name}"


#: Called (in the main thread) when a stop signal arrives, before RunInterrupted is raised:
#: e.g. killing notebook kernels at once rather than waiting for their polite shutdown.
ON_INTERRUPT: list[Callable[[], None]] = []


def _raise_interrupted(signum: int, frame: Any) -> None:
    # later signals while the first unwinds are ignored: the cleanup must finish
    for s in (*_STOP_SIGNALS, signal.SIGINT):
        if signal.getsignal(s) is _raise_interrupted:
            signal.signal(s, signal.SIG_IGN)
    for hook in ON_INTERRUPT:
        with suppress(Exception):
            hook()
    raise RunInterrupted(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM, SIGHUP and SIGINT raise :class:`RunInterrupted` in the main thread for the
    block's duration, when their handler is Python's default one (an application that
    installed its own, e.g. a workflow engine, keeps it). Outside the main thread this does
    nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {}
    for s in _STOP_SIGNALS:
        if signal.getsignal(s) == signal.SIG_DFL:
            saved[s] = signal.signal(s, _raise_interrupted)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # Ctrl-C, same path
        saved[signal.SIGINT] = signal.signal(signal.SIGINT, _raise_interrupted)
    try:
        yield
    finally:
        for s, old in saved.items():
            signal.signal(s, old)


# -- the worker side --------------------------------------------------------------------------
def die_with_parent(parent_pid: int, *, poll_s: float = 0.5) -> None:
    """Make this process receive SIGTERM when ``parent_pid`` (its parent) dies.

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGTERM)``; everywhere: a daemon thread that compares
    ``os.getppid()`` with ``parent_pid`` every ``poll_s`` seconds. If the parent is already
    gone, the process exits at once.
    """
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(128 + int(signal.SIGTERM))

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=watch, name="rm-analytics-parent-watch", daemon=True).start()


def _worker_main(conn, parent_pid: int, fn: Callable[[Any], Any]) -> None:
    """Loop of a worker process: receive ``(index, task)``, send ``(index, fn(task))``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops the workers
    for s in _STOP_SIGNALS:
        signal.signal(s, _raise_interrupted)
    die_with_parent(parent_pid)
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                return  # the parent is gone
            if msg is None:
                return
            index, task = msg
            try:
                outcome = fn(task)
            except Exception as exc:  # a bug: report it, with its traceback, to the parent
                outcome = (
                    "error",
                    ("internal", f"{type(exc).__name__}: {exc}", None),
                    traceback.format_exc(),
                )
            try:
                conn.send((index, outcome))
            except (EOFError, OSError):
                return
    except RunInterrupted as exc:
        # every `finally` has run (kernel killed, staging and temporary folders removed); skip
        # the interpreter's teardown, which can wait seconds on the kernel's closed sockets
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + exc.signum)


# -- the parent side --------------------------------------------------------------------------
@dataclass
class _Worker:
    process: Any
    conn: Any
    index: int | None = None  # task being rendered


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Start children with SIGINT ignored (inherited through exec), so Ctrl-C in a terminal,
    which reaches the whole process group, is handled by the parent alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _start(ctx, fn) -> _Worker:
    parent_conn, child_conn = ctx.Pipe(duplex=True)
    p = ctx.Process(
        target=_worker_main,
        args=(child_conn, os.getpid(), fn),
        name="rm-analytics-report-worker",
        daemon=True,
    )
    with _sigint_ignored():
        p.start()
    child_conn.close()
    return _Worker(p, parent_conn)


def stop_workers(workers: Sequence[_Worker], grace: float = STOP_GRACE_S) -> None:
    """SIGTERM every live worker, wait up to ``grace`` seconds, then SIGKILL the rest."""
    from multiprocessing.connection import wait

    alive = [w for w in workers if w.process.is_alive()]
    for w in alive:
        with suppress(OSError):
            w.process.terminate()
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        wait([w.process.sentinel for w in alive], timeout=max(0.0, deadline - time.monotonic()))
        alive = [w for w in alive if w.process.is_alive()]
    for w in alive:
        with suppress(OSError):
            w.process.kill()
    for w in workers:
        w.process.join(5)
        with suppress(OSError):
            w.conn.close()


def run_in_workers(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    jobs: int,
    *,
    grace: float = STOP_GRACE_S,
) -> list[Any]:
    """``[fn(t) for t in tasks]`` computed in ``jobs`` worker processes (spawned).

    ``fn`` must be a module-level function returning a picklable value; an exception in
    ``fn`` comes back as ``("error", ("internal", message, None), traceback_text)``, a worker
    that dies as ``("error", ("internal", message, None))``. Any exception in the caller
    (Ctrl-C, :class:`RunInterrupted`) stops every worker before it propagates.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("spawn")
    results: list[Any] = [None] * len(tasks)
    pending = list(range(len(tasks)))
    workers: list[_Worker] = []

    def dispatch(w: _Worker) -> None:
        if pending:
            w.index = pending.pop(0)
            w.conn.send((w.index, tasks[w.index]))
        else:
            w.index = None
            with suppress(OSError):
                w.conn.send(None)

    try:
        for _ in range(min(jobs, len(tasks))):
            w = _start(ctx, fn)
            workers.append(w)
            dispatch(w)
        while any(w.index is not None for w in workers):
            busy = [w for w in workers if w.index is not None]
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for w in busy:
                if w.conn in ready:
                    try:
                        index, outcome = w.conn.recv()
                    except (EOFError, OSError):
                        ready.add(w.process.sentinel)
                    else:
                        results[index] = outcome
                        dispatch(w)
                        continue
                if w.process.sentinel in ready and w.index is not None:
                    w.process.join(1)
                    name = getattr(tasks[w.index], "name", f"task {w.index}")
                    results[w.index] = (
                        "error",
                        (
                            "internal",
                            f"{name}: the worker process ended with exit code {w.process.exitcode}",
                            None,
                        ),
                    )
                    w.index = None
                    if pending:  # carry on with a fresh worker
                        nw = _start(ctx, fn)
                        workers.append(nw)
                        dispatch(nw)
        for w in workers:
            w.process.join(grace)
    except BaseException:
        stop_workers(workers, grace)
        raise
    finally:
        stop_workers([w for w in workers if w.process.is_alive()], grace)
    return results
