"""Stage 2, propose: N independent candidate plans of 2k items at a diversity temperature.

The samples are spread over the models given and told apart by their seed, so each is its own cache
entry. `--max-cost` may lower N before anything is sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from abplan import prompts
from abplan.lm.client import LMClient
from abplan.lm.context import estimate_tokens
from abplan.lm.pricing import cost_of
from abplan.lm.types import LMRequest, LMResponse, RequestPending
from abplan.planners.base import PlanOptions
from abplan.planners.lm_planner import complete_plan
from abplan.planners.staged.groups import Candidate
from abplan.planners.staged.read import SYSTEM, Extraction, extraction_summary
from abplan.schema import Paper

PROPOSAL_REPLY_TOKENS = 1500  # what one proposal is expected to answer, for cost estimates


def propose_requests(
    paper: Paper, opts: PlanOptions, models: list[str], n: int, ex: Extraction, src: str
) -> list[LMRequest]:
    temp = 0.7 if opts.temperature is None else opts.temperature
    reqs = []
    for i in range(n):
        user = prompts.render(
            "staged_propose",
            mode=opts.mode,
            title=paper.title,
            abstract=paper.abstract,
            extraction=extraction_summary(ex),
            n=2 * opts.top_k,
            paper_source=src,
        )
        reqs.append(
            LMRequest.chat(
                models[i % len(models)],
                SYSTEM,
                user,
                temperature=temp,
                max_tokens=opts.max_tokens,
                seed=i,
                tag="propose",
            )
        )
    return reqs


def estimate_cost(reqs: list[LMRequest], out_tokens: int) -> float:
    """USD for `reqs` at the built-in prices, each answering `out_tokens` (an unpriced model costs 0)."""
    return sum(cost_of(r.model, estimate_tokens("".join(c for _, c in r.messages)), out_tokens) for r in reqs)


def affordable_samples(reqs: list[LMRequest], max_cost: float, spent: float) -> int:
    """How many of the proposal requests `max_cost` USD pays for after `spent`: at least 1."""
    est = estimate_cost(reqs[:1], PROPOSAL_REPLY_TOKENS)
    return max(1, int((max_cost - spent) // est)) if est > 0 else len(reqs)


async def gather_all(coros: list[Any]) -> list[Any]:
    """Run all; pending requests are all recorded before the first is raised (one batch round per stage)."""
    got = await asyncio.gather(*coros, return_exceptions=True)
    for g in got:
        if isinstance(g, RequestPending):
            raise g
    return list(got)


@dataclass
class Proposals:
    """What the samples gave: their candidates in sample then rank order, and how many samples answered."""

    candidates: list[Candidate] = field(default_factory=list)
    responses: list[LMResponse] = field(default_factory=list)
    ok_samples: int = 0
    warnings: list[str] = field(default_factory=list)


def collect(results: list[Any], per_sample: int) -> Proposals:
    """The candidates of every sample that gave a plan (its first `per_sample` items); a failed sample
    is a warning."""
    out = Proposals()
    for i, res in enumerate(results):
        if isinstance(res, BaseException):
            out.warnings.append(f"sample {i + 1} failed: {res}")
            continue
        parsed, rs = res
        out.responses += rs
        out.ok_samples += 1
        for r, ab in enumerate(parsed.ablations[:per_sample]):
            out.candidates.append(Candidate(id=f"S{i + 1}-{r + 1}", sample=i, rank=r + 1, ablation=ab))
    return out


async def propose(lm: LMClient, reqs: list[LMRequest], k: int) -> Proposals:
    """Send every proposal at once (the LM-Planner's tolerant parser, one repair each) and collect 2k items."""
    return collect(await gather_all([complete_plan(lm, r) for r in reqs]), 2 * k)
