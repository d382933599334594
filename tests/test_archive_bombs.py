"""Archive bombs of every kind stop at their cap, quickly, without `tarfile.is_tarfile`."""

from __future__ import annotations

import gzip
import io
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from abplan import limits
from abplan.errors import InputError
from abplan.papers import archive, load_paper

TEX = b"\\documentclass{article}\\title{T}\\begin{document}\\section{Method}The gate.\\end{document}"
MIB = 1 << 20


@pytest.fixture(autouse=True)
def _no_is_tarfile(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*a: object, **kw: object) -> bool:
        raise AssertionError("tarfile.is_tarfile must never see untrusted data")

    monkeypatch.setattr(tarfile, "is_tarfile", refuse)


def header(name: str, size: int, kind: bytes = tarfile.REGTYPE, fmt: int = tarfile.GNU_FORMAT) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = size, kind
    return info.tobuf(format=fmt)


def written(dest: Path) -> int:
    return sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())


def extract_fails(arc: Path, tmp_path: Path, match: str) -> tuple[float, Path]:
    dest = tmp_path / "out"
    dest.mkdir()
    t = time.perf_counter()
    with pytest.raises(InputError, match=match):
        archive.extract(arc, dest)
    return time.perf_counter() - t, dest


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        (tarfile.GNUTYPE_LONGNAME, "name header claims 7700000000 bytes"),
        (tarfile.GNUTYPE_LONGLINK, "name header claims 7700000000 bytes"),
        (tarfile.XHDTYPE, "extended header claims 7700000000 bytes"),
        (tarfile.XGLTYPE, "extended header claims 7700000000 bytes"),
    ],
)
def test_long_name_header_bomb(kind: bytes, match: str, tmp_path: Path) -> None:
    """A header that claims 7.7 GB of name: refused from the header alone, nothing read."""
    arc = tmp_path / "bomb.tar.gz"
    arc.write_bytes(gzip.compress(header("././@LongLink", 7_700_000_000, kind) + bytes(16 * MIB), 9))
    assert arc.stat().st_size < 100_000
    elapsed, dest = extract_fails(arc, tmp_path, match)
    assert elapsed < 1.0 and written(dest) == 0


def test_chained_extension_headers(tmp_path: Path) -> None:
    one = header("././@LongLink", 512, tarfile.GNUTYPE_LONGNAME) + b"a" * 511 + b"\0"
    arc = tmp_path / "chain.tar.gz"
    arc.write_bytes(gzip.compress(one * 5000))
    elapsed, _ = extract_fails(arc, tmp_path, "chained headers|corrupt archive")
    assert elapsed < 5.0


def test_gzip_bomb_stops_at_the_total_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_ARCHIVE_TOTAL_BYTES", 4 * MIB)
    monkeypatch.setattr(limits, "MAX_ARCHIVE_MEMBER_BYTES", 2 * MIB)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for i in range(40):  # 60 MiB unpacked
            info = tarfile.TarInfo(f"pad{i}.tex")
            info.size = int(1.5 * MIB)
            tf.addfile(info, io.BytesIO(bytes(info.size)))
    arc = tmp_path / "bomb.tgz"
    arc.write_bytes(buf.getvalue())
    assert arc.stat().st_size < 200_000
    elapsed, dest = extract_fails(arc, tmp_path, "expands past the size limit")
    assert written(dest) <= 4 * MIB + (1 << 20) and elapsed < 5.0


def test_oversized_member_is_refused_from_its_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_ARCHIVE_MEMBER_BYTES", 2 * MIB)
    arc = tmp_path / "big.tar.gz"
    arc.write_bytes(gzip.compress(header("main.tex", 50 * MIB) + bytes(50 * MIB) + bytes(1024), 1))
    elapsed, dest = extract_fails(arc, tmp_path, "larger than 2 MiB")
    assert written(dest) == 0 and elapsed < 2.0


@pytest.mark.parametrize("member", ["dir", "symlink", "file"])
def test_many_members_stop_at_the_count_cap(
    member: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_ARCHIVE_MEMBERS", 100)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for i in range(2_000):
            info = tarfile.TarInfo(f"d{i}")
            if member == "dir":
                info.type = tarfile.DIRTYPE
            elif member == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, "main.tex"
            tf.addfile(info, io.BytesIO(b""))
    arc = tmp_path / "many.tar.gz"
    arc.write_bytes(buf.getvalue())
    elapsed, dest = extract_fails(arc, tmp_path, "more than 100 files")
    assert len(list(dest.iterdir())) <= 100 and elapsed < 3.0


def test_many_zip_members_are_refused_before_extracting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_ARCHIVE_MEMBERS", 100)
    arc = tmp_path / "many.zip"
    with zipfile.ZipFile(arc, "w") as zf:
        for i in range(500):
            zf.writestr(f"f{i}.txt", b"x")
    _, dest = extract_fails(arc, tmp_path, "more than 100 files")
    assert list(dest.iterdir()) == []


def test_zip_bomb_member(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_ARCHIVE_MEMBER_BYTES", 1 * MIB)
    arc = tmp_path / "bomb.zip"
    with zipfile.ZipFile(arc, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("main.tex", bytes(30 * MIB))
    elapsed, dest = extract_fails(arc, tmp_path, "larger than 1 MiB")
    assert written(dest) == 0 and elapsed < 2.0


def test_sparse_members_are_refused(tmp_path: Path) -> None:
    arc = tmp_path / "sparse.tar"
    arc.write_bytes(header("main.tex", 0, tarfile.GNUTYPE_SPARSE) + bytes(1024))
    extract_fails(arc, tmp_path, "sparse")


def test_long_member_name_past_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_ARCHIVE_NAME_BYTES", 300)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo("d/" * 200 + "main.tex")
        info.size = len(TEX)
        tf.addfile(info, io.BytesIO(TEX))
    arc = tmp_path / "names.tar"
    arc.write_bytes(buf.getvalue())
    extract_fails(arc, tmp_path, "name longer than 300 bytes")


@pytest.mark.parametrize(
    ("mode", "suffix"), [("w", ".tar"), ("w:gz", ".tar.gz"), ("w:bz2", ".tar.bz2"), ("w:xz", ".tar.xz")]
)
@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_ordinary_archives_still_read(mode: str, suffix: str, fmt: int, tmp_path: Path) -> None:
    buf = io.BytesIO()
    long_dir = "sections-" + "x" * 150  # past 100 characters: a GNU long name or a pax path
    with tarfile.open(fileobj=buf, mode=mode, format=fmt) as tf:  # type: ignore[call-overload]
        for name, data in (
            ("main.tex", TEX.replace(b"The gate.", b"\\input{" + long_dir.encode() + b"/a}")),
            (f"{long_dir}/a.tex", b"The gate is weighted."),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    arc = tmp_path / f"src{suffix}"
    arc.write_bytes(buf.getvalue())
    assert "gate is weighted" in load_paper(arc).text


def test_not_an_archive(tmp_path: Path) -> None:
    arc = tmp_path / "fake.tar.gz"
    arc.write_bytes(b"just some text, not an archive at all" * 20)
    extract_fails(arc, tmp_path, "not a readable tar or zip archive")
