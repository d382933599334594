"""Where a task came from: source, version or commit, licence, content hashes."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

from abplan._version import __version__
from abplan.papers.arxiv import parse_arxiv_id
from abplan.schema import Paper

LICENSE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING")


def git_commit(path: Path) -> str | None:
    """The commit of the git checkout holding `path` (with "+dirty" when it has local changes)."""
    folder = path if path.is_dir() else path.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--", str(path.resolve())],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def licence_file(path: Path) -> str | None:
    folder = path if path.is_dir() else path.parent
    for name in LICENSE_NAMES:
        f = folder / name
        if f.is_file():
            first = next(
                (ln.strip() for ln in f.read_text("utf-8", "replace").splitlines() if ln.strip()), ""
            )
            return f"{name}: {first[:120]}"
    return None


def file_sha256(path: Path) -> str | None:
    if not path.is_file():
        return None
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def provenance(
    source: str, paper: Paper, *, note: str | None, licence: str | None, method: str, model: str | None
) -> dict[str, Any]:
    path = Path(source).expanduser()
    local = path.exists()
    aid = None if local else parse_arxiv_id(source)
    out: dict[str, Any] = {
        "source": source,
        "source_kind": paper.source_kind,
        "arxiv_id": aid,
        "version": note or (git_commit(path) if local else None),
        "license": licence or (licence_file(path) if local else None),
        "source_text_sha256": paper.content_hash,
        "source_file_sha256": file_sha256(path) if local else None,
        "method": method,
        # Text hidden from readers is left out of the task's paper, as planners never see it either.
        "findings": sorted({f.kind for f in paper.findings}) or None,
        "model": model,
        "abplan_version": __version__,
    }
    return {k: v for k, v in out.items() if v is not None}
