"""Task folders in the local format: DIR/tasks.jsonl, DIR/papers/<id>/paper.md and DIR/exclusions.jsonl.

Writing a task replaces the line of the same id and keeps the others, so a dataset grows one paper at a
time; every file is written atomically.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from abplan.errors import InputError
from abplan.fsutil import atomic_write_text
from abplan.limits import MAX_ID_BYTES
from abplan.redact import redact


def task_id_for(title: str, content_hash: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", title.lower()).split()[:5]
    base = "-".join(words)[:50].strip("-") or "paper"
    return f"{base}-{content_hash[:8]}"


def check_id(task_id: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-]*", task_id) or len(task_id.encode()) > MAX_ID_BYTES:
        raise InputError(
            f"--id {task_id!r}: use letters, digits, '.', '_' and '-' (at most {MAX_ID_BYTES} bytes)"
        )
    return task_id


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise InputError(f"{path} line {n}: not valid JSON ({e.msg}); fix or remove it") from e
    return out


def _write_lines(path: Path, rows: list[dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def redacted(obj: Any) -> Any:
    """A model's words, with anything shaped like a key masked, before they reach a file."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, list):
        return [redacted(x) for x in obj]
    if isinstance(obj, dict):
        return {k: redacted(v) for k, v in obj.items()}
    return obj


def write_task(out: Path, record: dict[str, Any], paper_md: str, exclusions: list[dict[str, Any]]) -> Path:
    """Write one task (its paper first, the task line last) and its exclusions; returns the paper path."""
    tid = str(record["id"])
    paper = out / "papers" / tid / "paper.md"
    atomic_write_text(paper, paper_md)
    ex_path = out / "exclusions.jsonl"
    kept = [r for r in _read_lines(ex_path) if r.get("task_id") != tid]
    if kept or exclusions or ex_path.exists():
        _write_lines(ex_path, kept + [{"task_id": tid, **redacted(e)} for e in exclusions])
    tasks = out / "tasks.jsonl"
    rows = _read_lines(tasks)
    at = next((i for i, r in enumerate(rows) if r.get("id") == tid), None)
    if at is None:
        rows.append(record)
    else:
        rows[at] = record
    _write_lines(tasks, rows)
    return paper
