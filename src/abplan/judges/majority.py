"""Majority vote over several judge models (or, with one model, three differently shuffled runs)."""

from __future__ import annotations

import asyncio
from collections import Counter

from abplan.errors import LMError
from abplan.judges.base import Judgement, JudgeOptions, Match, ReviewItem, register_judge
from abplan.judges.lm_judges import judge_once
from abplan.lm.client import LMClient
from abplan.schema import Ablation, Paper, Task, Usage


def vote(task: Task, names: list[str], js: list[Judgement], judge: str) -> Judgement:
    """A (gold, plan) pair matches, and a plan item appears, when more than half of the judges say so."""
    need = len(js) // 2 + 1
    matches: list[Match] = []
    for i, m in enumerate(js[0].matches):
        pairs: Counter[str] = Counter()
        for j in js:
            pairs.update(set(j.matches[i].plan))
        matches.append(Match(gold=m.gold, plan=[p for p in names if pairs[p] >= need]))
    items: list[ReviewItem] = []
    for i, it in enumerate(js[0].items):
        yes = sum(j.items[i].appears for j in js)
        items.append(ReviewItem(plan=it.plan, appears=yes >= need))
    return Judgement(
        task_id=task.id,
        mode=task.mode,
        judge=judge,
        models=[m for j in js for m in j.models],
        plan_names=names,
        matches=matches,
        items=items,
        usage=Usage.total(j.usage for j in js),
        notes=[n for j in js for n in j.notes],
        detail={"votes": [j.model_dump(include={"models", "matches", "items", "detail"}) for j in js]},
    )


@register_judge("majority")
class MajorityJudge:
    name = "majority"
    needs_model = True

    async def judge(
        self, task: Task, plan: list[Ablation], paper: Paper | None, opts: JudgeOptions, lm: LMClient | None
    ) -> Judgement:
        if lm is None or not opts.models:
            raise LMError(
                "the majority judge needs --judge-model (several, or one to vote over three shuffles)"
            )
        runs = (
            [(m, 0) for m in opts.models] if len(opts.models) > 1 else [(opts.models[0], i) for i in range(3)]
        )
        js = await asyncio.gather(
            *(judge_once(task, plan, paper, m, opts, lm, self.name, off) for m, off in runs)
        )
        return vote(task, [a.name for a in plan], list(js), self.name)
