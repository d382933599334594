"""`bench run`: plan every task with a registered planner, judge it, score it. Resumable and cached.

A run is a folder: config.json, plans/<id>.jsonl (AblationBench-compatible) and plans/<id>.json (full
plan), judgements/<judge>/<id>.json, failures/<id>.json (retried on the next run), results.json,
results.csv and report.md. Every file is written atomically; kill the run at any moment and rerun the
same command: finished tasks are skipped and every LM answer comes from the cache.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from abplan.bench.scoring import TaskScore, aggregate, score_task
from abplan.bench.tasks import Task, load_task_paper, stub_paper
from abplan.errors import AbplanError, ConfigError, LMError, PendingRequests
from abplan.fsutil import atomic_write_json, atomic_write_text
from abplan.judges.base import Judgement, JudgeOptions, get_judge
from abplan.lm.client import LMClient
from abplan.lm.types import RequestPending
from abplan.parsing import dedupe_names
from abplan.planners.base import PlanOptions, get_planner
from abplan.render.jsonl import render_json, render_jsonl
from abplan.schema import Paper, Plan, Usage

CONFIG_KEYS = ("dataset", "planner", "model", "k", "judge", "judge_models", "seed", "planner_options")


class RunConfig(BaseModel):
    dataset: str
    planner: str
    model: str | None = None
    k: int | None = None
    judge: str = "lexical"
    judge_models: list[str] = Field(default_factory=list)
    top_k: int | None = None
    seed: int = 0
    concurrency: int = 8
    limit: int | None = None
    max_cost: float | None = None
    planner_options: dict[str, Any] = Field(default_factory=dict)


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


def _read(path: Path, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None  # unreadable (never happens with atomic writes, but a hand-edited file must not crash)


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
        self.lm = lm
        self.progress = progress
        self.planner = get_planner(config.planner)
        self.judge = get_judge(config.judge)
        if self.planner.needs_model and not config.model:
            raise ConfigError(f"the {config.planner} planner needs --model")
        if self.judge.needs_model and not config.judge_models:
            raise ConfigError(f"the {config.judge} judge needs --judge-model")
        self.state = RunState(total=len(self.tasks))
        self.loaded: dict[
            str, tuple[Plan, Judgement]
        ] = {}  # what this run holds, so scoring reads no file again

    # -- folder -------------------------------------------------------------------------------
    def check_config(self) -> None:
        # Temporary files of writes that a kill interrupted: never read, cleaned here.
        if self.out.is_dir():
            for tmp in self.out.rglob(".*.tmp"):
                tmp.unlink(missing_ok=True)
        path = self.out / "config.json"
        mine = self.cfg.model_dump()
        if path.is_file():
            old = json.loads(path.read_text("utf-8"))
            diff = [k for k in CONFIG_KEYS if old.get(k) != mine.get(k)]
            if diff:
                raise ConfigError(
                    f"{self.out} holds a run with a different {', '.join(diff)}: use another --out"
                )
        atomic_write_json(path, mine)

    def plan_path(self, tid: str) -> Path:
        return self.out / "plans" / f"{tid}.json"

    def judgement_path(self, tid: str) -> Path:
        return self.out / "judgements" / self.cfg.judge / f"{tid}.json"

    def failure_path(self, tid: str) -> Path:
        return self.out / "failures" / f"{tid}.json"

    # -- one task -----------------------------------------------------------------------------
    async def _plan(self, task: Task, paper: Paper | None) -> Plan:
        cached = self.plan_path(task.id)
        if cached.is_file() and (got := _read(cached, Plan)) is not None:
            return got  # type: ignore[no-any-return]
        assert paper is not None
        extra = dict(self.cfg.planner_options)
        extra["task_id"] = task.id
        opts = PlanOptions(mode=task.mode, k=self.cfg.k, model=self.cfg.model, extra=extra)
        plan = await self.planner.plan(paper, opts, self.lm)
        if not plan.ablations:
            raise AbplanError(
                f"planner returned no ablations ({'; '.join(plan.warnings) or 'no reason given'})"
            )
        ablations, notes = dedupe_names(plan.ablations)
        plan = plan.model_copy(update={"ablations": ablations, "warnings": plan.warnings + notes})
        atomic_write_text(self.out / "plans" / f"{task.id}.jsonl", render_jsonl(plan))
        atomic_write_text(cached, render_json(plan))
        return plan

    async def _judge(self, task: Task, plan: Plan, paper: Paper | None) -> Judgement:
        path = self.judgement_path(task.id)
        if path.is_file() and (got := _read(path, Judgement)) is not None:
            return got  # type: ignore[no-any-return]
        top = plan.ablations[: self.cfg.top_k] if self.cfg.top_k else plan.ablations
        opts = JudgeOptions(models=self.cfg.judge_models, seed=self.cfg.seed)
        j = await self.judge.judge(task, top, paper, opts, self.lm)
        atomic_write_text(path, j.model_dump_json(indent=2) + "\n")
        return j

    def _needs_paper(self, task: Task) -> bool:
        planned = self.plan_path(task.id).is_file()
        judged = self.judgement_path(task.id).is_file()
        return (not planned and self.cfg.planner != "files") or (
            not judged and task.mode == "reviewer" and self.judge.needs_model
        )

    async def run_task(self, task: Task) -> None:
        try:
            paper = load_task_paper(task) if self._needs_paper(task) else None
            if paper is None and self.cfg.planner == "files":
                paper = stub_paper(task)  # existing plans need no paper text
            plan = await self._plan(task, paper)
            self.loaded[task.id] = (plan, await self._judge(task, plan, paper))
            self.failure_path(task.id).unlink(missing_ok=True)
            self.state.done += 1
        except RequestPending:
            self.state.pending += 1
        except Exception as e:  # one task's failure, even a bug, must not end a long run
            if isinstance(e, LMError) and e.bad_keys and self.lm is not None and self.lm.cache is not None:
                self.lm.cache.evict(e.bad_keys)
            self.state.failed += 1
            known = isinstance(e, AbplanError | OSError | ValueError)
            reason = (
                f"{type(e).__name__}: {e}"
                if known
                else f"internal error ({type(e).__name__}: {e}); please report it"
            )
            self.state.failures[task.id] = reason
            atomic_write_json(self.failure_path(task.id), {"task_id": task.id, "error": reason})
        if self.lm is not None:
            self.state.spent = self.lm.stats.usage.cost_usd
        if self.progress:
            self.progress(self.state)

    # -- the run ------------------------------------------------------------------------------
    async def run(self) -> dict[str, Any]:
        self.check_config()
        sem = asyncio.Semaphore(max(1, self.cfg.concurrency))
        finished_costs: list[float] = []

        async def one(task: Task) -> None:
            async with sem:
                if self.cfg.max_cost is not None:
                    est = max(finished_costs) if finished_costs else 0.0
                    if self.state.spent + est > self.cfg.max_cost:
                        self.state.skipped_budget += 1
                        return
                before = self.lm.stats.usage.cost_usd if self.lm else 0.0
                await self.run_task(task)
                finished_costs.append((self.lm.stats.usage.cost_usd if self.lm else 0.0) - before)

        await asyncio.gather(*(one(t) for t in self.tasks))
        if self.state.pending:
            raise PendingRequests(len(self.lm.pending_keys) if self.lm else self.state.pending)
        return self.finish()

    def finish(self) -> dict[str, Any]:
        results = collect_results(self.cfg, self.tasks, self.out, self.state, self.loaded)
        from abplan.bench.report import write_reports

        write_reports(self.out, results)
        return results


def collect_results(
    cfg: RunConfig,
    tasks: list[Task],
    out: Path,
    state: RunState | None = None,
    loaded: dict[str, tuple[Plan, Judgement]] | None = None,
) -> dict[str, Any]:
    """Score the run: the plans and judgements in `loaded`, else those in the run folder."""
    scores: list[TaskScore] = []
    plan_usage: list[Usage] = []
    judge_usage: list[Usage] = []
    per_task: list[dict[str, Any]] = []
    failures: dict[str, str] = {}
    for t in tasks:
        pj = out / "plans" / f"{t.id}.json"
        jj = out / "judgements" / cfg.judge / f"{t.id}.json"
        fj = out / "failures" / f"{t.id}.json"
        plan: Plan | None
        judgement: Judgement | None
        if loaded and t.id in loaded:
            plan, judgement = loaded[t.id]
        else:
            plan = _read(pj, Plan) if pj.is_file() else None
            judgement = _read(jj, Judgement) if jj.is_file() else None
        if fj.is_file() and judgement is None:
            failures[t.id] = json.loads(fj.read_text("utf-8")).get("error", "failed")
        if plan is None or judgement is None:
            continue
        s = score_task(
            judgement,
            cfg.top_k,
            t.num_ablation_suggestions,
            len(t.ablations_in_paper) if t.mode == "author" else None,
        )
        scores.append(s)
        plan_usage.append(plan.usage)
        judge_usage.append(judgement.usage)
        per_task.append(
            {
                **s.model_dump(),
                "plan_cost_usd": plan.usage.cost_usd,
                "judge_cost_usd": judgement.usage.cost_usd,
                "plan_tokens": plan.usage.input_tokens + plan.usage.output_tokens,
                "judge_tokens": judgement.usage.input_tokens + judgement.usage.output_tokens,
            }
        )
    n = max(1, len(scores))
    pu, ju = Usage.total(plan_usage), Usage.total(judge_usage)
    modes = sorted({t.mode for t in tasks})
    return {
        "config": cfg.model_dump(),
        "tasks": len(tasks),
        "scored": len(scores),
        "failed": len(failures),
        "skipped_for_budget": state.skipped_budget if state else 0,
        "complete": len(scores) == len(tasks),
        "modes": modes,
        "scores": {
            k: {m: v.model_dump() for m, v in d.items()} for k, d in aggregate(scores, cfg.seed).items()
        },
        "cost": {
            "plan_usd_per_task": pu.cost_usd / n,
            "judge_usd_per_task": ju.cost_usd / n,
            "plan_tokens_per_task": (pu.input_tokens + pu.output_tokens) / n,
            "judge_tokens_per_task": (ju.input_tokens + ju.output_tokens) / n,
            "plan_usd_total": pu.cost_usd,
            "judge_usd_total": ju.cost_usd,
        },
        "per_task": per_task,
        "failures": failures,
    }
