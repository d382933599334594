"""A run's results: every task's score, the means with intervals, cost, failures (from the run folder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from abplan.bench.scoring import TaskScore, aggregate, score_task
from abplan.judges.base import Judgement
from abplan.redact import redact
from abplan.schema import Plan, Usage

if TYPE_CHECKING:
    from abplan.bench.runner import RunConfig, RunState
    from abplan.bench.tasks import Task

NO_SCORE = "no task scored"


def run_status(scored: int, tasks: int) -> str:
    """ "complete", "incomplete" or "no task scored" (then there is no mean to report, not a zero)."""
    if scored == 0:
        return NO_SCORE
    return "complete" if scored == tasks else "incomplete"


def _read(path: Path, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None  # unreadable (never happens with atomic writes, but a hand-edited file must not crash)


def read_failure(path: Path) -> str:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return "failed (its failure record is unreadable)"
    why = data.get("error") if isinstance(data, dict) else None
    return redact(why) if isinstance(why, str) and why else "failed"


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
        plan: Plan | None
        judgement: Judgement | None
        if loaded and t.id in loaded:
            plan, judgement = loaded[t.id]
        else:
            pj = out / "plans" / f"{t.id}.json"
            jj = out / "judgements" / cfg.judge / f"{t.id}.json"
            plan = _read(pj, Plan) if pj.is_file() else None
            judgement = _read(jj, Judgement) if jj.is_file() else None
            fj = out / "failures" / f"{t.id}.json"
            if judgement is None and fj.is_file():
                failures[t.id] = read_failure(fj)
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
        "status": run_status(len(scores), len(tasks)),
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
