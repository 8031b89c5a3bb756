"""Publish a report's files (HTML, notebook, metrics, manifest, PDF) as one unit.

A report ``NAME`` rendered into ``OUT`` is written into a staging folder inside
``OUT/.rm-analytics/NAME/``; when every file is written and flushed, the folder is renamed to
a version folder and the link ``OUT/.rm-analytics/NAME/current`` is switched to it by one
``rename`` (atomic on POSIX file systems). The documented names ``OUT/NAME.html``,
``OUT/NAME.ipynb``, ... are relative symbolic links through ``current``, so a reader or a
scheduler sees either the whole previous set or the whole new one, never a mix; a run that
fails or is killed before the switch leaves the previous set in place. To read one set
consistently while runs may publish, resolve ``current`` once
(``os.path.realpath("OUT/.rm-analytics/NAME/current")``) and read the files in that folder;
the manifest names its version folder.

The previous version is kept (a reader that resolved it a moment ago can finish), older ones
and the leftovers of killed runs (staging folders whose process is gone) are removed by the
next run. Confidential reports (``private=True``) get folders 0700 and files 0600; other
reports follow the umask (usually 0755 / 0644).

On a platform without symbolic links the files are renamed into ``OUT`` one by one, the
manifest last (each file is whole, the set is not atomic).
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path

from ..errors import RmAnalyticsError

#: Folder inside OUT holding the versions of every report.
STORE = ".rm-analytics"
#: Link switched to the newest complete version.
CURRENT = "current"
#: Temporary folders of report runs in the system temporary folder start with this.
TEMP_PREFIX = "rm-report-"
#: File errors that are the output folder's fault, not the package's (exit 2).
OUTPUT_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EEXIST,
    errno.EFBIG,
    errno.ENAMETOOLONG,
}


class ReportOutputError(RmAnalyticsError, OSError):
    """The output folder cannot take the report: not a folder, not writable, disk full.

    Nothing was published: the last good report is left in place (exit code 2).
    """


def output_error(exc: OSError, doing: str, where: str | None = None) -> ReportOutputError:
    """A :class:`ReportOutputError` saying what failed, where (``where``, else the error's
    file name) and why."""
    where = f" {where}" if where else (f" {exc.filename}" if exc.filename else "")
    why = exc.strerror or str(exc)
    return ReportOutputError(
        f"cannot {doing}{where}: {why}; nothing was published and the last good report "
        "(if any) was left in place"
    )


def check_output_folder(out: str | os.PathLike) -> Path:
    """Check, without creating anything, that ``out`` is or can become a writable folder.

    Raises :class:`ReportOutputError` when ``out`` (or a parent) is a file, or when the
    nearest existing folder is not writable.
    """
    path = Path(out)
    probe = path
    while not probe.exists():
        if probe.is_symlink():  # a dangling link
            raise ReportOutputError(f"output folder {out}: {probe} is a broken link")
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        what = "is a file" if probe == path else f"is inside {probe}, which is a file"
        raise ReportOutputError(f"output folder {out} {what}, not a folder (--out)")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise ReportOutputError(
            f"output folder {out}: cannot write into {probe} (permission denied)"
        )
    return path


def ensure_output_folder(out: str | os.PathLike, *, private: bool = False) -> Path:
    """Create ``out`` and its store of versions (0700 for confidential reports)."""
    path = check_output_folder(out)
    try:
        if not path.is_dir():
            path.mkdir(parents=True, mode=0o700 if private else 0o777)
        (path / STORE).mkdir(exist_ok=True)
    except OSError as exc:
        raise output_error(exc, "create the output folder") from None
    return path


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _owner_pid(name: str) -> int | None:
    """The process id recorded in a staging or temporary folder name (``...-<pid>-<rand>``)."""
    parts = name.split("-")
    try:
        return int(parts[-2])
    except (IndexError, ValueError):
        return None


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        with suppress(FileNotFoundError):
            path.unlink()
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def sweep_leftovers(out: str | os.PathLike | None = None) -> list[Path]:
    """Remove what killed runs left behind: staging folders and temporary links in ``out``'s
    store whose process is gone, and this user's ``rm-report-<pid>-*`` temporary folders
    whose process is gone. Returns the removed paths."""
    removed: list[Path] = []
    if out is not None and Path(out).is_dir():
        # `.NAME.<pid>.<hex>.link` and `.NAME.<pid>.<hex>.tmp`: a link or a failed notebook
        # being renamed into place when the process was killed
        for entry in Path(out).iterdir():
            if entry.name.startswith(".") and entry.name.endswith((".link", ".tmp")):
                parts = entry.name.split(".")
                pid = int(parts[-3]) if len(parts) >= 4 and parts[-3].isdigit() else None
                if pid is not None and not _pid_alive(pid):
                    _remove(entry)
                    removed.append(entry)
    if out is not None and (Path(out) / STORE).is_dir():
        for base in (Path(out) / STORE).iterdir():
            if not base.is_dir() or base.is_symlink():
                continue
            for entry in base.iterdir():
                if entry.name.startswith((".staging-", ".current-")):
                    pid = _owner_pid(entry.name)
                    if pid is not None and not _pid_alive(pid):
                        _remove(entry)
                        removed.append(entry)
    tmp = Path(tempfile.gettempdir())
    uid = os.getuid() if hasattr(os, "getuid") else None
    with suppress(OSError):
        for entry in tmp.iterdir():
            if not entry.name.startswith(TEMP_PREFIX):
                continue
            pid = _owner_pid(entry.name)
            try:
                owned = uid is None or entry.lstat().st_uid == uid
            except OSError:
                continue
            if pid is not None and owned and not _pid_alive(pid):
                _remove(entry)
                removed.append(entry)
    return removed


def temporary_folder() -> tempfile.TemporaryDirectory:
    """A temporary folder named after this process, so a later run can remove it if this
    process is killed before it cleans up."""
    return tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-")


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Block SIGTERM/SIGINT/SIGHUP while the few renames of a publish run (POSIX)."""
    sigs = {signal.SIGTERM, signal.SIGINT} | (
        {signal.SIGHUP} if hasattr(signal, "SIGHUP") else set()
    )
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (raises OSError, e.g. ENOSPC)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _links_supported(folder: Path) -> bool:
    probe = folder / f".link-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.symlink(CURRENT, probe)
    except (OSError, NotImplementedError):
        return False
    probe.unlink()
    return True


class Staging:
    """Where one report's files are written before they are published together.

    Leaving the block without :meth:`publish` (an error, a signal) removes the staging
    folder; the published set is untouched.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> out = Path(tempfile.mkdtemp())
    >>> with Staging(out, "sponsor-report") as st:
    ...     page = st.write_text("sponsor-report.html", "<p>first</p>")
    ...     version = st.publish(["sponsor-report.html"])
    >>> (out / "sponsor-report.html").read_text(), (out / "sponsor-report.html").is_symlink()
    ('<p>first</p>', True)
    >>> with Staging(out, "sponsor-report") as st:  # a run that fails before publishing
    ...     page = st.write_text("sponsor-report.html", "<p>half written</p>")
    ...     raise RuntimeError("kernel died")
    Traceback (most recent call last):
    RuntimeError: kernel died
    >>> (out / "sponsor-report.html").read_text()  # the last good report stays
    '<p>first</p>'
    """

    def __init__(self, out: str | os.PathLike, name: str, *, private: bool = False):
        self.out = ensure_output_folder(out, private=private)
        self.name = name
        self.private = private
        self.base = self.out / STORE / name
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        token = f"{stamp}-{os.getpid()}-{secrets.token_hex(4)}"
        #: Name of the version folder this run publishes.
        self.version = f"v-{token}"
        self.path = self.base / f".staging-{token}"
        try:
            self.base.mkdir(exist_ok=True, mode=0o700 if private else 0o777)
            if private:
                os.chmod(self.base, 0o700)
            self.path.mkdir(mode=0o700 if private else 0o777)
        except OSError as exc:
            raise output_error(exc, "create the staging folder") from None
        self.published = False
        self.files: list[str] = []
        self._previous: Path | None = None
        self._retire: list[str] = []

    # -- writing -----------------------------------------------------------------------------
    def _open(self, filename: str) -> int:
        if os.sep in filename or (os.altsep and os.altsep in filename) or filename in (".", ".."):
            raise ValueError(f"not a plain file name: {filename!r}")
        mode = 0o600 if self.private else 0o666
        return os.open(self.path / filename, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)

    def write_bytes(self, filename: str, data: bytes) -> Path:
        """Write (and flush to disk) one file of the set."""
        try:
            fd = self._open(filename)
            try:
                _write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise output_error(exc, "write", f"{filename} in {self.out}") from None
        self.files.append(filename)
        return self.path / filename

    def write_text(self, filename: str, text: str) -> Path:
        return self.write_bytes(filename, text.encode("utf-8"))

    def add_file(self, filename: str, source: str | os.PathLike) -> Path:
        """Copy a file written elsewhere (e.g. the PDF) into the set."""
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise output_error(exc, "read") from None
        return self.write_bytes(filename, data)

    # -- publishing --------------------------------------------------------------------------
    def publish(self, names: Sequence[str] | None = None, retire: Sequence[str] = ()) -> Path:
        """Switch ``OUT/NAME.*`` to this set in one step; returns the version folder.

        ``names`` are the files of the set (default: every file written); ``retire`` names
        files of earlier sets that must not outlive them in ``OUT`` (e.g. ``NAME.pdf`` when
        this set has no PDF).
        """
        names = list(names or self.files)
        self._retire = [n for n in retire if n not in names]
        missing = [n for n in names if not (self.path / n).is_file()]
        if missing:
            raise ValueError(f"not written: {', '.join(missing)}")
        try:
            _fsync_dir(self.path)
            with _signals_deferred(), _locked(self.base):
                if _links_supported(self.base):
                    version = self._switch(names)
                else:  # pragma: no cover - platforms without symbolic links
                    version = self._rename_into_place(names)
                self.published = True
                self._clean_versions()
        except OSError as exc:
            raise output_error(exc, "publish the report in") from None
        return version

    def _switch(self, names: list[str]) -> Path:
        version = self.base / self.version
        previous = self.current_version()
        os.rename(self.path, version)
        link = self.base / f".current-{os.getpid()}-{secrets.token_hex(4)}"
        os.symlink(self.version, link)
        os.replace(link, self.base / CURRENT)  # the one atomic step
        _fsync_dir(self.base)
        self._previous = previous
        # the documented names: links through `current` (created once, then left alone)
        for n in names:
            target = os.path.join(STORE, self.name, CURRENT, n)
            dest = self.out / n
            if dest.is_symlink() and os.readlink(dest) == target:
                continue
            if dest.is_dir() and not dest.is_symlink():
                raise IsADirectoryError(errno.EISDIR, "a folder is in the way", str(dest))
            tmp = self.out / f".{n}.{os.getpid()}.{secrets.token_hex(4)}.link"
            os.symlink(target, tmp)
            os.replace(tmp, dest)
        for n in self._retire:  # e.g. the PDF of an earlier run: gone with its set
            dest = self.out / n
            if dest.is_symlink() or dest.is_file():
                dest.unlink()
        _fsync_dir(self.out)
        return version

    def _rename_into_place(self, names: list[str]) -> Path:  # pragma: no cover - no symlinks
        order = sorted(names, key=lambda n: n.endswith(".manifest.json"))
        for n in order:
            os.replace(self.path / n, self.out / n)
        shutil.rmtree(self.path, ignore_errors=True)
        self._previous = None
        return self.out

    def current_version(self) -> Path | None:
        """The version folder ``current`` points to (None before the first publish)."""
        link = self.base / CURRENT
        if not link.is_symlink():
            return None
        target = self.base / os.readlink(link)
        return target if target.is_dir() else None

    def _clean_versions(self) -> None:
        keep = {CURRENT, self.version}
        if self._previous is not None:
            keep.add(self._previous.name)
        for entry in self.base.iterdir():
            if entry.name in keep:
                continue
            if entry.name.startswith("v-"):
                _remove(entry)
            elif entry.name.startswith((".staging-", ".current-")):
                pid = _owner_pid(entry.name)
                if pid is not None and not _pid_alive(pid):
                    _remove(entry)

    def discard(self) -> None:
        """Remove the staging folder (nothing is published)."""
        if not self.published:
            shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder/.lock`` (POSIX ``flock``), so two runs publishing the
    same report one after the other do not remove each other's versions."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_atomically(path: str | os.PathLike, data: bytes, *, private: bool = False) -> Path:
    """Write one file atomically (a temporary name, then ``rename``): e.g. the failed
    notebook kept next to the report. 0600 when ``private``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink()
        raise output_error(exc, "write", str(path)) from None
    return path


def file_mode(path: str | os.PathLike) -> int:
    """Permission bits of a file or folder (following links), e.g. ``0o600``."""
    return stat.S_IMODE(os.stat(path).st_mode)


def is_published_link(path: str | os.PathLike) -> bool:
    """True when ``path`` is one of the links this module maintains."""
    p = Path(path)
    return p.is_symlink() and os.readlink(p).startswith(STORE + os.sep)


__all__ = [
    "CURRENT",
    "STORE",
    "ReportOutputError",
    "Staging",
    "check_output_folder",
    "ensure_output_folder",
    "file_mode",
    "is_published_link",
    "output_error",
    "sweep_leftovers",
    "temporary_folder",
    "write_atomically",
]
