"""Small file helpers: atomic writes and content hashes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux: /proc/self/status)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _UMASK_LOCK:  # elsewhere the only way to read it is to set it and put it back
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def atomic_write_bytes(
    path: Path, data: bytes, fsync: bool = False, *, private: bool = False, overwrite: bool = True
) -> None:
    """Write to a temporary file beside `path`, then rename: readers, and a rerun after a kill, never see
    half a file. `fsync=True` also survives a power cut, at about a millisecond a file.

    The file gets the mode an ordinary `open()` would give it (0666 less the umask), or 0600 with
    `private=True`, for files that can hold secrets. With `overwrite=False` an existing `path` is left
    alone and `FileExistsError` raised, atomically (no check-then-write race)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600 if private else 0o666 & ~current_umask())
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_no_clobber(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
