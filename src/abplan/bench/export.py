"""`bench export`: a run's plans as AblationBench's files, `<id>.jsonl` per task (what its planner
writes and its judges read), for AblationBench's own tools and for `bench eval --plans`."""

from __future__ import annotations

from pathlib import Path

from abplan.bench.journal import read_records
from abplan.bench.layout import RunDir
from abplan.bench.results import read_run_config
from abplan.bench.tasks import check_id
from abplan.errors import InputError
from abplan.fsutil import write_file_atomic
from abplan.render.jsonl import render_jsonl


def export_plans(run_dir: Path, out: Path, force: bool = False) -> int:
    """Write each planned task's `<id>.jsonl` into `out` (created if needed); the number written. A
    folder that is not empty needs `force`; an id that is not a plain file name writes nothing."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(f"--out {out} is not empty: choose an empty folder or add --force")
    run = RunDir(run_dir)
    judge = read_run_config(run_dir).judge
    plans = {tid: r.plan for tid, r in read_records(run, judge).items() if r.plan is not None}
    if not plans:
        raise InputError(f"{run_dir}: no task has a plan yet")
    for tid in plans:  # a journal can be edited by hand: its ids name files here
        check_id(tid, f"{run.journal}")
    out.mkdir(parents=True, exist_ok=True)
    for tid, plan in sorted(plans.items()):
        write_file_atomic(str(out / f"{tid}.jsonl"), render_jsonl(plan).encode("utf-8"))
    return len(plans)
