"""`abplan view --export DIR`: the viewer's pages as static files that open through file://.

Every page's links are relative and flat, so the folder works anywhere. Each file is written
atomically; a folder that is not empty is refused unless `force`, and only then are pages overwritten
(other files in it are left alone).
"""

from __future__ import annotations

from pathlib import Path

from abplan.errors import InputError
from abplan.fsutil import atomic_write_bytes
from abplan.view.pages import Site, safe_file_name


def check_target(folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--export {folder} is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise InputError(f"--export {folder} is not empty: choose an empty folder or add --force")


def export(site: Site, folder: Path, force: bool = False) -> list[Path]:
    """Write every page of `site` into `folder` (created if needed); returns the files written."""
    check_target(folder, force)
    names = list(site.names())
    bad = [n for n in names if not safe_file_name(n)]  # page names come from task ids in the run's files
    if bad:
        raise InputError(
            f"--export: the run names a page {bad[0]!r} that is not a plain file name; nothing written"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"--export {folder}: cannot create it ({e.strerror or e})") from None
    written = []
    for name in names:
        found = site.page(name)
        if found is None:
            continue
        path = folder / name
        atomic_write_bytes(path, found[1])
        written.append(path)
    return written
