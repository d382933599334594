"""LM judges: the author judge (blind, shuffled sides A/B) and the reviewer judge (plan items vs reviews).

The side assignment and shuffles come from a per-task seed, and they are part of the request text, so a
cached answer can never be read under a different assignment (AblationBench re-shuffles on resume).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from typing import Any

from abplan import prompts
from abplan.errors import LMError
from abplan.judges.base import (
    Judgement,
    JudgeOptions,
    Match,
    ReviewItem,
    register_judge,
    resolve_name,
    task_seed,
)
from abplan.lm.client import LMClient
from abplan.lm.context import context_window, fit_paper
from abplan.lm.repair import ask_with_repair
from abplan.lm.types import LMRequest, LMResponse, usage_of
from abplan.parsing import split_reply
from abplan.prompts import paper_source
from abplan.schema import Ablation, Paper, Task


def judge_budget(model: str, opts: JudgeOptions) -> int:
    """Tokens of paper the reviewer judge can take: the window less room for reviews, plan and answer."""
    return max(4000, context_window(model) - opts.max_tokens - 24_000)


async def ask_rows(
    lm: LMClient, req: LMRequest, valid: Callable[[dict[str, Any]], bool]
) -> tuple[list[dict[str, Any]], list[LMResponse], list[str]]:
    """Ask; parse JSON rows; if none is valid, ask once to repair; then fail (never 'no match')."""

    def rows_or_problem(text: str) -> tuple[tuple[list[dict[str, Any]], list[str]], str | None]:
        reply = split_reply(text)
        rows = [r for r in reply.items if valid(r)]
        return (rows, reply.warnings), None if rows else (
            "; ".join(reply.warnings[:3]) or "no valid JSON line"
        )

    (rows, warnings), first, responses, _ = await ask_with_repair(
        lm, req, rows_or_problem, lambda p: prompts.render("judge_repair", problem=p), "judge reply"
    )
    return (
        rows,
        responses,
        (["first judge reply unreadable; repaired"] if first is not None else []) + warnings,
    )


def _lines(items: list[Ablation]) -> str:
    return "\n".join(json.dumps(a.core(), ensure_ascii=False) for a in items)


def _names(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


async def match_sides(
    task: Task,
    gold: list[Ablation],
    plan: list[Ablation],
    model: str,
    opts: JudgeOptions,
    lm: LMClient,
    seed_offset: int = 0,
) -> tuple[list[Match], list[LMResponse], list[str], dict[str, Any]]:
    """The author judge's matching of `gold` against `plan` with blind, seeded sides."""
    rng = random.Random(task_seed(task.id, opts.seed + seed_offset))
    g, p = list(gold), list(plan)
    rng.shuffle(g)
    rng.shuffle(p)
    gold_is_a = rng.random() < 0.5
    side_a, side_b = (g, p) if gold_is_a else (p, g)
    req = LMRequest.chat(
        model,
        prompts.render("judge_author_system"),
        prompts.render(
            "judge_author_user",
            title=task.paper_title,
            abstract=task.paper_abstract,
            side_a=_lines(side_a),
            side_b=_lines(side_b),
        ),
        temperature=opts.temperature,
        max_tokens=opts.max_tokens,
        seed=seed_offset or None,  # runs of one task stay distinct requests even when shuffles coincide
        tag="judge",
    )
    rows, responses, notes = await ask_rows(lm, req, lambda r: "name_in_A" in r or "name_in_B" in r)
    gold_names = [a.name for a in gold]
    plan_names = [a.name for a in plan]
    gold_key, plan_key = ("name_in_A", "name_in_B") if gold_is_a else ("name_in_B", "name_in_A")
    matched: dict[str, list[str]] = {n: [] for n in gold_names}
    for r in rows:
        gs = [resolve_name(x, gold_names) for x in _names(r.get(gold_key))]
        ps = [resolve_name(x, plan_names) for x in _names(r.get(plan_key))]
        for raw, got in zip(_names(r.get(gold_key)) + _names(r.get(plan_key)), gs + ps, strict=True):
            if got is None:
                notes.append(f"judge named an unknown item {raw!r}: ignored")
        for gname in (x for x in gs if x):
            for pname in (x for x in ps if x):
                if pname not in matched[gname]:
                    matched[gname].append(pname)
    detail = {"gold_side": "A" if gold_is_a else "B", "seed": opts.seed + seed_offset}
    return [Match(gold=n, plan=matched[n]) for n in gold_names], responses, notes, detail


async def review_items(
    task: Task,
    plan: list[Ablation],
    paper: Paper | None,
    model: str,
    opts: JudgeOptions,
    lm: LMClient,
    seed_offset: int = 0,
) -> tuple[list[ReviewItem], list[LMResponse], list[str]]:
    rng = random.Random(task_seed(task.id, opts.seed + seed_offset))
    reviews = list(task.review_text)
    items = list(plan)
    rng.shuffle(reviews)
    rng.shuffle(items)
    req = LMRequest.chat(
        model,
        prompts.render("judge_reviewer_system"),
        prompts.render(
            "judge_reviewer_user",
            title=task.paper_title,
            abstract=task.paper_abstract,
            reviews=reviews,
            plan=_lines(items),
            paper_source=paper_source(fit_paper(paper, judge_budget(model, opts))[0])
            if paper
            else "(not available)",
        ),
        temperature=opts.temperature,
        max_tokens=opts.max_tokens,
        seed=seed_offset or None,  # runs of one task stay distinct requests even when shuffles coincide
        tag="judge",
    )
    rows, responses, notes = await ask_rows(lm, req, lambda r: "name_in_plan" in r)
    names = [a.name for a in plan]
    verdict: dict[str, bool] = {}
    for r in rows:
        n = resolve_name(r.get("name_in_plan"), names)
        if n is None:
            notes.append(f"judge named an unknown plan item {r.get('name_in_plan')!r}: ignored")
            continue
        v = r.get("appears_in_review")
        verdict[n] = v is True or (isinstance(v, str) and v.strip().lower() == "true")
    for n in names:
        if n not in verdict:
            notes.append(f"judge gave no verdict for {n!r}: counted as not requested")
    return [ReviewItem(plan=n, appears=verdict.get(n, False)) for n in names], responses, notes


async def judge_once(
    task: Task,
    plan: list[Ablation],
    paper: Paper | None,
    model: str,
    opts: JudgeOptions,
    lm: LMClient,
    name: str,
    seed_offset: int = 0,
) -> Judgement:
    names = [a.name for a in plan]
    if task.mode == "author":
        matches, resp, notes, detail = await match_sides(
            task, task.ablations_in_paper, plan, model, opts, lm, seed_offset
        )
        return Judgement(
            task_id=task.id,
            mode="author",
            judge=name,
            models=[model],
            plan_names=names,
            matches=matches,
            usage=usage_of(resp),
            notes=notes,
            detail=detail,
        )
    # Both calls at once: in batch mode they are exported in the same round.
    jobs: list[Any] = [review_items(task, plan, paper, model, opts, lm, seed_offset)]
    if task.missing_ablations:
        jobs.append(match_sides(task, task.missing_ablations, plan, model, opts, lm, seed_offset))
    got = await asyncio.gather(*jobs, return_exceptions=True)
    for d in got:
        if isinstance(d, BaseException):
            raise d
    done: list[Any] = list(got)
    items, resp, notes = done[0]
    usage = usage_of(resp)
    missing: list[Match] = []
    sides: dict[str, Any] = {}
    if task.missing_ablations:
        missing, resp2, notes2, sides = done[1]
        usage = usage.add(usage_of(resp2))
        notes += notes2
    return Judgement(
        task_id=task.id,
        mode="reviewer",
        judge=name,
        models=[model],
        plan_names=names,
        matches=missing,
        items=items,
        usage=usage,
        notes=notes,
        detail=sides,
    )


@register_judge("lm")
class LMJudge:
    """One judge model (the first --judge-model)."""

    name = "lm"
    needs_model = True

    async def judge(
        self, task: Task, plan: list[Ablation], paper: Paper | None, opts: JudgeOptions, lm: LMClient | None
    ) -> Judgement:
        if lm is None or not opts.models:
            raise LMError("the lm judge needs a model (--judge-model provider/name)")
        return await judge_once(task, plan, paper, opts.models[0], opts, lm, self.name)
