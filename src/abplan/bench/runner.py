"""`bench run`: plan every task with a registered planner, judge it, score it. Resumable and cached.

A run is a folder (its layout: `abplan.bench.layout.RunDir`): the config, a plan, a judgement and
possibly a failure record per task, then the results and reports. Every file is written atomically;
kill the run at any moment and rerun the same command: finished tasks are skipped and every LM answer
comes from the cache.

A task's plan and judgement (or failure record) are written at its end, in that order, in one worker
thread hop (see `Runner._write`): at high concurrency file creation was most of the event loop's
serial work. The folder is listed once at the start instead of stat-ing every task's files. A lock
file keeps a second run out of the folder (see `runfolder`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abplan.bench.layout import RunDir
from abplan.bench.report import write_reports
from abplan.bench.results import RunConfig, RunResults, collect_results, score_of
from abplan.bench.runfolder import (
    FileWriters,
    RunLock,
    clean_temporaries,
    existing_names,
    prepare_folder,
    read_model,
    write_atomic,
)
from abplan.bench.scoring import TaskScore
from abplan.bench.tasks import Task, load_task_paper, stub_paper
from abplan.errors import AbplanError, ConfigError, LMError, PendingRequests
from abplan.judges.base import Judgement, JudgeOptions, get_judge
from abplan.lm.client import LMClient
from abplan.lm.types import RequestPending
from abplan.parsing import dedupe_names
from abplan.planners.base import PlanOptions, get_planner
from abplan.redact import redact
from abplan.render.jsonl import render_json, render_jsonl
from abplan.schema import Paper, Plan

__all__ = ["CONFIG_KEYS", "Progress", "RunConfig", "RunState", "Runner", "failure_reason"]

CONFIG_KEYS = ("dataset", "planner", "model", "k", "judge", "judge_models", "seed", "planner_options")


@dataclass
class RunState:
    total: int
    done: int = 0
    failed: int = 0
    pending: int = 0
    skipped_budget: int = 0
    spent: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)


Progress = Callable[[RunState], None]


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _old_config(path: Path) -> dict[str, Any]:
    """The config.json of the run already in the folder, or a one-line error if it is not one."""
    try:
        data = json.loads(path.read_bytes())
        RunConfig.model_validate(data)
    except (OSError, ValueError) as e:  # pydantic's ValidationError is a ValueError
        why = "unreadable" if isinstance(e, OSError) else "not a run configuration"
        raise ConfigError(f"{path} is {why}: delete the run folder or use another --out") from None
    return data  # type: ignore[no-any-return]


def failure_reason(e: BaseException) -> str:
    """What a failed task's record says: known errors as they are, bugs flagged; never a key."""
    known = isinstance(e, AbplanError | OSError | ValueError)
    text = f"{type(e).__name__}: {e}"
    return redact(text if known else f"internal error ({text}); please report it")


class Runner:
    def __init__(
        self,
        config: RunConfig,
        tasks: list[Task],
        out: Path,
        lm: LMClient | None,
        progress: Progress | None = None,
    ) -> None:
        self.cfg = config
        self.tasks = tasks[: config.limit] if config.limit else tasks
        self.out = out
        self.dir = RunDir(out)
        self.lm = lm
        self.progress = progress
        self.planner = get_planner(config.planner)
        self.judge = get_judge(config.judge)
        if self.planner.needs_model and not config.model:
            raise ConfigError(f"the {config.planner} planner needs --model")
        if self.judge.needs_model and not config.judge_models:
            raise ConfigError(f"the {config.judge} judge needs --judge-model")
        self.state = RunState(total=len(self.tasks))
        self.lock = RunLock(self.dir)
        self.have_plans: set[str] = set()  # files in the folder when the run started, and those it wrote
        self.have_judgements: set[str] = set()
        self.have_failures: set[str] = set()
        self.writers = FileWriters()
        self.scored: dict[str, TaskScore] = {}  # the score of each task this run did
        self.loaded: dict[
            str, tuple[Plan, Judgement]
        ] = {}  # what this run holds, so scoring reads no file again

    # -- folder -------------------------------------------------------------------------------
    def check_config(self) -> None:
        """Take the folder's lock, clean up after a killed run, and refuse a run with other settings.
        The lock is held until `run` ends (or released here if the folder is refused)."""
        prepare_folder(self.out)
        self.lock.acquire()
        try:
            self._open_folder()
        except BaseException:
            self.lock.release()
            raise

    def _open_folder(self) -> None:
        clean_temporaries(self.dir)
        path = self.dir.config
        mine = self.cfg.model_dump()
        if path.exists():
            old = _old_config(path)
            diff = [k for k in CONFIG_KEYS if old.get(k) != mine.get(k)]
            if diff:
                raise ConfigError(
                    f"{self.out} holds a run with a different {', '.join(diff)}: use another --out"
                )
        for folder in self.dir.task_folders(self.cfg.judge):
            folder.mkdir(parents=True, exist_ok=True)
        write_atomic(str(path), _json_bytes(mine))
        self.have_plans = existing_names(self.dir.plans, ".json")
        self.have_judgements = existing_names(self.dir.judgements(self.cfg.judge), ".json")
        self.have_failures = existing_names(self.dir.failures, ".json")

    # -- one task -----------------------------------------------------------------------------
    def _cached_plan(self, tid: str) -> Plan | None:
        return read_model(self.dir.plan_file(tid), Plan) if tid in self.have_plans else None

    def _cached_judgement(self, tid: str) -> Judgement | None:
        if tid not in self.have_judgements:
            return None
        return read_model(self.dir.judgement_file(self.cfg.judge, tid), Judgement)

    def _plan_files(self, tid: str, plan: Plan) -> list[tuple[str, bytes]]:
        jsonl, full = render_jsonl(plan).encode("utf-8"), render_json(plan).encode("utf-8")
        return [(self.dir.plan_jsonl_file(tid), jsonl), (self.dir.plan_file(tid), full)]

    def _judgement_file(self, tid: str, j: Judgement) -> tuple[str, bytes]:
        data = (j.model_dump_json(indent=2) + "\n").encode("utf-8")
        return self.dir.judgement_file(self.cfg.judge, tid), data

    async def _plan(self, task: Task, files: list[tuple[str, bytes]]) -> tuple[Plan, Paper | None]:
        """The task's plan (from the run folder, else planned, its files added to `files`) and the
        paper, if it was read."""
        got = self._cached_plan(task.id)  # small reads from the page cache: cheaper than a thread hop
        if got is not None:
            return got, None
        if self.cfg.planner == "files":
            paper, real = stub_paper(task), False  # existing plans need no paper text
        else:
            paper, real = load_task_paper(task), True
        extra = dict(self.cfg.planner_options)
        extra["task_id"] = task.id
        opts = PlanOptions(mode=task.mode, k=self.cfg.k, model=self.cfg.model, extra=extra)
        plan = await self.planner.plan(paper, opts, self.lm)
        if not plan.ablations:
            raise AbplanError(
                f"planner returned no ablations ({'; '.join(plan.warnings) or 'no reason given'})"
            )
        ablations, notes = dedupe_names(plan.ablations)
        warnings = [redact(w) for w in plan.warnings + notes]
        plan = plan.model_copy(update={"ablations": ablations, "warnings": warnings})
        files += self._plan_files(task.id, plan)
        return plan, paper if real else None

    async def _judge(
        self, task: Task, plan: Plan, paper: Paper | None, files: list[tuple[str, bytes]]
    ) -> Judgement:
        got = self._cached_judgement(task.id)
        if got is not None:
            return got
        if paper is None and task.mode == "reviewer" and self.judge.needs_model:
            paper = load_task_paper(task)
        top = plan.ablations[: self.cfg.top_k] if self.cfg.top_k else plan.ablations
        opts = JudgeOptions(models=self.cfg.judge_models, seed=self.cfg.seed)
        j = await self.judge.judge(task, top, paper, opts, self.lm)
        if j.notes:
            j = j.model_copy(update={"notes": [redact(n) for n in j.notes]})
        files.append(self._judgement_file(task.id, j))
        return j

    async def run_task(self, task: Task) -> None:
        files: list[tuple[str, bytes]] = []  # what this task has to write, in order: plan, judgement
        planned = 0  # how many of them are the plan's
        writing = False
        try:
            try:
                plan, paper = await self._plan(task, files)
                planned = len(files)
                judgement = await self._judge(task, plan, paper, files)
            except RequestPending:
                writing = True
                await self._write(files)  # a plan made before the judge's request went pending
                self.state.pending += 1
            else:
                score = score_of(self.cfg, task, judgement)  # now, not all at the run's end
                stale = task.id in self.have_failures  # an earlier run's failure, now done
                writing = True
                await self._write(files, self.dir.failure_file(task.id) if stale else None)
                self.have_failures.discard(task.id)
                self.loaded[task.id] = (plan, judgement)
                self.scored[task.id] = score
                self.state.done += 1
        except Exception as e:  # one task's failure, even a bug, must not end a long run
            if isinstance(e, LMError) and e.bad_keys and self.lm is not None and self.lm.cache is not None:
                self.lm.cache.evict(e.bad_keys)
            keep = [] if writing else files[:planned]  # a plan made before the judge failed is kept
            await self._write([*keep, self._failed(task, e)])
        if self.lm is not None:
            self.state.spent = self.lm.stats.usage.cost_usd
        if self.progress:
            self.progress(self.state)

    def _failed(self, task: Task, e: BaseException) -> tuple[str, bytes]:
        """Count the task as failed; its failure record, to write."""
        self.state.failed += 1
        reason = failure_reason(e)
        self.state.failures[task.id] = reason
        self.have_failures.add(task.id)
        return self.dir.failure_file(task.id), _json_bytes({"task_id": task.id, "error": reason})

    async def _write(self, files: list[tuple[str, bytes]], drop: str | None = None) -> None:
        """Write a task's files, in order, then remove `drop`: in one worker thread hop, so the event
        loop is not blocked by file creation (milliseconds each on a busy disk). The task waits for
        it, so a killed run loses only the tasks in flight (`FileWriters`: `asyncio.to_thread` made
        cheaper). Writing in the background instead freed
        the slot sooner but made the writer threads and the event loop fight over the GIL, which cost
        more than it saved. One writer thread for the whole run, fed a loop turn's files per hop, cost
        the loop more CPU per task than a hop per task (benchmarks/harness.py at concurrency 128).
        Rendering stays on the loop: CPU work in a thread would only contend for the GIL."""
        if files or drop is not None:
            await self.writers.write(files, drop)

    # -- the run ------------------------------------------------------------------------------
    async def run(self) -> RunResults:
        try:
            if self.lock.fd is None:  # not opened yet by the caller
                self.check_config()
            return await self._run()
        finally:
            self.writers.close()  # every file handed over is written before the lock goes
            self.lock.release()

    async def _run(self) -> RunResults:
        finished_costs: list[float] = []
        todo = iter(self.tasks)

        async def worker() -> None:
            # `concurrency` workers take the tasks in order: as many in flight as a semaphore would
            # allow, without a coroutine per task waiting on it (each acquire scanned all waiters).
            for task in todo:
                if self.cfg.max_cost is not None:
                    est = max(finished_costs) if finished_costs else 0.0
                    if self.state.spent + est > self.cfg.max_cost:
                        self.state.skipped_budget += 1
                        continue
                before = self.lm.stats.usage.cost_usd if self.lm else 0.0
                await self.run_task(task)
                finished_costs.append((self.lm.stats.usage.cost_usd if self.lm else 0.0) - before)

        await asyncio.gather(*(worker() for _ in range(min(max(1, self.cfg.concurrency), len(self.tasks)))))
        if self.state.pending:
            raise PendingRequests(len(self.lm.pending_keys) if self.lm else self.state.pending)
        return self.finish()

    def finish(self) -> RunResults:
        results = collect_results(
            self.cfg, self.tasks, self.dir, self.loaded, self.state.skipped_budget, self.scored
        )
        write_reports(self.dir, results)
        return results
