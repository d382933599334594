"""The run folder on disk (its paths are `abplan.bench.layout.RunDir`): the lock that keeps one run per folder, the clean-up of temporary
files a kill left behind, and cheap atomic writes.

Writes are `abplan.fsutil.write_file_atomic`: `.<name>.<pid>-<n>.tmp` beside the target, then a rename.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
from pathlib import Path

from abplan.bench.layout import LOCK, ROOT_FILES, RunDir
from abplan.errors import ConfigError
from abplan.fsutil import write_file_atomic

LOCK_NAME = LOCK
_TMP_TAIL = r"\.(?:[a-z0-9_]{8}|\d+-\d+)\.tmp"  # mkstemp's 8 characters, or our pid-counter
_ROOT_TMP = re.compile(r"\.(?:" + "|".join(re.escape(n) for n in ROOT_FILES) + ")" + _TMP_TAIL)
_PLAN_TMP = re.compile(r"\..+\.jsonl?" + _TMP_TAIL)
_JSON_TMP = re.compile(r"\..+\.json" + _TMP_TAIL)


def write_atomic(path: str, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename (the folder must exist)."""
    write_file_atomic(path, data)


def _regular_files(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return [e for e in it if e.is_file(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _subfolders(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as it:
            return [Path(e.path) for e in it if e.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []


def clean_temporaries(out: Path | RunDir) -> int:
    """Delete the temporary files of writes a kill interrupted: only abplan's own temporary names, only in
    the run folder itself, its plans/ and, in a folder from before the journal, failures/ and
    judgements/<judge>/ (no symlink followed)."""
    run = out if isinstance(out, RunDir) else RunDir(out)
    places: list[tuple[Path, re.Pattern[str]]] = [
        (run.root, _ROOT_TMP),
        (run.plans, _PLAN_TMP),
        (run.failures, _JSON_TMP),
    ]
    judgements = run.judgements_root
    if judgements.is_dir() and not judgements.is_symlink():
        places += [(j, _JSON_TMP) for j in _subfolders(judgements)]
    removed = 0
    for folder, pattern in places:
        if folder.is_symlink():
            continue
        for entry in _regular_files(folder):
            if pattern.fullmatch(entry.name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def prepare_folder(out: Path) -> None:
    """Create the run folder, or refuse with one line when it cannot be one."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder: choose a folder for the run")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"--out {out}: cannot create the run folder ({e.strerror or e})") from e


class RunLock:
    """One run per folder: an exclusive `flock` on `<out>/.abplan-run.lock`, holding the owner's pid.

    The kernel drops the lock when its holder dies, so a killed run never blocks the next one.
    """

    def __init__(self, out: Path | RunDir) -> None:
        self.path = (out if isinstance(out, RunDir) else RunDir(out)).lock
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as e:
            raise ConfigError(f"{self.path}: cannot open the run lock ({e.strerror or e})") from e
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ConfigError(f"{self.path} is not a regular file: remove it or use another --out")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise ConfigError(
                f"{self.path.parent} is in use by another abplan run (pid {holder}): "
                "wait for it to finish or use another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None
