"""What `abplan view` shows, read from disk: run folders (only through `RunDir` and `RunResults`) and
plan files. Every file of a run is read only if it resolves inside that run's folder, so a symlink
planted in a run cannot make the viewer show a file from elsewhere."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from abplan.bench.journal import TaskRecord, has_journal, legacy_records, read_journal
from abplan.bench.layout import RunDir
from abplan.bench.results import RunResults, read_results
from abplan.bench.tasks import Task, load_dataset, load_task_paper
from abplan.errors import AbplanError, ConfigError, InputError
from abplan.judges.base import Judgement
from abplan.papers import load_paper
from abplan.redact import redact
from abplan.schema import Paper, Plan

PAPERS_KEPT = 8  # papers a run keeps loaded


def inside(path: Path, root: Path) -> bool:
    """True when `path`, symlinks resolved, is `root` or lies below it."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class TaskFiles:
    """One task of a run: its gold (when the dataset could be read), plan, judgement and failure."""

    task_id: str
    task: Task | None
    plan: Plan | None
    judgement: Judgement | None
    failure: str | None


@dataclass
class LoadedRun:
    index: int
    name: str
    run: RunDir
    results: RunResults
    tasks: dict[str, Task]
    notes: list[str] = field(default_factory=list)
    _papers: dict[str, tuple[Paper | None, str | None]] = field(default_factory=dict, repr=False)
    _records: tuple[object, dict[str, TaskRecord]] | None = field(default=None, repr=False)

    def task_ids(self) -> list[str]:
        """The dataset's tasks in order, then any scored or failed task the dataset no longer has."""
        ids = list(self.tasks)
        ids += [t.task_id for t in self.results.per_task if t.task_id not in self.tasks]
        ids += [t for t in sorted(self.results.failures) if t not in ids]
        return ids

    def files(self, task_id: str) -> TaskFiles:
        rec = self.records().get(task_id) or TaskRecord()
        return TaskFiles(task_id, self.tasks.get(task_id), rec.plan, rec.judgement, rec.error)

    def records(self) -> dict[str, TaskRecord]:
        """Each task's state, read from the journal again only when it has changed (a run in progress)."""
        journal = self.run.journal
        try:
            st = journal.stat()
            stamp: object = (st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        if self._records is None or self._records[0] != stamp:
            if stamp is not None:
                found = read_journal(journal).records if self._regular_journal() else {}
            else:  # a run folder from before the journal
                found = self._legacy()
            self._records = (stamp, found)
        return self._records[1]

    def _regular_journal(self) -> bool:
        """A journal that is a link or a folder is not shown (and the run is shown without it)."""
        try:
            return has_journal(self.run)
        except ConfigError:
            return False

    def _legacy(self) -> dict[str, TaskRecord]:
        judge = self.results.config.judge
        folders = (self.run.plans, self.run.failures, self.run.judgements(judge))
        if not all(inside(f, self.run.root) for f in folders if f.exists()):
            return {}
        return legacy_records(self.run, judge)

    def paper(self, task_id: str) -> tuple[Paper | None, str | None]:
        """The task's paper, or None and why not (a viewer shows what it can). The last few are kept:
        a task's plan and paper pages both show it, and a PDF takes a while to read."""
        if task_id in self._papers:
            return self._papers[task_id]
        task = self.tasks.get(task_id)
        if task is None or not task.paper_path:
            return None, "the run's dataset does not give this task's paper"
        try:
            found: tuple[Paper | None, str | None] = (load_task_paper(task), None)
        except AbplanError as e:
            found = (None, redact(str(e)))
        if len(self._papers) >= PAPERS_KEPT:
            del self._papers[next(iter(self._papers))]
        self._papers[task_id] = found
        return found


@dataclass(frozen=True)
class LoadedPlan:
    index: int
    name: str
    plan: Plan
    paper: Paper | None


def load_run(path: Path, index: int) -> LoadedRun:
    run = RunDir(path)
    results, note = read_results(run.results)
    notes = [note] if note else []
    cfg = results.config
    mode = results.modes[0] if len(results.modes) == 1 else None
    try:
        tasks = {t.id: t for t in load_dataset(cfg.dataset, mode=mode)}  # type: ignore[arg-type]
    except AbplanError as e:
        tasks = {}
        notes.append(f"gold not shown: dataset {cfg.dataset}: {redact(str(e))}")
    name = path.resolve().name or str(path)
    return LoadedRun(index, name, run, results, tasks, notes)


def read_plan(path: Path) -> Plan:
    try:
        return Plan.model_validate_json(path.read_bytes())
    except OSError as e:
        raise InputError(f"{path}: cannot read it ({e.strerror or e})") from None
    except ValidationError:
        raise InputError(f"{path}: not an abplan plan (.json written by 'abplan plan')") from None


def plan_files(folder: Path) -> list[Path]:
    """The plan .json files of an `abplan plan --out` folder (other JSON files are passed over)."""
    found = []
    for p in sorted(folder.glob("*.json")):
        try:
            Plan.model_validate_json(p.read_bytes())
        except (OSError, ValueError):
            continue
        found.append(p)
    return found


def load_sources(paths: list[Path], paper: Path | None = None) -> tuple[list[LoadedRun], list[LoadedPlan]]:
    """Run folders and plans (a plan .json or a folder of them); a path that is neither is a one-line error."""
    runs: list[LoadedRun] = []
    plan_paths: list[Path] = []
    for p in paths:
        if p.is_dir() and (RunDir(p).results.exists() or RunDir(p).config.exists()):
            runs.append(load_run(p, len(runs)))
        elif p.is_dir():
            found = plan_files(p)
            if not found:
                raise InputError(
                    f"{p}: neither a run folder (no results.json) nor a folder of plan .json files"
                )
            plan_paths += found
        elif p.is_file() and p.suffix == ".json":
            plan_paths.append(p)
        elif p.exists():
            raise InputError(f"{p}: not a run folder or a plan .json file")
        else:
            raise InputError(f"{p}: no such run folder or plan file")
    if paper is not None and not paper.exists():
        raise InputError(f"--paper {paper}: no such file or folder")
    loaded_paper = load_paper(paper) if paper is not None else None
    plans = [LoadedPlan(i, p.stem, read_plan(p), loaded_paper) for i, p in enumerate(plan_paths)]
    return runs, plans
