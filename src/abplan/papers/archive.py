"""Safe extraction of LaTeX source archives (.tar, .tar.gz, .tgz, .zip).

Refuses path traversal, absolute paths and links that point outside; skips links and devices;
bounds the number of files, each file's size and the total size actually written.
"""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from abplan.errors import InputError

MAX_FILES = 5_000
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_FILE_BYTES = 128 * 1024 * 1024
_CHUNK = 1 << 20


def _safe_name(name: str, archive: str) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise InputError(f"{archive}: unsafe archive member with an absolute path: {name!r}")
    if ".." in p.parts:
        raise InputError(f"{archive}: unsafe archive member escaping the folder: {name!r}")
    return p


class _Budget:
    def __init__(self, archive: str) -> None:
        self.archive = archive
        self.files = 0
        self.total = 0

    def file(self) -> None:
        self.files += 1
        if self.files > MAX_FILES:
            raise InputError(f"{self.archive}: archive holds more than {MAX_FILES} files")

    def copy(self, src: object, dest: Path) -> None:
        written = 0
        with dest.open("wb") as out:
            while True:
                chunk = src.read(_CHUNK)  # type: ignore[attr-defined]
                if not chunk:
                    break
                written += len(chunk)
                self.total += len(chunk)
                if written > MAX_FILE_BYTES or self.total > MAX_TOTAL_BYTES:
                    raise InputError(
                        f"{self.archive}: archive expands past the size limit "
                        f"({MAX_TOTAL_BYTES // 2**20} MiB in all, {MAX_FILE_BYTES // 2**20} MiB a file)"
                    )
                out.write(chunk)


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip"))


def extract(path: Path, dest: Path) -> Path:
    """Extract `path` into `dest` (which must exist and be empty). Returns `dest`."""
    name = path.name
    dest = dest.resolve()
    budget = _Budget(name)
    try:
        if zipfile.is_zipfile(path):
            _extract_zip(path, dest, budget)
        elif tarfile.is_tarfile(path):
            _extract_tar(path, dest, budget)
        else:
            raise InputError(f"{name}: not a readable tar or zip archive")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as e:
        if isinstance(e, OSError) and not isinstance(e, EOFError) and e.errno is not None:
            raise InputError(f"{name}: cannot extract archive: {e.strerror}") from e
        raise InputError(f"{name}: corrupt archive ({type(e).__name__})") from e
    return dest


def _target(dest: Path, rel: PurePosixPath) -> Path:
    t = (dest / rel).resolve()
    if t != dest and dest not in t.parents:
        raise InputError(f"unsafe archive member escaping the folder: {rel}")
    return t


def _extract_tar(path: Path, dest: Path, budget: _Budget) -> None:
    with tarfile.open(path, "r:*") as tf:
        for m in tf:
            rel = _safe_name(m.name, path.name)
            if m.issym() or m.islnk():
                link = PurePosixPath(m.linkname)
                base = rel.parent if m.issym() else PurePosixPath()
                if link.is_absolute() or ".." in (base / link).parts:
                    raise InputError(f"{path.name}: unsafe link {m.name!r} -> {m.linkname!r} points outside")
                continue  # links inside the tree are not needed to read a paper
            if m.isdir():
                _target(dest, rel).mkdir(parents=True, exist_ok=True)
                continue
            if not m.isfile():
                continue
            budget.file()
            if m.size > MAX_FILE_BYTES:
                raise InputError(
                    f"{path.name}: member {m.name!r} is larger than {MAX_FILE_BYTES // 2**20} MiB"
                )
            t = _target(dest, rel)
            t.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(m)
            if src is not None:
                budget.copy(src, t)


def _extract_zip(path: Path, dest: Path, budget: _Budget) -> None:
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            rel = _safe_name(info.filename, path.name)
            if info.is_dir():
                _target(dest, rel).mkdir(parents=True, exist_ok=True)
                continue
            mode = (info.external_attr >> 16) & 0o170000
            if mode == 0o120000:  # symlink stored in a zip
                continue
            budget.file()
            if info.file_size > MAX_FILE_BYTES:
                raise InputError(
                    f"{path.name}: member {info.filename!r} is larger than {MAX_FILE_BYTES // 2**20} MiB"
                )
            t = _target(dest, rel)
            t.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src:
                budget.copy(src, t)
