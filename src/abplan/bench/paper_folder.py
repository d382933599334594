"""Which file or folder of a benchmark task's paper folder is its paper, found from one listing of the
folder (this runs for every task of a run, on its event loop)."""

from __future__ import annotations

import os
from pathlib import Path

from abplan.errors import InputError
from abplan.schema import Task


def links_in(folder: Path) -> list[Path]:
    """The folder and every link inside it (the only entries that can lead elsewhere)."""
    found = [folder]
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in (*dirnames, *filenames):
            entry = Path(dirpath) / name
            if entry.is_symlink():
                found.append(entry)
    return found


def join_name(folder: str, name: str) -> str:
    """`str(Path(folder, name))` for a file name from a listing of `folder` (no "/", not "." or
    ".."): written out when `folder` is already as pathlib writes it (no empty or "." part, no
    trailing "/"), which is how a dataset's paper paths are stored, else made with pathlib."""
    plain = (
        folder not in ("", ".")
        and "//" not in folder
        and "/./" not in folder
        and not folder.startswith("./")
        and not folder.endswith(("/", "/."))
    )
    return f"{folder}/{name}" if plain else str(Path(folder, name))


def paper_target(task: Task, p: str, is_dir: bool) -> tuple[Path | str, bool, bool]:
    """The file or LaTeX folder to read for a task whose paper_path is `p`, whether it is a file, and
    whether it is a link found in the folder `p`.

    A folder is LaTeX if anything in it is named *.tex, else its paper is paper.md, <id>.md or the
    first other .md by name (never a README). One listing of the folder answers all of it (the tree
    below is walked only if the folder has subfolders and no .tex of its own): this runs per task."""
    if not is_dir:
        path = Path(p)
        return path, path.is_file(), False
    with os.scandir(p) as it:
        entries = {e.name: e for e in it}
    has_tex = any(name.endswith(".tex") for name in entries) or any(
        name.endswith(".tex")
        for e in entries.values()
        if e.is_dir(follow_symlinks=False)
        for _d, dirs, files in os.walk(e.path)
        for name in (*dirs, *files)
    )
    if has_tex:
        return Path(p), False, False
    named = [n for n in ("paper.md", f"{task.id}.md") if n in entries]
    others = sorted(n for n in entries if n.endswith(".md") and n not in named)
    md = next((n for n in named + others if n.lower() != "readme.md" and entries[n].is_file()), None)
    if md is None:
        raise InputError(f"task {task.id}: {Path(p)} holds no .md or .tex paper")
    return join_name(p, md), True, entries[md].is_symlink()  # a string: no Path made per task
