"""`bench run`: plan every task with a registered planner, judge it, score it. Resumable and cached.

A run is a folder (its layout: `abplan.bench.layout.RunDir`): the config, the journal of what became
of each task, then the results and reports. Kill the run at any moment and rerun the same command:
finished tasks are skipped and every LM answer comes from the cache.

A task's outcome is one line appended to the journal when the task ends, on the event loop (see
`abplan.bench.journal`). A run creates no file per task: at high concurrency creating them (three per
task, then one in background threads) had been the largest cost left, and the most variable one.
`bench export` writes AblationBench's `<id>.jsonl` files from a journal. A lock file keeps a second
run out of the folder (see `runfolder`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abplan.bench.journal import (
    Journal,
    TaskRecord,
    has_journal,
    legacy_records,
    read_journal,
    record_line,
)
from abplan.bench.layout import RunDir
from abplan.bench.report import write_reports
from abplan.bench.results import RunConfig, RunResults, TaskResult, collect_results, score_of
from abplan.bench.runfolder import (
    RunLock,
    clean_temporaries,
    prepare_folder,
    write_atomic,
)
from abplan.bench.tasks import Task, load_task_paper, stub_paper
from abplan.errors import AbplanError, ConfigError, LMError, PendingRequests
from abplan.judges.base import Judgement, JudgeOptions, get_judge
from abplan.lm.client import LMClient
from abplan.lm.types import RequestPending
from abplan.parsing import dedupe_names
from abplan.planners.base import PlanOptions, get_planner
from abplan.redact import redact
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
        self.records: dict[str, TaskRecord] = {}  # each task's state: its journal, kept up to date
        self.journal = Journal(self.dir.journal)
        self.scored: dict[str, TaskResult] = {}  # the score of each task this run did

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
        write_atomic(str(path), _json_bytes(mine))
        self._open_journal()

    def _open_journal(self) -> None:
        """Read the journal and open it for appending. A folder from before the journal has its task
        files carried over into a new one."""
        if has_journal(self.dir):
            got = read_journal(self.dir.journal)
            self.records, end = got.records, got.end
            self.journal.open(end)
        else:
            self.records = legacy_records(self.dir, self.cfg.judge)
            self.journal.open(0)
            for tid, rec in self.records.items():
                self.journal.append(record_line(tid, rec.plan, rec.judgement, rec.error))

    async def _plan(self, task: Task) -> tuple[Plan, Paper | None, bool]:
        """The task's plan (from the journal, else planned), the paper if it was read, and whether the
        plan is new."""
        rec = self.records.get(task.id)
        if rec is not None and rec.plan is not None:
            return rec.plan, None, False
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
        return plan, paper if real else None, True

    async def _judge(self, task: Task, plan: Plan, paper: Paper | None) -> Judgement:
        rec = self.records.get(task.id)
        if rec is not None and rec.judgement is not None:
            return rec.judgement
        if paper is None and task.mode == "reviewer" and self.judge.needs_model:
            paper = load_task_paper(task)
        top = plan.ablations[: self.cfg.top_k] if self.cfg.top_k else plan.ablations
        opts = JudgeOptions(models=self.cfg.judge_models, seed=self.cfg.seed)
        j = await self.judge.judge(task, top, paper, opts, self.lm)
        if j.notes:
            j = j.model_copy(update={"notes": [redact(n) for n in j.notes]})
        return j

    async def run_task(self, task: Task) -> None:
        plan: Plan | None = None  # known once planned (or read from the journal)
        fresh = False
        try:
            plan, paper, fresh = await self._plan(task)
            judgement = await self._judge(task, plan, paper)
            score = score_of(self.cfg, task, plan, judgement)  # now, not all at the run's end
        except RequestPending:
            if fresh:  # a plan made before the judge's request went pending is kept
                self._record(task.id, plan)
            self.state.pending += 1
        except Exception as e:  # one task's failure, even a bug, must not end a long run
            if isinstance(e, LMError) and e.bad_keys and self.lm is not None and self.lm.cache is not None:
                self.lm.cache.evict(e.bad_keys)
            self._record(
                task.id, plan, error=self._failed(task, e)
            )  # a plan made before the judge failed is kept
        else:
            had = self.records.get(task.id)
            if had is None or had.plan is not plan or had.judgement is not judgement or had.error:
                self._record(task.id, plan, judgement)  # a task finished before adds no line
            self.scored[task.id] = score
            self.state.done += 1
        if self.lm is not None:
            self.state.spent = self.lm.stats.usage.cost_usd
        if self.progress:
            self.progress(self.state)

    def _record(
        self, tid: str, plan: Plan | None, judgement: Judgement | None = None, error: str | None = None
    ) -> None:
        """Append the task's state to the journal: one write, on the loop (microseconds)."""
        self.journal.append(record_line(tid, plan, judgement, error))
        self.records[tid] = TaskRecord(plan, judgement, error)

    def _failed(self, task: Task, e: BaseException) -> str:
        """Count the task as failed; the reason its record gives."""
        self.state.failed += 1
        reason = failure_reason(e)
        self.state.failures[task.id] = reason
        return reason

    # -- the run ------------------------------------------------------------------------------
    async def run(self) -> RunResults:
        try:
            if self.lock.fd is None:  # not opened yet by the caller
                self.check_config()
            with frozen_heap():
                return await self._run()
        finally:
            self._close()

    def _close(self) -> None:
        """Close the journal before the lock goes."""
        self.journal.close()
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
            self.cfg, self.tasks, self.dir, self.state.skipped_budget, self.scored, self.records
        )
        write_reports(self.dir, results)
        return results


_frozen_runs = 0


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the garbage collector off the objects that exist when a run starts, until it ends.

    A run keeps every task's plan and judgement, so the collector's full passes come round, and each
    walked every object of the process (modules, pydantic schemas, templates): a 100 ms pause of the
    event loop in a run of 1,000 tasks whose ideal is 1.6 s (benchmarks/harness.py, concurrency 128). `gc.freeze` leaves those objects out of every pass;
    `gc.unfreeze` gives them back when the last run of the process ends. Cycles among them are only
    collected then, and they were alive anyway."""
    global _frozen_runs
    if _frozen_runs == 0:
        gc.freeze()
    _frozen_runs += 1
    try:
        yield
    finally:
        _frozen_runs -= 1
        if _frozen_runs == 0:
            gc.unfreeze()
