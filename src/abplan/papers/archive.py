"""Safe extraction of LaTeX source archives (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz, .zip).

Refuses path traversal, absolute paths and links that point outside; skips links and devices. The kind is
told from magic bytes (never `tarfile.is_tarfile`, which reads a whole GNU long-name or pax header into
memory, however large it claims to be), and a tar is read as a stream, with every header checked before
tarfile acts on it: name and extended-header sizes, member sizes, the member count and the total size
actually written are bounded by `abplan.limits`.
"""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

from abplan import limits
from abplan.errors import InputError

_CHUNK = 1 << 20
MAX_EXTENDED_HEADER_BYTES = 64 * 1024  # one pax header: a few records (path, sizes, times)
_NAME_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
_PAX_TYPES = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)
_STREAM_MODES: dict[str, Literal["r|", "r|gz", "r|bz2", "r|xz"]] = {
    "tar": "r|",
    "gz": "r|gz",
    "bz2": "r|bz2",
    "xz": "r|xz",
}
_MAGIC = {
    b"\x1f\x8b": "gz",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
    b"PK\x05\x06": "zip",  # an empty zip
}


def _safe_name(name: str, archive: str) -> PurePosixPath:
    if len(name.encode("utf-8", "surrogateescape")) > limits.MAX_ARCHIVE_NAME_BYTES:
        raise InputError(f"{archive}: archive member name longer than {limits.MAX_ARCHIVE_NAME_BYTES} bytes")
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise InputError(f"{archive}: unsafe archive member with an absolute path: {name!r}")
    if ".." in p.parts:
        raise InputError(f"{archive}: unsafe archive member escaping the folder: {name!r}")
    return p


class _BoundedTarInfo(tarfile.TarInfo):
    """Checks each header's claimed size before tarfile reads what it describes."""

    def _proc_member(self, tf: tarfile.TarFile) -> Any:
        if self.type in _NAME_TYPES and self.size > limits.MAX_ARCHIVE_NAME_BYTES:
            raise InputError(
                f"archive member name header claims {self.size} bytes "
                f"(more than {limits.MAX_ARCHIVE_NAME_BYTES})"
            )
        if self.type in _PAX_TYPES and self.size > MAX_EXTENDED_HEADER_BYTES:
            raise InputError(f"archive extended header claims {self.size} bytes (more than 64 KiB)")
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise InputError("archive holds a sparse file, which LaTeX sources never need")
        if self.size > limits.MAX_ARCHIVE_MEMBER_BYTES:
            raise InputError(
                f"archive member {self.name!r} is larger than {limits.MAX_ARCHIVE_MEMBER_BYTES // limits.MIB} MiB"
            )
        return super()._proc_member(tf)  # type: ignore[misc]


class _Budget:
    def __init__(self, archive: str) -> None:
        self.archive = archive
        self.members = 0
        self.total = 0

    def member(self) -> None:
        self.members += 1
        if self.members > limits.MAX_ARCHIVE_MEMBERS:
            raise InputError(
                f"{self.archive}: archive holds more than {limits.MAX_ARCHIVE_MEMBERS} files, folders and links"
            )

    def copy(self, src: IO[bytes], dest: Path) -> None:
        written = 0
        with dest.open("wb") as out:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                self.total += len(chunk)
                if written > limits.MAX_ARCHIVE_MEMBER_BYTES or self.total > limits.MAX_ARCHIVE_TOTAL_BYTES:
                    raise InputError(
                        f"{self.archive}: archive expands past the size limit "
                        f"({limits.MAX_ARCHIVE_TOTAL_BYTES // limits.MIB} MiB in all, "
                        f"{limits.MAX_ARCHIVE_MEMBER_BYTES // limits.MIB} MiB a file)"
                    )
                out.write(chunk)


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip"))


def sniff_archive(head: bytes) -> str | None:
    """'zip', 'gz', 'bz2', 'xz' or 'tar' from an archive's first 512 bytes; None if it is none of them."""
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return None


def extract(path: Path, dest: Path) -> Path:
    """Extract `path` into `dest` (which must exist and be empty). Returns `dest`."""
    name = path.name
    dest = dest.resolve()
    budget = _Budget(name)
    try:
        with path.open("rb") as fh:
            kind = sniff_archive(fh.read(512))
        if kind == "zip" or (kind is None and zipfile.is_zipfile(path)):
            _extract_zip(path, dest, budget)
        elif kind is not None:
            _extract_tar(path, dest, budget, kind)
        else:
            raise InputError(f"{name}: not a readable tar or zip archive")
    except InputError as e:
        msg = str(e)
        raise InputError(msg if msg.startswith(name) else f"{name}: {msg}") from e
    except RecursionError as e:  # a chain of thousands of extension headers
        raise InputError(f"{name}: corrupt archive (too many chained headers)") from e
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        if isinstance(e, OSError) and not isinstance(e, EOFError) and e.errno is not None:
            raise InputError(f"{name}: cannot extract archive: {e.strerror}") from e
        raise InputError(f"{name}: corrupt archive ({type(e).__name__})") from e
    return dest


def _target(dest: Path, rel: PurePosixPath) -> Path:
    t = (dest / rel).resolve()
    if t != dest and dest not in t.parents:
        raise InputError(f"unsafe archive member escaping the folder: {rel}")
    return t


def _extract_tar(path: Path, dest: Path, budget: _Budget, kind: str) -> None:
    mode = _STREAM_MODES[kind]
    with path.open("rb") as fh, tarfile.open(fileobj=fh, mode=mode, tarinfo=_BoundedTarInfo) as tf:
        for m in tf:
            budget.member()
            tf.members.clear()  # type: ignore[attr-defined]  # a stream needs no index of headers
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
            t = _target(dest, rel)
            t.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(m)
            if src is not None:
                budget.copy(src, t)


def _extract_zip(path: Path, dest: Path, budget: _Budget) -> None:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > limits.MAX_ARCHIVE_MEMBERS:
            budget.members = len(infos) - 1
            budget.member()
        for info in infos:
            budget.member()
            rel = _safe_name(info.filename, path.name)
            if info.is_dir():
                _target(dest, rel).mkdir(parents=True, exist_ok=True)
                continue
            mode = (info.external_attr >> 16) & 0o170000
            if mode == 0o120000:  # symlink stored in a zip
                continue
            if info.file_size > limits.MAX_ARCHIVE_MEMBER_BYTES:
                raise InputError(
                    f"{path.name}: member {info.filename!r} is larger than "
                    f"{limits.MAX_ARCHIVE_MEMBER_BYTES // limits.MIB} MiB"
                )
            t = _target(dest, rel)
            t.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src:
                budget.copy(src, t)
