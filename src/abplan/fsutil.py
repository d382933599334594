"""Small file helpers: atomic writes, content hashes and the cache folder."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
from pathlib import Path
from typing import Any

_counter = itertools.count()
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)


def write_file_atomic(
    path: str, data: bytes, *, private: bool = False, fsync: bool = False, overwrite: bool = True
) -> None:
    """Write `data` to `path` (its folder must exist) through `.<name>.<pid>-<n>.tmp` and a rename:
    readers, and a rerun after a kill, never see half a file. The temporary name is created with O_EXCL,
    so no random names or retries are needed; a name left by an earlier process is skipped.

    The file gets the mode an ordinary `open()` would give it (0666 less the umask), or 0600 with
    `private=True`, for files that can hold secrets. `fsync=True` also survives a power cut, at about a
    millisecond a file. With `overwrite=False` an existing `path` is left alone and `FileExistsError`
    raised, atomically (no check-then-write race)."""
    folder, name = os.path.split(path)
    while True:
        tmp = os.path.join(folder, f".{name}.{os.getpid()}-{next(_counter)}.tmp")
        try:
            fd = os.open(tmp, _FLAGS, 0o600 if private else 0o666)
            break
        except FileExistsError:
            continue
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_no_clobber(tmp, Path(path))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(
    path: Path, data: bytes, fsync: bool = False, *, private: bool = False, overwrite: bool = True
) -> None:
    """`write_file_atomic`, creating the folder first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file_atomic(str(path), data, private=private, fsync=fsync, overwrite=overwrite)


def _link_no_clobber(tmp: str, path: Path) -> None:
    """Give the finished temporary file the name `path` unless that name exists."""
    try:
        os.link(tmp, path)  # fails with FileExistsError if `path` exists
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: check, then rename (a small race remains)
        if path.exists():
            raise FileExistsError(str(path)) from None
        os.replace(tmp, path)
        return
    Path(tmp).unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str, *, private: bool = False, overwrite: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), private=private, overwrite=overwrite)


def atomic_write_json(path: Path, obj: Any, *, private: bool = False) -> None:
    atomic_write_text(
        path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n", private=private
    )


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# One encoder, built once: `json.dumps` with any non-default option builds a new one per call, which
# cost more than encoding a small request.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical_json(obj: Any) -> str:
    """`json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))`."""
    return _CANONICAL.encode(obj)


def default_cache_dir() -> Path:
    """`$ABPLAN_CACHE_DIR`, else `$XDG_CACHE_HOME/abplan`, else `~/.cache/abplan` (LM replies, downloads)."""
    env = os.environ.get("ABPLAN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "abplan"
