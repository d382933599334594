"""The run folder on disk (its paths are `abplan.bench.layout.RunDir`): the lock that keeps one run per folder, the clean-up of temporary
files a kill left behind, cheap atomic writes and the threads that make them for a run (`FileWriters`).

Writes are `abplan.fsutil.write_file_atomic`: `.<name>.<pid>-<n>.tmp` beside the target, then a rename.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import queue
import re
import stat
import threading
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from abplan.bench.layout import LOCK, ROOT_FILES, RunDir
from abplan.errors import ConfigError
from abplan.fsutil import write_file_atomic
from abplan.judges.base import Judgement
from abplan.redact import redact
from abplan.schema import Plan

LOCK_NAME = LOCK
M = TypeVar("M", bound=BaseModel)
_TMP_TAIL = r"\.(?:[a-z0-9_]{8}|\d+-\d+)\.tmp"  # mkstemp's 8 characters, or our pid-counter
_ROOT_TMP = re.compile(r"\.(?:" + "|".join(re.escape(n) for n in ROOT_FILES) + ")" + _TMP_TAIL)
_PLAN_TMP = re.compile(r"\..+\.jsonl?" + _TMP_TAIL)
_JSON_TMP = re.compile(r"\..+\.json" + _TMP_TAIL)


def write_atomic(path: str, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename (the folder must exist)."""
    write_file_atomic(path, data)


Files = list[tuple[str, bytes]]


def write_files(files: Files, drop: str | None = None) -> None:
    """Write `files` in order (each atomically), then remove `drop` if it exists."""
    for path, data in files:
        write_atomic(path, data)
    if drop is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(drop)


class FileWriters:
    """Worker threads that write task files (`write_files`) for the event loop.

    `asyncio.to_thread` without its costs per call (a `concurrent.futures.Future` with its lock and
    condition, a chained asyncio future, a copy of the context), which were a fifteenth of the loop's
    work per task at concurrency 128. As with the default pool, several threads: the GIL makes a
    writer wait after each system call while the loop runs, and one thread alone fell behind.
    `close` waits for every write handed over.
    """

    def __init__(self, threads: int = 6) -> None:
        self._size = threads
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    async def write(self, files: Files, drop: str | None = None) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        if not self._threads:
            for _ in range(self._size):
                t = threading.Thread(target=self._work, name="abplan-writer", daemon=True)
                t.start()
                self._threads.append(t)
        self._queue.put((loop, done, files, drop))
        await done

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            loop, done, files, drop = job
            err: BaseException | None = None
            try:
                write_files(files, drop)
            except BaseException as e:  # handed to the task that waits for it
                err = e
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, done, err)

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join()
        self._threads = []


_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]", Files, str | None]


def _settle(done: asyncio.Future[None], err: BaseException | None) -> None:
    if done.done():  # its task was cancelled
        return
    if err is None:
        done.set_result(None)
    else:
        done.set_exception(err)


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
    the run folder itself and its plans/, failures/ and judgements/<judge>/ folders (no symlink followed)."""
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


def existing_names(folder: Path, suffix: str) -> set[str]:
    """Stems of the regular files named `*<suffix>` in `folder` (one directory listing, no stat per task)."""
    return {
        e.name[: -len(suffix)]
        for e in _regular_files(folder)
        if e.name.endswith(suffix) and not e.name.startswith(".")
    }


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


def read_model(path: Path | str, model: type[M]) -> M | None:
    """`path` parsed as `model`, or None when it is unreadable (never happens with atomic writes, but a
    hand-edited file must not crash a run: the task is done again)."""
    try:
        with open(path, "rb") as f:
            return model.model_validate_json(f.read())
    except (OSError, ValueError):
        return None


def read_failure(path: Path) -> str:
    """The reason a failure record gives (redacted: it may be from an older run), or a stand-in."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return "failed (its failure record is unreadable)"
    why = data.get("error") if isinstance(data, dict) else None
    return redact(why) if isinstance(why, str) and why else "failed"


def read_task_files(
    run: RunDir, judge: str, task_ids: list[str], loaded: dict[str, tuple[Plan, Judgement]]
) -> tuple[dict[str, tuple[Plan, Judgement]], dict[str, str]]:
    """The plan and judgement of every task that has both (from `loaded`, else from the folder), and the
    failure reason of every task with a failure record and no judgement."""
    done: dict[str, tuple[Plan, Judgement]] = {}
    failures: dict[str, str] = {}
    for tid in task_ids:
        if tid in loaded:
            done[tid] = loaded[tid]
            continue
        pj, jj, fj = run.plan(tid), run.judgement(judge, tid), run.failure(tid)
        plan = read_model(pj, Plan) if pj.is_file() else None
        judgement = read_model(jj, Judgement) if jj.is_file() else None
        if judgement is None and fj.is_file():
            failures[tid] = read_failure(fj)
        if plan is not None and judgement is not None:
            done[tid] = (plan, judgement)
    return done, failures
