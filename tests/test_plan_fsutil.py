from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from abplan.fsutil import atomic_write_bytes, atomic_write_json, atomic_write_text


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask")
def test_ordinary_files_follow_the_umask(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "plan.md", "x")
    atomic_write_json(tmp_path / "run" / "config.json", {"a": 1})
    assert mode_of(tmp_path / "plan.md") == 0o644
    assert mode_of(tmp_path / "run" / "config.json") == 0o644
    os.umask(0o027)
    atomic_write_bytes(tmp_path / "group.bin", b"x")
    assert mode_of(tmp_path / "group.bin") == 0o640


@pytest.mark.usefixtures("umask")
def test_private_files_are_0600_whatever_the_umask(tmp_path: Path) -> None:
    os.umask(0)
    atomic_write_text(tmp_path / "secret.toml", "k", private=True)
    assert mode_of(tmp_path / "secret.toml") == 0o600
    atomic_write_json(tmp_path / "s.json", {}, private=True)
    assert mode_of(tmp_path / "s.json") == 0o600


def test_no_clobber_write_refuses_an_existing_name(tmp_path: Path) -> None:
    p = tmp_path / "plan.md"
    p.write_text("mine")
    with pytest.raises(FileExistsError):
        atomic_write_text(p, "theirs", overwrite=False)
    assert p.read_text() == "mine"
    assert not list(tmp_path.glob(".*tmp"))
    atomic_write_text(tmp_path / "new.md", "fresh", overwrite=False)
    assert (tmp_path / "new.md").read_text() == "fresh"
    assert not list(tmp_path.glob(".*tmp"))
