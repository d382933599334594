"""A deterministic judge with no LM: fuzzy matching of ablated parts and actions. Approximate by design,
for quick offline regression numbers; report LM or majority judges for real comparisons."""

from __future__ import annotations

import re

from abplan.judges.base import Judgement, JudgeOptions, Match, ReviewItem, register_judge
from abplan.lm.client import LMClient
from abplan.schema import Ablation, Paper, Task
from abplan.text_match import content_tokens, split_sentences

REMOVAL = re.compile(r"(?i)\b(no|none|without|remove[ds]?|removing|disable[ds]?|drop|zero|off)\b")


def _part_tokens(a: Ablation) -> set[str]:
    return content_tokens(a.ablated_part) | content_tokens(a.name)


def part_similarity(a: Ablation, b: Ablation) -> float:
    return _similarity(_part_tokens(a), _part_tokens(b))


def _similarity(ta: set[str], tb: set[str]) -> float:
    if not ta or not tb:
        return 0.0
    shared = len(ta & tb)
    if shared < min(2, len(ta), len(tb)):
        return 0.0
    return shared / min(len(ta), len(tb))


def actions_compatible(gold: Ablation, plan: Ablation) -> bool:
    if gold.action == plan.action:
        return True
    if gold.action == "REMOVE" and plan.action == "REPLACE":
        return any(REMOVAL.search(r) for r in plan.replacement or [])
    if plan.action == "REMOVE" and gold.action == "REPLACE":
        return any(REMOVAL.search(r) for r in gold.replacement or [])
    return False


def lexical_match(gold: Ablation, plan: Ablation, threshold: float = 0.5) -> bool:
    return part_similarity(gold, plan) >= threshold and actions_compatible(gold, plan)


def match_lists(gold: list[Ablation], plan: list[Ablation], threshold: float = 0.5) -> list[Match]:
    """`lexical_match` of every pair, each item's tokens computed once (not once per pair)."""
    plan_tokens = [(p, _part_tokens(p)) for p in plan]
    out = []
    for g in gold:
        tg = _part_tokens(g)
        hits = [
            p.name for p, tp in plan_tokens if _similarity(tg, tp) >= threshold and actions_compatible(g, p)
        ]
        out.append(Match(gold=g.name, plan=hits))
    return out


@register_judge("lexical")
class LexicalJudge:
    name = "lexical"
    needs_model = False

    async def judge(
        self, task: Task, plan: list[Ablation], paper: Paper | None, opts: JudgeOptions, lm: LMClient | None
    ) -> Judgement:
        names = [a.name for a in plan]
        if task.mode == "author":
            return Judgement(
                task_id=task.id,
                mode="author",
                judge=self.name,
                plan_names=names,
                matches=match_lists(task.ablations_in_paper, plan),
            )
        matches = match_lists(task.missing_ablations, plan) if task.missing_ablations else []
        sentences = [s for r in task.review_text for s in split_sentences(r)]
        items = []
        for a in plan:
            if task.missing_ablations is not None:
                hit = any(a.name in m.plan for m in matches)
            else:
                ta = content_tokens(a.ablated_part)
                hit = bool(ta) and any(
                    len(ta & content_tokens(s)) >= max(2, (len(ta) + 1) // 2) for s in sentences
                )
            items.append(ReviewItem(plan=a.name, appears=hit))
        return Judgement(
            task_id=task.id, mode="reviewer", judge=self.name, plan_names=names, matches=matches, items=items
        )
