"""The consensus planner: N samples of the LM-Planner prompt, grouped by one call, cut by support.

Each sample is the faithful LM-Planner request (k items) at a sampling temperature, a distinct cache
entry through its `seed`. One grouping call finds the proposals that are the same experiment; a group's
support is the number of samples that proposed it. The cut keeps groups whose support reaches the
threshold, at most k, never none. Unlike the staged planner there is no extraction stage and each sample
proposes k items, not 2k, so the threshold really shortens plans.

Options (`PlanOptions.extra`, all optional): `samples` (N, default 5), `min_support` (an int, default
N - 1 for N >= 4, else N), `cut` ("fixed": the threshold above; "adaptive": all N when fewer than
`adaptive_at` groups are unanimous, else N - 1; "select": one more call reads the paper and the groups with
their support and chooses which to keep, `consensus_select`; "select-add": the same call, but every group
all N proposed is kept and the call only adds to them), `prior` (author mode: tell every sample what authors
usually ablate), `angles` (reviewer mode: each sample reviews from one of three angles), `models`
(samples spread across them), `context_window`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from abplan import prompts
from abplan.errors import ConfigError, LMError
from abplan.lm.client import LMClient
from abplan.lm.context import estimate_tokens
from abplan.lm.pricing import total_cost
from abplan.lm.types import LMRequest, LMResponse, usage_of
from abplan.planners.base import PlanOptions, flag_option, positive_option, register_planner, require_model
from abplan.planners.consensus_select import (
    SELECT_REPLY_TOKENS,
    select_groups,
    selection_records,
    with_unanimous,
)
from abplan.planners.lm_planner import complete_plan, planner_request, with_author_prior
from abplan.planners.staged import (
    Candidate,
    Extraction,
    Group,
    consolidate,
    gather_all,
    ground,
    merge_group,
)
from abplan.schema import Ablation, Paper, Plan, Usage

CUTS = ("fixed", "adaptive", "select", "select-add")
SELECTING = ("select", "select-add")
N_ANGLES = 3
SAMPLE_REPLY_TOKENS = 2000  # a discussion and k ablations, as the LM-Planner replies


@dataclass(frozen=True)
class ConsensusOptions:
    samples: int = 5
    min_support: int | None = None
    cut: str = "fixed"
    adaptive_at: int = 3
    prior: bool = False
    angles: bool = True
    temperature: float = 0.7
    models: tuple[str, ...] = ()

    @staticmethod
    def from_plan_options(opts: PlanOptions) -> ConsensusOptions:
        x = opts.extra
        n = positive_option(x, "samples", 5)
        cut = str(x.get("cut") or "fixed")
        if cut not in CUTS:
            raise ConfigError(f"unknown cut {cut!r} (one of: {', '.join(CUTS)})")
        ms = None if x.get("min_support") is None else positive_option(x, "min_support", 1)
        if ms is not None and cut in SELECTING:
            raise ConfigError(f"cut={cut} chooses the experiments itself: give it without --min-support")
        if ms is not None and not 1 <= ms <= n:
            raise ConfigError(f"min_support must be between 1 and the number of samples ({n})")
        models = tuple(x.get("models") or ([opts.model] if opts.model else []))
        return ConsensusOptions(
            samples=n,
            min_support=int(ms) if ms is not None else None,
            cut=cut,
            adaptive_at=positive_option(x, "adaptive_at", 3),
            prior=flag_option(x, "prior", False),
            angles=flag_option(x, "angles", True),
            temperature=0.7 if opts.temperature is None else float(opts.temperature),
            models=models,
        )

    def threshold(self, n_ok: int) -> int:
        """The support a group needs, out of the samples that gave a readable plan."""
        if self.min_support is not None:
            return min(self.min_support, n_ok)
        return n_ok - 1 if n_ok >= 4 else n_ok


def sample_requests(
    paper: Paper, opts: PlanOptions, co: ConsensusOptions
) -> tuple[list[LMRequest], list[str]]:
    """The N sampling requests: the LM-Planner request, a sampling temperature and a seed per sample."""
    reqs: list[LMRequest] = []
    notes: list[str] = []
    for i in range(co.samples):
        model = co.models[i % len(co.models)]
        base, fit = planner_request(paper, opts, model)
        if i == 0:
            notes = fit
        system = base.messages[0][1]
        if opts.mode == "author" and co.prior:
            system = with_author_prior(system)
        elif opts.mode == "reviewer" and co.angles:
            system += "\n\n" + prompts.render("reviewer_angle", angle=i % N_ANGLES)
        reqs.append(
            LMRequest(
                model=model,
                messages=(("system", system), *base.messages[1:]),
                temperature=co.temperature,
                max_tokens=base.max_tokens,
                seed=i,
                tag="sample",
            )
        )
    return reqs, notes


def ranked_groups(groups: list[Group]) -> list[Group]:
    """Most supported first, then by mean rank: the order of the cut and of the selection call's ids."""
    return sorted(groups, key=lambda g: (-g.support, g.mean_rank, g.name.lower()))


def cut_groups(
    groups: list[Group], k: int, need: int, co: ConsensusOptions, n_ok: int
) -> tuple[list[Group], list[dict[str, Any]], int]:
    """Rank (`ranked_groups`); keep what reaches the threshold, at most k, never none."""
    groups = ranked_groups(groups)
    if co.cut == "adaptive" and co.min_support is None:
        unanimous = sum(1 for g in groups if g.support >= n_ok)
        need = n_ok if unanimous < co.adaptive_at else max(1, n_ok - 1)
    kept: list[Group] = []
    records: list[dict[str, Any]] = []
    for rank, g in enumerate(groups, 1):
        rule = None
        if len(kept) >= k:
            rule = f"beyond k={k}"
        elif g.support < need and kept:
            rule = f"support {g.support} < {need}"
        if rule is None:
            kept.append(g)
        records.append(g.record(rank, rule))
    return kept, records, need


@register_planner("consensus")
class ConsensusPlanner:
    """N LM-Planner samples at k items each, grouped by one LM call, cut by how many samples agree."""

    name = "consensus"
    needs_model = True

    async def plan(self, paper: Paper, opts: PlanOptions, lm: LMClient | None) -> Plan:
        lm, _ = require_model(self.name, lm, opts)
        co = ConsensusOptions.from_plan_options(opts)
        k = opts.top_k
        reqs, warnings = sample_requests(paper, opts, co)
        results = await gather_all([complete_plan(lm, r) for r in reqs])
        cands: list[Candidate] = []
        sample_resp: list[LMResponse] = []
        traces: list[str] = []
        n_ok = 0
        for i, res in enumerate(results):
            if isinstance(res, BaseException):
                warnings.append(f"sample {i + 1} failed: {res}")
                continue
            parsed, rs = res
            sample_resp += rs
            n_ok += 1
            traces.append(parsed.reasoning)
            for r, ab in enumerate(parsed.ablations[:k]):
                cands.append(Candidate(id=f"S{i + 1}-{r + 1}", sample=i, rank=r + 1, ablation=ab))
        if not cands:
            failed = [r for r in results if isinstance(r, BaseException)]
            # the same cause for every sample (no key, no server): say it, not "no readable plan"
            if len(failed) == len(results):
                raise failed[0]
            raise LMError(f"{opts.model}: no sample produced a readable plan")
        groups, group_resp, notes = await consolidate(lm, paper, cands, co.models[0], opts, n_ok)
        warnings += notes
        kept, records, need = cut_groups(groups, k, co.threshold(n_ok), co, n_ok)
        select_resp: list[LMResponse] = []
        if co.cut in SELECTING and co.min_support is None and n_ok > 1:
            ranked = ranked_groups(groups)
            chosen, why, select_resp, notes = await select_groups(lm, paper, opts, co.models[0], ranked, n_ok)
            warnings += notes
            if chosen is not None and co.cut == "select-add":
                chosen = with_unanimous(ranked, chosen, n_ok, k)
            if chosen is not None:
                kept, records, need = [ranked[i] for i in chosen], selection_records(ranked, chosen), 0
                traces.insert(0, why)
        ablations: list[Ablation] = []
        for g in kept:
            ab, _ = ground(merge_group(g), paper, Extraction())
            ablations.append(ab)
        usage = {"sample": usage_of(sample_resp), "group": usage_of(group_resp)}
        if select_resp:
            usage["select"] = usage_of(select_resp)
        return Plan(
            paper_id=paper.id,
            paper_title=paper.title,
            mode=opts.mode,
            planner=self.name,
            model=",".join(co.models),
            k=k,
            reasoning_trace=consensus_trace(co, n_ok, cands, groups, kept, need, traces),
            ablations=ablations,
            warnings=warnings,
            findings=list(paper.findings),
            usage=Usage.total(usage.values()),
            stages={
                "groups": records,
                "settings": {
                    "samples": co.samples,
                    "min_support": need or None,
                    "cut": co.cut,
                    "prior": co.prior,
                    "angles": co.angles,
                    "temperature": co.temperature,
                    "models": list(co.models),
                    "k": k,
                },
                "usage": {s: u.model_dump() for s, u in usage.items()},
            },
        )


def consensus_trace(
    co: ConsensusOptions,
    n_ok: int,
    cands: list[Candidate],
    groups: list[Group],
    kept: list[Group],
    need: int,
    traces: list[str],
) -> str:
    if need == 0 and co.cut == "select-add":
        how = (
            f"Kept every experiment all {n_ok} plans proposed; a selection call read the paper and added "
            f"the others it chose, {len(kept)} in all."
        )
    elif need == 0:
        how = (
            f"A selection call read the paper and the experiments with their support, and kept {len(kept)}, "
            "in its order."
        )
    else:
        how = f"Kept the experiments proposed by at least {need} of {n_ok} plans, most supported first."
    lines = [
        f"{n_ok} of {co.samples} independent plans gave {len(cands)} proposals, which group into "
        f"{len(groups)} distinct experiments. {how}",
    ]
    for i, g in enumerate(kept, 1):
        lines.append(f"{i}. {g.name}: proposed by {g.support} of {n_ok} plans, mean rank {g.mean_rank:.1f}")
    others = [g for g in groups if g not in kept][:5]
    if others:
        lines.append("Not kept: " + "; ".join(f"{g.name} ({g.support}/{n_ok})" for g in others) + ".")
    if traces and traces[0].strip():
        label = "Reasoning of the selection:" if need == 0 else "Reasoning of the first plan:"
        lines += ["", label, traces[0].strip()]
    return "\n".join(lines)


def dry_run(
    paper: Paper, opts: PlanOptions, prices: dict[str, tuple[float, float]] | None = None
) -> dict[str, Any]:
    """Calls, tokens and cost before spending anything: N samples + 1 grouping call (none for N = 1)."""
    if not opts.model:
        raise ConfigError("the consensus planner needs a model: --model provider/name or ABPLAN_MODEL")
    co = ConsensusOptions.from_plan_options(opts)
    reqs, notes = sample_requests(paper, opts, co)
    rows = [
        ("sample", r.model, estimate_tokens("".join(m for _, m in r.messages)), SAMPLE_REPLY_TOKENS)
        for r in reqs
    ]
    if co.samples > 1:
        rows.append(("group", co.models[0], 60 * opts.top_k * co.samples // 4 + 300, 800))
        if co.cut in SELECTING:
            paper_tokens = rows[0][2]
            rows.append(
                ("select", co.models[0], paper_tokens + 40 * opts.top_k * co.samples, SELECT_REPLY_TOKENS)
            )
    cost, unpriced = total_cost([(model, tin, tout) for _, model, tin, tout in rows], prices)
    notes += unpriced
    stages = [
        {
            "stage": s,
            "calls": sum(1 for r in rows if r[0] == s),
            "input_tokens_each": next(r[2] for r in rows if r[0] == s),
            "output_tokens_each": next(r[3] for r in rows if r[0] == s),
        }
        for s in dict.fromkeys(r[0] for r in rows)
    ]
    return {
        "calls": len(rows),
        "input_tokens": sum(r[2] for r in rows),
        "output_tokens": sum(r[3] for r in rows),
        "cost_usd": cost,
        "stages": stages,
        "notes": list(dict.fromkeys(notes)),
    }
