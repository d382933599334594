"""Scores as AblationBench defines them ("compat"), with its holes closed, and a "strict" variant.

Closed holes (both variants): plan items with duplicate names are renamed before judging; top-k is the
planner's first k items; NDCG follows the planner's ranking; an empty match list is no match.
Strict: one plan item matches at most one gold ablation (maximum bipartite matching); in reviewer mode
with a `missing_ablations` list, plan items are matched against that list, otherwise hits above the
number requested still count for precision.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from abplan.judges.base import Judgement, Match


class PRF(BaseModel):
    precision: float
    recall: float
    f1: float
    ndcg: float | None = None


class TaskScore(BaseModel):
    task_id: str
    mode: str
    compat: PRF
    strict: PRF
    plan_size: int
    gold_size: int


def prf(tp_gold: float, n_gold: int, tp_plan: float, n_plan_pred: float) -> tuple[float, float, float]:
    p = tp_plan / n_plan_pred if n_plan_pred else 0.0
    r = tp_gold / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def max_bipartite(matches: list[Match], plan_names: Sequence[str]) -> dict[str, str]:
    """Maximum one-to-one matching gold -> plan (Kuhn's augmenting paths). Deterministic."""
    allowed = set(plan_names)
    adj = {m.gold: [p for p in m.plan if p in allowed] for m in matches}
    owner: dict[str, str] = {}

    def augment(g: str, seen: set[str]) -> bool:
        for p in adj[g]:
            if p in seen:
                continue
            seen.add(p)
            if p not in owner or augment(owner[p], seen):
                owner[p] = g
                return True
        return False

    for m in matches:
        augment(m.gold, set())
    return {g: p for p, g in owner.items()}


# The discount of each rank, computed once for the usual plan sizes (the same floats, summed in the
# same order, as computing each where it is used).
_DISCOUNTS = [1 / math.log2(i + 2) for i in range(64)]


def ndcg(relevant: list[bool], n_gold: int) -> float:
    k = min(len(relevant), n_gold)
    if k == 0:
        return 0.0
    if len(relevant) > len(_DISCOUNTS):
        dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(relevant) if r)
        return dcg / sum(1 / math.log2(i + 2) for i in range(k))
    dcg = sum(_DISCOUNTS[i] for i, r in enumerate(relevant) if r)
    return dcg / sum(_DISCOUNTS[:k])


def score_matches(matches: list[Match], plan_names: list[str], n_gold: int) -> tuple[PRF, PRF]:
    """Author-style scoring of gold-vs-plan matches, for the plan items in `plan_names` (already top-k)."""
    inplan = set(plan_names)
    matched_gold = [m for m in matches if m.plan and all(p in inplan for p in m.plan)]
    tp = len(matched_gold)
    referenced = {p for m in matched_gold for p in m.plan}
    fp = len(inplan - referenced)
    p, r, f = prf(tp, n_gold, tp, tp + fp)
    compat = PRF(precision=p, recall=r, f1=f, ndcg=ndcg([n in referenced for n in plan_names], n_gold))
    pairs = max_bipartite(matches, plan_names)
    used = set(pairs.values())
    sp, sr, sf = prf(len(pairs), n_gold, len(pairs), len(plan_names))
    strict = PRF(precision=sp, recall=sr, f1=sf, ndcg=ndcg([n in used for n in plan_names], n_gold))
    return compat, strict


S = TypeVar("S", bound=TaskScore)


def score_task(
    j: Judgement,
    top_k: int | None,
    num_requested: int = 0,
    gold_size: int | None = None,
    result: type[S] = TaskScore,  # type: ignore[assignment]
    **extra: Any,
) -> S:
    """The task's scores, as a `result` (a `TaskScore` or a subclass, whose other fields are `extra`)."""
    names = j.plan_names[:top_k] if top_k else list(j.plan_names)
    if j.mode == "author":
        n_gold = gold_size if gold_size is not None else len(j.matches)
        compat, strict = score_matches(j.matches, names, n_gold)
    else:
        n_gold = num_requested
        compat, strict = _reviewer_scores(j, names, n_gold)
    return result(
        task_id=j.task_id,
        mode=j.mode,
        compat=compat,
        strict=strict,
        plan_size=len(names),
        gold_size=n_gold,
        **extra,
    )


def _reviewer_scores(j: Judgement, names: list[str], n: int) -> tuple[PRF, PRF]:
    """Reviewer-mode scores of the plan items in `names` against the `n` requested ablations."""
    keep = set(names)
    items = [it for it in j.items if it.plan in keep]
    appears = sum(it.appears for it in items)
    overlap = min(appears, n)
    fp = len(items) - appears
    p, r, f = prf(overlap, n, overlap, overlap + fp)
    compat = PRF(precision=p, recall=r, f1=f)
    if j.matches:
        _, strict = score_matches(j.matches, names, len(j.matches))
        strict = PRF(precision=strict.precision, recall=strict.recall, f1=strict.f1)
    else:
        sp, sr, sf = prf(overlap, n, appears, len(names))
        strict = PRF(precision=sp, recall=sr, f1=sf)
    return compat, strict


class Interval(BaseModel):
    mean: float
    low: float
    high: float


def bootstrap(values: Sequence[float], seed: int = 0, rounds: int = 1000, exact_below: int = 500) -> Interval:
    """Mean over tasks with a 95% interval: a seeded percentile bootstrap for up to `exact_below` tasks,
    the normal approximation (mean ± 1.96 standard errors) above, where the two agree and resampling
    in pure Python would cost seconds."""
    if not values:
        return Interval(mean=0.0, low=0.0, high=0.0)
    n = len(values)
    mean = sum(values) / n
    if n == 1:
        return Interval(mean=mean, low=mean, high=mean)
    if n > exact_below:
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
        half = 1.96 * sd / math.sqrt(n)
        return Interval(mean=mean, low=max(0.0, mean - half), high=min(1.0, mean + half))
    rng = random.Random(seed)
    vals = list(values)
    means = sorted(sum(rng.choices(vals, k=n)) / n for _ in range(rounds))
    return Interval(mean=mean, low=means[int(0.025 * rounds)], high=means[int(0.975 * rounds) - 1])


def aggregate(scores: list[TaskScore], seed: int = 0) -> dict[str, dict[str, Interval]]:
    out: dict[str, dict[str, Interval]] = {}
    for variant in ("compat", "strict"):
        metrics: dict[str, Interval] = {}
        prfs = [getattr(s, variant) for s in scores]  # once per variant, not once per metric
        for metric in ("precision", "recall", "f1", "ndcg"):
            vals = [getattr(p, metric) for p in prfs]
            vals = [v for v in vals if v is not None]
            if vals:
                metrics[metric] = bootstrap(vals, seed)
        out[variant] = metrics
    return out
