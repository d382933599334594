"""What a test reads from a `bench run` folder: each task's record in its journal (`journal.jsonl`)."""

from __future__ import annotations

import json
from pathlib import Path

from abplan.bench.journal import TaskRecord, read_journal
from abplan.judges.base import Judgement
from abplan.schema import Plan


def records(run: Path) -> dict[str, TaskRecord]:
    """Each task's last record; the journal must exist."""
    path = run / "journal.jsonl"
    assert path.is_file(), f"{path} was not written"
    return read_journal(path).records


def plan_of(run: Path, task_id: str) -> Plan:
    plan = records(run)[task_id].plan
    assert plan is not None, f"{task_id} has no plan in {run}"
    return plan


def judgement_of(run: Path, task_id: str) -> Judgement:
    j = records(run)[task_id].judgement
    assert j is not None, f"{task_id} has no judgement in {run}"
    return j


def failure_of(run: Path, task_id: str) -> str | None:
    rec = records(run).get(task_id)
    return rec.error if rec is not None else None


def save_plan(run: Path, task_id: str, path: Path) -> Path:
    """Write a task's full plan to `path` as the .json `abplan plan` writes (for `abplan view PLAN`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plan_of(run, task_id).model_dump_json(indent=2) + "\n")
    return path


def drop_records(run: Path, task_ids: set[str]) -> None:
    """Remove every journal line of these tasks (as if they had never run)."""
    path = run / "journal.jsonl"
    keep = [line for line in path.read_bytes().splitlines(keepends=True) if _id(line) not in task_ids]
    path.write_bytes(b"".join(keep))


def _id(line: bytes) -> str | None:
    try:
        got = json.loads(line)
    except ValueError:
        return None
    return got.get("id") if isinstance(got, dict) else None


def to_legacy(run: Path, judge: str) -> None:
    """Turn a run folder into one written before the journal: each task's `plans/<id>.json`,
    `judgements/<judge>/<id>.json` and `failures/<id>.json`, and no journal."""
    for tid, rec in records(run).items():
        if rec.plan is not None:
            (run / "plans").mkdir(exist_ok=True)
            (run / "plans" / f"{tid}.json").write_text(rec.plan.model_dump_json(indent=2))
        if rec.judgement is not None:
            folder = run / "judgements" / judge
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{tid}.json").write_text(rec.judgement.model_dump_json(indent=2))
        elif rec.error is not None:
            (run / "failures").mkdir(exist_ok=True)
            (run / "failures" / f"{tid}.json").write_text(json.dumps({"task_id": tid, "error": rec.error}))
    (run / "journal.jsonl").unlink()
