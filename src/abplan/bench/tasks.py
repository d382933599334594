"""Benchmark tasks and datasets: our local format, AblationBench's Hugging Face datasets and a local clone.

A task is an id, a mode, a paper and its gold: `ablations_in_paper` (author mode) or `review_text`
and `num_ablation_suggestions` (reviewer mode), optionally with a `missing_ablations` list.
"""

from __future__ import annotations

import functools
import json
import os
import stat
import unicodedata
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from abplan.bench.paper_folder import links_in, paper_target
from abplan.errors import InputError, MissingExtraError
from abplan.fsutil import sha256_text
from abplan.limits import MAX_ID_BYTES
from abplan.papers import TEXT_SUFFIXES, load_paper, load_text_paper
from abplan.papers.latex import read_capped
from abplan.papers.textutil import file_suffix
from abplan.schema import Mode, Paper, Task

__all__ = [  # Task is defined in abplan.schema with the other shared types, and loaded here
    "HF_DATASETS",
    "LFS_MAGIC",
    "Task",
    "check_id",
    "check_paper_path",
    "load_ablationbench_clone",
    "load_dataset",
    "load_hf",
    "load_local",
    "load_parquet",
    "load_task_paper",
    "stub_paper",
    "task_from_record",
]

LFS_MAGIC = b"version https://git-lfs.github.com/spec/v1"
HF_DATASETS = {
    "ai-coscientist/researcher-ablation-bench": "author",
    "ai-coscientist/author-ablation-bench": "author",
    "ai-coscientist/reviewer-ablation-bench": "reviewer",
}


def _json_field(value: Any, name: str, where: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as e:
            raise InputError(f"{where}: field '{name}' is not valid JSON ({e.msg})") from e
    return value


def _gold(items: Any) -> Any:
    """Gold ablations as given by datasets: `evidence` may be a quote string (dev-bench's reviewer gold)."""
    if not isinstance(items, list):
        return items
    out = []
    for it in items:
        if isinstance(it, dict) and isinstance(it.get("evidence"), str):
            it = {**it, "evidence": [{"quote": it["evidence"], "section": "reviews"}]}
        out.append(it)
    return out


def check_id(value: Any, where: str) -> str:
    """A task id names files (`bench export`'s `<id>.jsonl`, an older run folder's `plans/<id>.json`):
    refuse ids that could leave their folder.

    Ids are refused rather than encoded because `<id>.jsonl` must keep AblationBench's file names,
    which `bench eval --plans` reads back; every id in its datasets already passes.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(f"{where}: field 'id' must be a string, not {type(value).__name__}")
    tid = str(value)
    if not tid:
        raise InputError(f"{where}: field 'id' is missing")
    bad = next((c for c in tid if c in "/\\" or unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        what = "a path separator" if bad in "/\\" else f"the control character U+{ord(bad):04X}"
        raise InputError(f"{where}: field 'id' {tid!r} contains {what}")
    if tid in (".", ".."):
        raise InputError(f"{where}: field 'id' must not be {tid!r}")
    if len(tid.encode("utf-8")) > MAX_ID_BYTES:
        raise InputError(f"{where}: field 'id' is longer than {MAX_ID_BYTES} bytes (UTF-8)")
    return tid


@functools.lru_cache(maxsize=256)
def _real_root(root: str) -> str:
    """The dataset folder with symlinks resolved, once per folder: every task of a dataset shares it."""
    return os.path.realpath(root)


@functools.lru_cache(maxsize=256)
def _absolute(root: str) -> str:
    """`os.path.abspath` of an absolute path (only normalises it, so it can be kept)."""
    return os.path.abspath(root)


def _inside(path: Path | str, root: Path | str) -> bool:
    """`path`, symlinks resolved, is `root` or lies under it (`os.path.realpath`: no Path objects, as
    this runs for every file of every task)."""
    where = os.fspath(root)
    base = _absolute(where) if os.path.isabs(where) else os.path.abspath(where)  # cwd may change
    top = _real_root(base)
    if _plainly_below(os.fspath(path), base, top):
        return True
    real = os.path.realpath(path)
    return real == top or real.startswith(top if top.endswith(os.sep) else top + os.sep)


def _plainly_below(path: str, base: str, top: str) -> bool:
    """`path` is `base/a/b/...` and no `a`, `a/b`, ... is a link or `..`: then it resolves to `top/a/b/...`,
    inside. A `realpath` would look up every part from `/` instead of the two or three below the root
    (whose resolution `top` is). False when unsure: the caller resolves the path."""
    if not os.path.isabs(path):
        path = os.path.join(os.getcwd(), path)
    prefix = base if base.endswith(os.sep) else base + os.sep
    if not path.startswith(prefix):
        return False
    here = top
    for part in path[len(prefix) :].split(os.sep):
        if part in ("", ".", ".."):
            return False
        here = os.path.join(here, part)
        try:
            if stat.S_ISLNK(os.lstat(here).st_mode):
                return False
        except OSError:
            return False
    return True


def check_paper_path(value: Any, where: str, base: Path | None) -> str:
    """A paper path relative to the dataset folder, that resolves (symlinks too) inside it."""
    if not isinstance(value, str) or "\x00" in value:
        raise InputError(f"{where}: field 'paper_path' must be a path string")
    p = Path(value)
    if base is None:
        return str(p)
    full = p if p.is_absolute() else base / p
    if not _inside(full, base):
        raise InputError(f"{where}: field 'paper_path' {value!r} leads outside the dataset folder {base}")
    return str(full)


def task_from_record(
    rec: dict[str, Any], where: str, base: Path | None, default_mode: Mode | None = None
) -> Task:
    """Validate one dataset record; errors name the line and the field."""
    if not isinstance(rec, dict):
        raise InputError(f"{where}: not a JSON object")
    mode = rec.get("task") or rec.get("mode") or default_mode
    if mode not in ("author", "reviewer"):
        raise InputError(f"{where}: field 'task' must be 'author' or 'reviewer', not {mode!r}")
    if rec.get("id") is None:
        raise InputError(f"{where}: field 'id' is missing")
    data: dict[str, Any] = {
        "id": check_id(rec["id"], where),
        "mode": mode,
        "paper_title": rec.get("paper_title") or "",
        "paper_abstract": rec.get("paper_abstract") or "",
    }
    if rec.get("paper_path"):
        data["paper_path"] = check_paper_path(rec["paper_path"], where, base)
        data["root"] = str(base) if base is not None else None
    if mode == "author":
        gold = _json_field(rec.get("ablations_in_paper"), "ablations_in_paper", where)
        if not isinstance(gold, list) or not gold:
            raise InputError(f"{where}: field 'ablations_in_paper' must be a non-empty list of ablations")
        data["ablations_in_paper"] = _gold(gold)
    else:
        reviews = _json_field(rec.get("review_text"), "review_text", where)
        if isinstance(reviews, str):
            reviews = [reviews]
        if not isinstance(reviews, list) or not all(isinstance(r, str) for r in reviews) or not reviews:
            raise InputError(f"{where}: field 'review_text' must be a non-empty list of review strings")
        data["review_text"] = reviews
        missing = _json_field(rec.get("missing_ablations"), "missing_ablations", where)
        if missing is not None:
            data["missing_ablations"] = _gold(missing)
        n = rec.get("num_ablation_suggestions")
        if n is None:
            if missing is None:
                raise InputError(
                    f"{where}: field 'num_ablation_suggestions' is missing (or give 'missing_ablations')"
                )
            n = len(missing)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise InputError(
                f"{where}: field 'num_ablation_suggestions' must be a positive integer, not {n!r}"
            )
        data["num_ablation_suggestions"] = n
    try:
        return Task.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise InputError(f"{where}: field '{loc}': {err['msg']}") from e


def load_local(path: Path) -> list[Task]:
    """Our local format: a folder with tasks.jsonl and papers/<id>/..., or the tasks.jsonl file itself."""
    file = path / "tasks.jsonl" if path.is_dir() else path
    if not file.is_file():
        raise InputError(f"{path}: no tasks.jsonl found")
    tasks: list[Task] = []
    seen: set[str] = set()
    for n, line in enumerate(file.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{file.name} line {n}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{where}: not valid JSON ({e.msg})") from e
        t = task_from_record(rec, where, file.parent)
        if t.id in seen:
            raise InputError(f"{where}: duplicate task id {t.id!r}")
        seen.add(t.id)
        tasks.append(t)
    if not tasks:
        raise InputError(f"{file}: no tasks")
    return tasks


def load_parquet(path: Path, mode: Mode, repo_root: Path | None) -> list[Task]:
    try:
        import pyarrow.parquet as pq
    except ImportError as e:
        raise MissingExtraError("pyarrow", "parquet") from e
    rows = pq.read_table(path).to_pylist()
    return [task_from_record(r, f"{path.name} row {i}", repo_root, mode) for i, r in enumerate(rows, 1)]


def load_ablationbench_clone(root: Path, mode: Mode, split: str = "test") -> list[Task]:
    """A local clone of the AblationBench repository (paper paths are relative to its root)."""
    sub = "author-ablation" if mode == "author" else "reviewer-ablation"
    path = root / "data" / "ai-coscientist" / sub / f"{split}.parquet"
    if not path.is_file():
        raise InputError(f"{path}: not found (is this an AblationBench clone, and the split right?)")
    if path.read_bytes()[: len(LFS_MAGIC)] == LFS_MAGIC:
        raise InputError(f"{path} is a Git LFS pointer, not data: run 'git lfs pull' in {root}")
    return load_parquet(path, mode, root)


def load_hf(name: str, split: str = "test", mode: Mode | None = None) -> list[Task]:
    """AblationBench's Hugging Face datasets (or any dataset `datasets.load_dataset` can open)."""
    try:
        import datasets
    except ImportError as e:
        raise MissingExtraError("the datasets package", "hf") from e
    if mode is None:
        mode = "reviewer" if HF_DATASETS.get(name) == "reviewer" or "reviewer" in name else "author"
    try:
        ds = datasets.load_dataset(name, split=split)
    except Exception as e:  # the library raises many types: network, missing split, bad name
        raise InputError(
            f"{name}[{split}]: cannot load the dataset ({type(e).__name__}: {str(e)[:200]})"
        ) from e
    return [
        task_from_record(dict(r), f"{name}[{split}] row {i}", Path.cwd(), mode) for i, r in enumerate(ds, 1)
    ]


def load_dataset(spec: str, split: str = "test", mode: Mode | None = None) -> list[Task]:
    """A local folder or tasks.jsonl, a .parquet file, an AblationBench clone (with --mode), or an HF dataset name."""
    path = Path(spec).expanduser()
    if path.exists():
        if path.suffix == ".parquet":
            if mode is None:
                raise InputError(f"{path}: say which task it holds with --mode author|reviewer")
            return load_parquet(path, mode, path.parent)
        if (path / "data" / "ai-coscientist").is_dir():
            if mode is None:
                raise InputError(
                    f"{path} is an AblationBench clone: choose the task with --mode author|reviewer"
                )
            return load_ablationbench_clone(path, mode, split)
        return load_local(path)
    if spec in HF_DATASETS or (spec.count("/") == 1 and not spec.startswith((".", "/"))):
        return load_hf(spec, split)
    raise InputError(f"{spec}: no such dataset folder or file")


def _starts_with_lfs(path: Path) -> bool:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        return os.read(fd, len(LFS_MAGIC)) == LFS_MAGIC
    finally:
        os.close(fd)


def _check_inside(task: Task, paths: list[Path] | list[str]) -> None:
    """Every file the paper is read from stays inside the dataset folder, symlinks resolved."""
    if task.root is None:
        return
    for f in paths:
        if not _inside(f, task.root):
            raise InputError(f"task {task.id}: {Path(f)} leads outside the dataset folder {Path(task.root)}")


def load_task_paper(task: Task, keep_hidden_text: bool = False) -> Paper:
    """The task's paper, with the dataset's title and abstract where it gives them.

    Every file read is checked to lead inside the dataset folder, symlinks resolved, with as few
    system calls as that takes: this runs for every task of a benchmark run, on its event loop."""
    if not task.paper_path:
        raise InputError(f"task {task.id}: no paper_path")
    try:
        is_dir = stat.S_ISDIR(os.stat(task.paper_path).st_mode)
    except OSError:
        raise InputError(f"task {task.id}: paper not found at {Path(task.paper_path)}") from None
    _check_inside(task, [task.paper_path])
    target, is_file, is_link = paper_target(task, task.paper_path, is_dir)
    if not is_file:
        target = Path(target)
        _check_inside(task, links_in(target))
    elif is_link:  # a plain file in the checked folder is inside it
        _check_inside(task, [str(target)])
    if is_file and file_suffix(target).lower() in TEXT_SUFFIXES:
        # The usual paper.md: read once, the pointer check made on the bytes read.
        data = read_capped(target)
        if data.startswith(LFS_MAGIC):
            raise InputError(_lfs_pointer(task, target))
        # The dataset's title and abstract are put in as the paper is made, not copied in after.
        return load_text_paper(
            target,
            data,
            keep_hidden_text=keep_hidden_text,
            title=task.paper_title,
            abstract=task.paper_abstract,
        )
    target = Path(target)
    for f in [target] if is_file else list(target.rglob("*.tex"))[:5]:
        if _starts_with_lfs(f):
            raise InputError(_lfs_pointer(task, f))
    paper = load_paper(target, keep_hidden_text=keep_hidden_text)
    update: dict[str, Any] = {}
    if task.paper_title:
        update["title"] = task.paper_title
    if task.paper_abstract:
        update["abstract"] = task.paper_abstract
    return paper.model_copy(update=update) if update else paper


def _lfs_pointer(task: Task, f: Path | str) -> str:
    return f"task {task.id}: {f} is a Git LFS pointer, not the paper: run 'git lfs pull'"


def stub_paper(task: Task) -> Paper:
    """A paper made of the task's title and abstract, for steps that need no paper text."""
    text = "\n\n".join(x for x in (task.paper_title, task.paper_abstract) if x) or task.id
    return Paper(
        title=task.paper_title or task.id,
        abstract=task.paper_abstract,
        sections=(),
        text=text,
        source_kind="text",
        source=task.id,
        content_hash=sha256_text(text),
    )
