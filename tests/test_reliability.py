"""Reliability of the report run: the published set, output errors, signals, names.

The fast tests exercise :mod:`rm_analytics.report.publish` and
:mod:`rm_analytics.report.workers` with real files and real processes; the slow ones run the
command line end to end and stop it with real signals. Processes of a run are found by a
marker in their environment (inherited by workers and notebook kernels), so a process that
outlived its parent and was re-parented is still found.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rm_analytics.cli import run
from rm_analytics.report import publish, workers
from rm_analytics.report.publish import STORE, ReportOutputError, Staging, file_mode
from rm_analytics.report.runner import report_names

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "rm_analytics.cli"]


# -- helpers --------------------------------------------------------------------------------------
def marked_processes(token: str) -> list[tuple[int, str]]:
    """Live (non-zombie) processes whose environment holds ``RM_TEST_RUN=token``."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            env = (d / "environ").read_bytes().split(b"\0")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"RM_TEST_RUN={token}".encode() in env and state != "Z":
            found.append((int(d.name), cmd[:120]))
    return found


def wait_until(predicate, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def published(out: Path) -> dict[str, bytes]:
    """What a reader of ``OUT`` sees: every file reachable under its documented name."""
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def leftovers(out: Path) -> list[str]:
    """Staging folders and temporary links left in OUT's store."""
    store = out / STORE
    if not store.is_dir():
        return []
    return sorted(
        str(p.relative_to(out))
        for p in store.rglob("*")
        if p.name.startswith((".staging-", ".current-"))
    )


def _publish(out: Path, name: str, token: str, *, pdf: bool = False, private: bool = False):
    """A set whose every file carries ``token`` (so a mixed set is visible)."""
    with Staging(out, name, private=private) as st:
        files = [f"{name}.html", f"{name}.metrics.json"] + ([f"{name}.pdf"] if pdf else [])
        for f in files:
            st.write_text(f, f"{token} {f}\n" * 50)
        st.write_text(f"{name}.manifest.json", json.dumps({"token": token, "version": st.version}))
        st.publish([*files, f"{name}.manifest.json"], retire=[] if pdf else [f"{name}.pdf"])
        return st.version


def _tokens(out: Path, name: str) -> set[str]:
    seen = {json.loads((out / f"{name}.manifest.json").read_text())["token"]}
    for f in (out / f"{name}.html", out / f"{name}.metrics.json"):
        seen.add(f.read_text().split()[0])
    return seen


# -- the published set ------------------------------------------------------------------------------
def test_publish_switches_the_whole_set_and_keeps_one_previous(tmp_path):
    out = tmp_path / "out"
    v1 = _publish(out, "r", "one", pdf=True)
    assert _tokens(out, "r") == {"one"} and (out / "r.pdf").read_text().startswith("one")
    for name in ("r.html", "r.metrics.json", "r.manifest.json", "r.pdf"):
        assert publish.is_published_link(out / name)
    current = Path(os.path.realpath(out / STORE / "r" / "current"))
    assert current.name == v1
    assert json.loads((current / "r.manifest.json").read_text())["version"] == v1

    v2 = _publish(out, "r", "two")  # no PDF this time: the old one must not stay beside it
    assert _tokens(out, "r") == {"two"}
    assert not (out / "r.pdf").exists() and not (out / "r.pdf").is_symlink()
    versions = sorted(p.name for p in (out / STORE / "r").iterdir() if p.name.startswith("v-"))
    assert versions == sorted([v1, v2])  # the previous set is kept for readers in flight
    v3 = _publish(out, "r", "three")
    versions = sorted(p.name for p in (out / STORE / "r").iterdir() if p.name.startswith("v-"))
    assert versions == sorted([v2, v3])  # older versions are removed
    assert leftovers(out) == []


def test_failure_before_publish_leaves_the_last_good_set(tmp_path):
    out = tmp_path / "out"
    _publish(out, "r", "good")
    before = published(out)
    with pytest.raises(RuntimeError), Staging(out, "r") as st:
        st.write_text("r.html", "half")
        raise RuntimeError("a cell failed")
    assert published(out) == before
    assert leftovers(out) == []


def test_disk_full_while_writing_is_an_output_error_and_keeps_the_set(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _publish(out, "r", "good")
    before = published(out)
    real = publish._write_all
    calls = []

    def full_after_one_file(fd, data):
        calls.append(len(data))
        if len(calls) > 1:
            os.write(fd, bytes(data[:10]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd, data)

    monkeypatch.setattr(publish, "_write_all", full_after_one_file)
    with pytest.raises(ReportOutputError, match="No space left on device") as err:
        _publish(out, "r", "new")
    assert "last good report" in str(err.value) and "r.metrics.json" in str(err.value)
    assert published(out) == before
    assert leftovers(out) == []


def test_killed_publisher_never_leaves_a_mixed_set(tmp_path):
    """A process publishing in a loop is SIGKILLed at random moments: every time, the set a
    reader sees is one whole set, and the next publish removes what the kill left."""
    out = tmp_path / "out"
    _publish(out, "r", "first")
    script = (
        "import json, sys\n"
        "from rm_analytics.report.publish import Staging\n"
        "out, i = sys.argv[1], 0\n"
        "while True:\n"
        "    i += 1\n"
        "    with Staging(out, 'r') as st:\n"
        "        for f in ('r.html', 'r.metrics.json'):\n"
        "            st.write_text(f, f'k{i} {f}\\n' * 20000)\n"
        "        st.write_text('r.manifest.json', json.dumps({'token': f'k{i}'}))\n"
        "        st.publish(['r.html', 'r.metrics.json', 'r.manifest.json'])\n"
    )
    rng = __import__("random").Random(7)
    for _ in range(6):
        p = subprocess.Popen([sys.executable, "-c", script, str(out)])
        time.sleep(0.4 + rng.random() * 0.6)
        p.kill()
        p.wait()
        assert len(_tokens(out, "r")) == 1  # html, metrics and manifest of one run
    _publish(out, "r", "last")
    assert _tokens(out, "r") == {"last"}
    assert leftovers(out) == []
    versions = [p for p in (out / STORE / "r").iterdir() if p.name.startswith("v-")]
    assert len(versions) <= 2


def test_a_reader_resolving_current_always_sees_one_complete_set(tmp_path):
    out = tmp_path / "out"
    _publish(out, "r", "k0")
    reader = (
        "import json, os, sys, time\n"
        "out = sys.argv[1]; bad = 0; n = 0; end = time.time() + 3\n"
        "while time.time() < end:\n"
        "    try:\n"
        "        v = os.path.realpath(os.path.join(out, '.rm-analytics', 'r', 'current'))\n"
        "        tok = json.load(open(os.path.join(v, 'r.manifest.json')))['token']\n"
        "        for f in ('r.html', 'r.metrics.json'):\n"
        "            text = open(os.path.join(v, f)).read()\n"
        "            bad += text.split()[0] != tok or not text.endswith('\\n')\n"
        "        n += 1\n"
        "    except FileNotFoundError:\n"
        "        pass  # a version removed two publishes later, while being read: retry\n"
        "print(json.dumps({'bad': bad, 'reads': n}))\n"
    )
    p = subprocess.Popen([sys.executable, "-c", reader, str(out)], stdout=subprocess.PIPE)
    i = 0
    while p.poll() is None:
        i += 1
        _publish(out, "r", f"k{i}")
    result = json.loads(p.stdout.read())
    assert result["reads"] > 20 and i > 5
    assert result["bad"] == 0


def test_confidential_sets_are_private_and_others_follow_the_umask(tmp_path):
    out = tmp_path / "out"
    _publish(out, "lead", "x", private=True)
    _publish(out, "sponsor", "y")
    version = Path(os.path.realpath(out / STORE / "lead" / "current"))
    assert file_mode(out / STORE / "lead") == 0o700
    assert file_mode(version) == 0o700
    for f in version.iterdir():
        assert file_mode(f) == 0o600, f.name
    mask = os.umask(0)
    os.umask(mask)
    sponsor = Path(os.path.realpath(out / STORE / "sponsor" / "current"))
    assert file_mode(sponsor) == 0o777 & ~mask
    for f in sponsor.iterdir():
        assert file_mode(f) == 0o666 & ~mask, f.name


def test_sweep_removes_leftovers_of_dead_processes_only(tmp_path):
    out = tmp_path / "out"
    _publish(out, "r", "good")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    base = out / STORE / "r"
    stale = base / f".staging-20260101T000000000000Z-{dead_pid}-abcd"
    mine = base / f".staging-20260101T000000000000Z-{os.getpid()}-abcd"
    for d in (stale, mine):
        d.mkdir()
    tmp_stale = Path(publish.tempfile.gettempdir()) / f"{publish.TEMP_PREFIX}{dead_pid}-x1"
    tmp_stale.mkdir()
    half_renamed = out / f".r.failed.ipynb.{dead_pid}.0a1b2c3d.tmp"
    half_renamed.write_text("{")
    removed = publish.sweep_leftovers(out)
    assert {stale, tmp_stale, half_renamed} <= set(removed)
    assert not stale.exists() and not tmp_stale.exists() and not half_renamed.exists()
    assert mine.exists() and _tokens(out, "r") == {"good"}
    shutil.rmtree(mine)


# -- names --------------------------------------------------------------------------------------
def test_report_names_are_file_safe_unique_and_stable():
    ids = ["all", "C01", "Sales/EMEA", "Sales_EMEA", "../up", "a b", "c01", "C-01", "x" * 300]
    names = report_names("sponsor-report", ids)
    assert names["all"] == "sponsor-report" and names["C-01"] == "sponsor-report-C-01"
    assert len(set(names.values())) == len(ids)
    assert len({n.lower() for n in names.values()}) == len(ids)  # case-insensitive disks
    for cid, n in names.items():
        assert "/" not in n and "\\" not in n and " " not in n and ".." not in n, cid
        assert len(n.encode()) < 120
    assert names["Sales_EMEA"] == "sponsor-report-Sales_EMEA"
    assert names["Sales/EMEA"].startswith("sponsor-report-Sales_EMEA-")
    assert report_names("sponsor-report", ids) == names  # the same id, the same file name


# -- command line: checks before anything runs --------------------------------------------------------
def _report(capsys, *args):
    code = run(["report", *args])
    return code, capsys.readouterr()


def test_out_pointing_at_a_file_exits_2(sample_dir, tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("keep me")
    for out in (target, target / "sub"):
        code, res = _report(capsys, "--data", str(sample_dir), "--out", str(out))
        assert code == 2, res.err
        assert "not a folder" in res.err and str(target) in res.err
        assert "Traceback" not in res.err
    assert target.read_text() == "keep me"


def test_unwritable_out_exits_2(sample_dir, tmp_path, capsys):
    out = tmp_path / "ro"
    out.mkdir()
    if os.geteuid() == 0:  # root ignores permission bits: make the folder immutable
        locked = subprocess.run(["chattr", "+i", str(out)], capture_output=True).returncode == 0
    else:
        out.chmod(0o555)
        locked = True
    try:
        probe_ok = True
        try:
            (out / "probe").mkdir()
        except OSError:
            probe_ok = False
        if not locked or probe_ok:
            pytest.skip("cannot make a folder unwritable here (root without chattr)")
        code, res = _report(capsys, "--data", str(sample_dir), "--out", str(out), "--quiet")
        assert code == 2, res.err
        assert str(out) in res.err
        assert "Traceback" not in res.err and "internal error" not in res.err
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(out)], check=False)
        else:
            out.chmod(0o755)


def test_internal_error_is_one_line_and_debug_shows_the_traceback(sample_dir, capsys, monkeypatch):
    import rm_analytics.data.pilot as pilot_module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pilot_module, "load_pilot", broken)
    code = run(["validate", "--data", str(sample_dir)])
    err = capsys.readouterr().err
    assert code == 1
    assert "internal error: RuntimeError: boom" in err and "--debug" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2
    with pytest.raises(RuntimeError, match="boom"):
        run(["--debug", "validate", "--data", str(sample_dir)])


# -- signals and workers (real processes) -------------------------------------------------------------
def test_stop_on_signals_turns_sigterm_into_an_exception_and_restores():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(workers.RunInterrupted) as exc, workers.stop_on_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert exc.value.signum == signal.SIGTERM and "SIGTERM" in str(exc.value)
    assert signal.getsignal(signal.SIGTERM) == before


def test_worker_dies_with_its_parent_even_on_sigkill(tmp_path):
    """A middle process starts a child that calls die_with_parent, then is SIGKILLed: the
    child notices and ends (Linux: PR_SET_PDEATHSIG; elsewhere the watch thread)."""
    token = secrets.token_hex(6)
    env = dict(os.environ, RM_TEST_RUN=token)
    child = (
        "import os, sys, time\n"
        "from rm_analytics.report.workers import die_with_parent\n"
        "die_with_parent(int(sys.argv[1]))\n"
        "time.sleep(60)\n"
    )
    middle = (
        "import os, subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {child!r}, str(os.getpid())])\n"
        "time.sleep(60)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", middle], env=env)
    assert wait_until(lambda: len(marked_processes(token)) == 2, 20)
    time.sleep(0.5)  # the child has installed its watch
    p.kill()
    p.wait()
    assert wait_until(lambda: not marked_processes(token), 5), marked_processes(token)


def _square(x):
    if x == 3:
        os._exit(9)  # a worker that dies (e.g. killed for memory)
    return x * x


def test_run_in_workers_keeps_order_and_reports_a_dead_worker():
    out = workers.run_in_workers(_square, [1, 2, 3, 4, 5], jobs=2)
    assert out[:2] == [1, 4] and out[3:] == [16, 25]
    assert out[2][0] == "error" and "exit code 9" in out[2][1][1]


# -- end to end (slow) -------------------------------------------------------------------------------
def _hostile_data(tmp_path: Path, sample_dir: Path) -> tuple[Path, dict[str, str]]:
    """The sample with path-hostile cohort ids."""
    import pandas as pd

    data = tmp_path / "data"
    shutil.copytree(sample_dir, data)
    ids = {"C01": "Sales/EMEA 2025", "C02": "../Ops 'B'", "C03": "R&D: cohort*3?"}
    for table in ("cohorts", "pairs", "control"):
        f = data / f"{table}.csv"
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        df["cohort_id"] = df["cohort_id"].replace(ids)
        df.to_csv(f, index=False)
    return data, ids


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, sample_dir):
    """One good `--cohort each --jobs 2` run over cohorts named with '/', '..', quotes."""
    from rm_analytics.report import render

    tmp = tmp_path_factory.mktemp("hostile")
    data, ids = _hostile_data(tmp, sample_dir)
    out = tmp / "out"
    reps = render(data, out, cohort="each", jobs=2, quiet=True, today="2026-09-30")
    return data, ids, out, reps


@pytest.mark.slow
def test_path_hostile_cohort_ids_render_with_safe_names(hostile_run):
    data, ids, out, reps = hostile_run
    names = report_names("sponsor-report", list(ids.values()))
    assert [r.name for r in reps] == [names[i] for i in ids.values()]
    for r, cohort in zip(reps, ids.values(), strict=True):
        assert r.html.parent == out and r.html.is_file()
        man = json.loads(r.manifest.read_text())
        assert man["cohort"] == cohort and man["report"] == r.name  # the mapping
        assert man["outputs"]["html"] == f"{r.name}.html"
        metrics = json.loads(r.metrics.read_text())
        assert metrics["report"]["cohort"] == cohort
    # nothing was written outside OUT (the '..' of a cohort id did not climb out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["data", "out"]


@pytest.mark.slow
def test_sigterm_stops_a_parallel_run_and_keeps_the_last_good_sets(hostile_run):
    data, ids, out, _ = hostile_run
    before = published(out)
    store_before = sorted(p.name for p in (out / STORE).rglob("v-*"))
    token = secrets.token_hex(6)
    env = dict(os.environ, RM_TEST_RUN=token)
    args = ["report", "--data", str(data), "--out", str(out), "--cohort", "each", "--jobs", "2"]
    p = subprocess.Popen(
        [*CLI, *args, "--today", "2026-09-30", "--quiet"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )

    def kernels():
        return [c for _, c in marked_processes(token) if "ipykernel_launcher" in c]

    # both reports are executing (a kernel each): neither can have been published yet
    assert wait_until(lambda: len(kernels()) == 2, 120), marked_processes(token)
    pids = [pid for pid, _ in marked_processes(token)]
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGTERM
    assert "interrupted by SIGTERM" in err and "Traceback" not in err
    assert wait_until(lambda: not marked_processes(token), 5), marked_processes(token)
    time.sleep(2)  # nothing writes after the stop
    assert published(out) == before
    assert sorted(p.name for p in (out / STORE).rglob("v-*")) == store_before
    assert leftovers(out) == []
    tmp = Path(publish.tempfile.gettempdir())
    assert not [
        d for d in tmp.glob(f"{publish.TEMP_PREFIX}*") if publish._owner_pid(d.name) in pids
    ]


@pytest.mark.slow
def test_sigkill_of_the_parent_ends_workers_and_kernels(tmp_path, sample_dir):
    out = tmp_path / "out"
    token = secrets.token_hex(6)
    env = dict(os.environ, RM_TEST_RUN=token)
    args = ["report", "--data", str(sample_dir), "--out", str(out), "--cohort", "each"]
    p = subprocess.Popen(
        [*CLI, *args, "--jobs", "2", "--quiet"], env=env, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    assert wait_until(
        lambda: len([c for _, c in marked_processes(token) if "ipykernel_launcher" in c]) == 2,
        120,
    )
    p.kill()
    p.wait()
    # workers get SIGTERM from the kernel (parent death signal), stop their kernels, clean up
    assert wait_until(lambda: not marked_processes(token), 10), marked_processes(token)
    time.sleep(2)
    assert published(out) == {}  # nothing half-published, nothing written late
    assert leftovers(out) == []


@pytest.mark.slow
def test_timeout_accepts_fractions_and_keeps_the_failed_notebook(
    tmp_path, sample_dir, monkeypatch, capfd
):
    """--timeout 1.5 used to fail every run (nbclient takes whole seconds); a timed-out run
    kept no failed notebook."""
    import nbformat

    from rm_analytics.report.collector import METRICS_MIMETYPE
    from rm_analytics.report.runner import notebook_path

    src = nbformat.read(str(notebook_path("sponsor")), as_version=4)
    params = next(c for c in src.cells if "parameters" in c.metadata.get("tags", []))
    # publish the metrics without importing anything slow: every cell has 1.5 s
    publish_cell = (
        "from IPython.display import display\n"
        f"display({{{METRICS_MIMETYPE!r}: {{'report': {{'cohort': cohort, 'as_of': as_of}}}}, "
        "'text/plain': ''}, raw=True)"
    )

    def notebooks(sleep: float) -> Path:
        folder = tmp_path / f"nb-{sleep}"
        folder.mkdir()
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            params,
            nbformat.v4.new_code_cell(f"import time\ntime.sleep({sleep})"),
            nbformat.v4.new_code_cell(publish_cell),
        ]
        nb.metadata = src.metadata
        nbformat.write(nb, str(folder / "sponsor_report.ipynb"))
        return folder

    out = tmp_path / "out"
    args = ["report", "--data", str(sample_dir), "--out", str(out), "--quiet", "--timeout", "1.5"]
    monkeypatch.setenv("RM_ANALYTICS_NOTEBOOKS", str(notebooks(0.5)))
    assert run(args) == 0, capfd.readouterr().err
    good = published(out)
    # 1.8 s: within a timeout rounded up to 2 s, beyond the 1.5 s asked for
    monkeypatch.setenv("RM_ANALYTICS_NOTEBOOKS", str(notebooks(1.8)))
    assert run(args) == 1
    err = capfd.readouterr().err  # the file descriptor: the kernel's output would show here
    assert "longer than the timeout of 1.5 s" in err
    assert "Traceback" not in err and "IPKernelApp" not in err
    failed = out / "sponsor-report.failed.ipynb"
    assert f"failed notebook kept at {failed}" in err
    nb = nbformat.read(str(failed), as_version=4)
    timed_out = [
        c
        for c in nb.cells
        if any(o.get("ename") == "CellTimeoutError" for o in c.get("outputs", []))
    ]
    assert len(timed_out) == 1 and "time.sleep(1.8)" in timed_out[0].source
    assert {k: v for k, v in published(out).items() if k != failed.name} == good


@pytest.mark.slow
def test_program_lead_files_are_private(tmp_path, sample_dir):
    from rm_analytics.report import render

    out = tmp_path / "out"
    (rep,) = render(sample_dir, out, audience="program-lead", quiet=True, today="2026-09-30")
    version = Path(os.path.realpath(rep.html)).parent
    assert file_mode(out) == 0o700  # created for a confidential report
    assert file_mode(out / STORE / rep.name) == 0o700 and file_mode(version) == 0o700
    for f in (rep.html, rep.notebook, rep.metrics, rep.manifest):
        assert file_mode(f) == 0o600, f.name


@pytest.mark.slow
def test_file_size_limit_exits_2_and_keeps_the_last_good_report(hostile_run):
    """An OS-level write failure in a real command-line run (RLIMIT_FSIZE gives EFBIG, as a
    full disk gives ENOSPC): exit 2 naming the file and the reason, no traceback, and the last
    good set untouched."""
    import resource

    data, ids, out, _ = hostile_run
    before = published(out)

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    cohort = ids["C01"]
    res = subprocess.run(
        [
            *CLI,
            "report",
            "--data",
            str(data),
            "--out",
            str(out),
            "--cohort",
            cohort,
            "--today",
            "2026-09-30",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        preexec_fn=limit,
    )
    assert res.returncode == 2, res.stderr
    name = report_names("sponsor-report", [cohort])[cohort]
    assert f"cannot write {name}.html in {out}: File too large" in res.stderr
    assert "last good report" in res.stderr and "Traceback" not in res.stderr
    assert published(out) == before and leftovers(out) == []
