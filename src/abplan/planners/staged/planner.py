"""The extraction-based staged planner (`staged-extract`): the five stages in order, the reasoning trace, and the dry-run estimate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from abplan.errors import ConfigError, LMError
from abplan.lm.client import LMClient
from abplan.lm.context import estimate_tokens, fit_paper
from abplan.lm.pricing import total_cost
from abplan.lm.types import usage_of
from abplan.planners.base import PlanOptions, register_planner, require_model
from abplan.planners.staged.consolidate import consolidate
from abplan.planners.staged.cut import ground_all, rank_and_cut
from abplan.planners.staged.groups import Group
from abplan.planners.staged.options import StagedOptions
from abplan.planners.staged.propose import affordable_samples, propose, propose_requests
from abplan.planners.staged.read import Component, Extraction, read, read_request
from abplan.prompts import paper_source
from abplan.schema import Mode, Paper, Plan, Usage


@register_planner("staged-extract")
class StagedPlanner:
    name = "staged-extract"
    needs_model = True

    async def plan(self, paper: Paper, opts: PlanOptions, lm: LMClient | None) -> Plan:
        lm, _ = require_model(self.name, lm, opts)
        so = StagedOptions.from_plan_options(opts)
        models, n, min_support, k = list(so.models), so.samples, so.min_support, opts.top_k
        fitted, fit_notes = fit_paper(paper, so.fit_budget)
        src = paper_source(fitted)
        warnings = list(fit_notes)
        stage_usage: dict[str, Usage] = {}

        ex, resp, notes = await read(lm, read_request(fitted, opts, models[0], src))
        stage_usage["read"] = usage_of(resp)
        warnings += notes

        reqs = propose_requests(fitted, opts, models, n, ex, src)
        if so.max_cost is not None:
            affordable = affordable_samples(reqs, so.max_cost, stage_usage["read"].cost_usd)
            if affordable < n:
                warnings.append(f"--max-cost allows {affordable} of {n} samples")
                reqs, n, min_support = reqs[:affordable], affordable, min(min_support, affordable)
        props = await propose(lm, reqs, k)
        warnings += props.warnings
        stage_usage["propose"] = usage_of(props.responses)
        if not props.candidates:
            raise LMError(f"{opts.model}: no sample produced a readable plan")
        if props.ok_samples < n:
            min_support = min(min_support, props.ok_samples)

        groups, cres, gnotes = await consolidate(
            lm, fitted, props.candidates, models[0], opts, props.ok_samples
        )
        if cres:
            stage_usage["consolidate"] = usage_of(cres)
        warnings += gnotes

        cut = rank_and_cut(
            groups,
            mode=opts.mode,
            k=k,
            length=so.length,
            min_support=min_support,
            existing=ex.existing_ablations,
        )
        ablations, dropped, gwarnings = ground_all(cut.kept, paper, ex)
        warnings += gwarnings
        facts = TraceFacts(
            opts.mode, k, ex, n, props.ok_samples, len(props.candidates), cut.ranked, cut.kept, min_support,
            so.length, dropped, models,
        )  # fmt: skip
        trace = staged_trace(facts)
        ungrounded = [a.name for a in ablations if not a.evidence]
        if ungrounded:
            trace += f"\nNo supporting passage was found for: {', '.join(ungrounded)}."
        settings = {"samples": n, "min_support": min_support, "length": so.length, "models": models, "k": k}
        return Plan(
            paper_id=paper.id,
            paper_title=paper.title,
            mode=opts.mode,
            planner=self.name,
            model=",".join(models),
            k=k,
            reasoning_trace=trace,
            ablations=ablations,
            warnings=warnings,
            findings=list(paper.findings),
            usage=Usage.total(stage_usage.values()),
            stages={
                "extraction": ex.model_dump(),
                "groups": cut.records,
                "settings": settings,
                "usage": {s: u.model_dump() for s, u in stage_usage.items()},
                "evidence_dropped": dropped,
            },
        )


@dataclass(frozen=True)
class TraceFacts:
    """What the stages found, as the reasoning trace tells it."""

    mode: Mode
    k: int
    extraction: Extraction
    samples: int  # asked for, after --max-cost
    ok_samples: int  # gave a readable plan
    candidates: int
    groups: list[Group]  # ranked
    kept: list[Group]
    min_support: int
    length: str
    dropped: int  # quotes not found in the paper
    models: list[str]


def staged_trace(t: TraceFacts) -> str:
    ex, ok = t.extraction, t.ok_samples
    lines = [
        f"Reading: {len(ex.contributions)} contributions, {len(ex.components)} components, {len(ex.hyperparameters)} hyperparameters, "
        f"metrics: {', '.join(ex.metrics[:6]) or 'none found'}."
        + (
            f" The paper already reports {len(ex.existing_ablations)} ablations: {'; '.join(e.ablated_part for e in ex.existing_ablations[:6])}."
            if t.mode == "reviewer"
            else ""
        ),
        "",
        f"Proposals: {ok} of {t.samples} independent samples ({', '.join(t.models)}) gave {t.candidates} candidate ablations, "
        f"which group into {len(t.groups)} distinct experiments.",
        "",
        "Cut: ranked by support (how many samples proposed the experiment), then mean rank; "
        + (
            f"kept the experiments proposed by at least {t.min_support} of {ok} samples, at most {t.k}."
            if t.length == "support"
            else f"kept the top {t.k}."
        ),
    ]
    for i, g in enumerate(t.kept, 1):
        lines.append(f"{i}. {g.name}: support {g.support}/{ok}, mean rank {g.mean_rank:.1f}")
    others = [g for g in t.groups if g not in t.kept][:5]
    if others:
        lines.append("Not kept: " + "; ".join(f"{g.name} ({g.support}/{ok})" for g in others) + ".")
    lines.append("")
    lines.append(
        f"Grounding: {t.dropped} quoted evidence passage{'s' if t.dropped != 1 else ''} could not be found in the paper and {'were' if t.dropped != 1 else 'was'} dropped."
    )
    return "\n".join(lines)


def dry_run(
    paper: Paper, opts: PlanOptions, prices: dict[str, tuple[float, float]] | None = None
) -> dict[str, Any]:
    """Calls, tokens and cost the staged planner would spend on `paper`, before spending anything:
    1 read + N proposals + 1 consolidation (none for a single sample). `cost_usd` is None when a
    model has no known price."""
    if not opts.model:
        raise ConfigError("the staged-extract planner needs a model: --model provider/name or ABPLAN_MODEL")
    so = StagedOptions.from_plan_options(opts)
    models, n = list(so.models), so.samples
    fitted, notes = fit_paper(paper, so.fit_budget)
    src = paper_source(fitted)
    r = read_request(fitted, opts, models[0], src)
    p = propose_requests(fitted, opts, models, n, Extraction(components=[Component(name="x" * 40)] * 15), src)
    c_in = 60 * 2 * opts.top_k * n // 4 + 300
    rows = [
        ("read", 1, estimate_tokens("".join(m for _, m in r.messages)), 2000),
        ("propose", n, estimate_tokens("".join(m for _, m in p[0].messages)), 1500),
        ("consolidate", 1 if n > 1 else 0, c_in, 800),
    ]
    cost, unpriced = total_cost(
        [
            (models[i % len(models)] if stage == "propose" else models[0], tin, tout)
            for stage, calls, tin, tout in rows
            for i in range(calls)
        ],
        prices,
    )
    notes += unpriced
    return {
        "calls": sum(r[1] for r in rows),
        "input_tokens": sum(r[1] * r[2] for r in rows),
        "output_tokens": sum(r[1] * r[3] for r in rows),
        "cost_usd": cost,
        "stages": [
            {"stage": s, "calls": c, "input_tokens_each": i, "output_tokens_each": o} for s, c, i, o in rows
        ],
        "notes": list(dict.fromkeys(notes)),
    }
