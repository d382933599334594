"""The run journal, `<run>/journal.jsonl`: what became of each task, one JSON line per outcome, appended
as tasks end.

    {"id": "t1", "plan": {...}, "judgement": {...}}   done
    {"id": "t2", "plan": {...}}                       planned; its judge's request is pending (batch mode)
    {"id": "t3", "plan": {...}, "error": "..."}       planned, then the judge failed (the plan is kept)
    {"id": "t4", "error": "..."}                      the planner failed

A task's last line is its state, so a rerun that finishes a failed task just appends. One line in one
open file replaces the three files a task used to write: creating a file costs 0.05 to 1 ms of kernel
time on a busy disk, appending a line a few microseconds (lm-evaluation-harness and inspect_ai likewise
keep one samples log per run). `plans/<id>.jsonl`, the AblationBench-compatible copy of each plan, is
still written, off the tasks' path (`abplan.bench.runner`).

Crash safety without a temporary file: each line is one `write` to a file opened with O_APPEND, so a kill
leaves at most a torn last line (no newline). Readers ignore it and the next run cuts it off before it
appends. A line that is not a record (a hand edit) is skipped and its task done again.

Run folders written before the journal (`plans/<id>.json`, `judgements/<judge>/<id>.json`,
`failures/<id>.json`) are still read (`read_records`), and a run resumed in one carries them over.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from abplan.bench.layout import RunDir
from abplan.errors import ConfigError
from abplan.judges.base import Judgement
from abplan.redact import redact
from abplan.schema import Plan

__all__ = [
    "Journal",
    "Journaled",
    "TaskRecord",
    "outcomes",
    "read_journal",
    "read_records",
    "record_line",
]

_FLAGS = os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True)
class TaskRecord:
    """A task's state in a run: its plan, its judgement, or why it failed (redacted when read)."""

    plan: Plan | None = None
    judgement: Judgement | None = None
    error: str | None = None


@dataclass(frozen=True)
class Journaled:
    """A journal as read: each task's last record, and where the whole lines end (a torn tail is past it)."""

    records: dict[str, TaskRecord]
    end: int


def record_line(
    task_id: str, plan: Plan | None, judgement: Judgement | None = None, error: str | None = None
) -> bytes:
    """One journal line (pydantic's own JSON for the plan and judgement: the fastest encoder here)."""
    parts = ['{"id":', json.dumps(task_id)]
    if plan is not None:
        parts += [',"plan":', plan.model_dump_json()]
    if judgement is not None:
        parts += [',"judgement":', judgement.model_dump_json()]
    if error is not None:
        parts += [',"error":', json.dumps(error)]  # ASCII escapes: even a lone surrogate is stored
    parts.append("}\n")
    return "".join(parts).encode("utf-8")


class _Line(BaseModel):
    """A journal line, read in one pass of pydantic's JSON parser (a rerun reads every line)."""

    id: str
    plan: Plan | None = None
    judgement: Judgement | None = None
    error: Any = None


def _parse(line: bytes) -> tuple[str, TaskRecord] | None:
    try:
        got = _Line.model_validate_json(line)
    except ValidationError:  # not a record, or JSON that only Python's parser reads (a lone surrogate)
        try:
            return _record(json.loads(line))
        except ValueError:  # not JSON, or not UTF-8
            return None
    error = redact(got.error) if isinstance(got.error, str) else None
    return got.id, TaskRecord(got.plan, got.judgement, error)


def _record(obj: Any) -> tuple[str, TaskRecord] | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        return None
    plan, judgement, error = obj.get("plan"), obj.get("judgement"), obj.get("error")
    try:
        rec = TaskRecord(
            Plan.model_validate(plan) if plan is not None else None,
            Judgement.model_validate(judgement) if judgement is not None else None,
            redact(error) if isinstance(error, str) else None,
        )
    except ValidationError:
        return None
    return obj["id"], rec


def read_journal(path: Path | str) -> Journaled:
    """The journal at `path` (empty if there is none). Lines that are not records are skipped."""
    try:
        data = _read_file(os.fspath(path))
    except FileNotFoundError:
        return Journaled({}, 0)
    end = data.rfind(b"\n") + 1
    records: dict[str, TaskRecord] = {}
    for line in data[:end].splitlines():
        if not line.strip():
            continue
        got = _parse(line)
        if got is not None:
            records[got[0]] = got[1]
    return Journaled(records, end)


def _read_file(path: str) -> bytes:
    """The bytes of a regular file, never through a symlink (one planted in a run must not be read)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb") as f:
        return f.read()


def _legacy_model(path: str, model: type[Plan] | type[Judgement]) -> Any:
    try:
        return model.model_validate_json(_read_file(path))
    except (OSError, ValueError):
        return None


def _legacy_failure(path: str) -> str | None:
    try:
        data = json.loads(_read_file(path))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return "failed (its failure record is unreadable)"
    why = data.get("error") if isinstance(data, dict) else None
    return redact(why) if isinstance(why, str) and why else "failed"


def legacy_records(run: RunDir, judge: str) -> dict[str, TaskRecord]:
    """The task files of a run folder written before the journal, as records."""
    ids: set[str] = set()
    for folder, suffix in ((run.plans, ".json"), (run.failures, ".json"), (run.judgements(judge), ".json")):
        try:
            with os.scandir(folder) as it:
                ids |= {
                    e.name[: -len(suffix)]
                    for e in it
                    if e.name.endswith(suffix)
                    and not e.name.startswith(".")
                    and e.is_file(follow_symlinks=False)
                }
        except (FileNotFoundError, NotADirectoryError):
            continue
    records = {}
    for tid in sorted(ids):
        plan = _legacy_model(run.plan_file(tid), Plan)
        judgement = _legacy_model(run.judgement_file(judge, tid), Judgement)
        error = None if judgement is not None else _legacy_failure(run.failure_file(tid))
        if plan is not None or judgement is not None or error is not None:
            records[tid] = TaskRecord(plan, judgement, error)
    return records


def has_journal(run: RunDir) -> bool:
    """Whether the run folder has a journal. One that is not a regular file (a link, even to a file
    inside the run, or a folder) is refused: a journal is never read or written through a link."""
    if not os.path.lexists(run.journal):
        return False
    if run.journal.is_symlink() or not run.journal.is_file():
        raise ConfigError(f"{run.journal} is not a regular file: remove it")
    return True


def read_records(run: RunDir, judge: str) -> dict[str, TaskRecord]:
    """Every task's state in the run folder: its journal, else (an older run) its task files."""
    if has_journal(run):
        return read_journal(run.journal).records
    return legacy_records(run, judge)


def outcomes(
    records: dict[str, TaskRecord], task_ids: list[str]
) -> tuple[dict[str, tuple[Plan, Judgement]], dict[str, str]]:
    """The plan and judgement of every task whose record has both, and why each task whose record has
    a failure and no judgement failed."""
    done: dict[str, tuple[Plan, Judgement]] = {}
    failures: dict[str, str] = {}
    for tid in task_ids:
        rec = records.get(tid)
        if rec is None:
            continue
        if rec.plan is not None and rec.judgement is not None:
            done[tid] = (rec.plan, rec.judgement)
        elif rec.judgement is None and rec.error is not None:
            failures[tid] = rec.error
    return done, failures


class Journal:
    """The run's journal, open for appending (the run folder's lock keeps other writers out)."""

    def __init__(self, path: Path | str) -> None:
        self.path = os.fspath(path)
        self.fd: int | None = None

    def open(self, end: int) -> None:
        """Open for appending, first cutting off what lies past `end` (a torn last line)."""
        fd = os.open(self.path, _FLAGS, 0o666)
        try:
            if os.fstat(fd).st_size > end:
                os.ftruncate(fd, end)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd

    def append(self, line: bytes) -> None:
        """Write one whole line. Microseconds, so it is made on the event loop: no thread hop."""
        if self.fd is None:
            raise RuntimeError("the journal is not open")
        view = memoryview(line)
        while view:
            view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
