"""The LM-Planner: one chain-of-thought call that returns a discussion and up to k ranked ablations."""

from __future__ import annotations

from dataclasses import replace

from abplan import prompts
from abplan.lm.client import LMClient
from abplan.lm.context import fit_paper, window_budget
from abplan.lm.repair import ask_with_repair
from abplan.lm.types import LMRequest, LMResponse, usage_of
from abplan.parsing import ParsedPlan, parse_plan
from abplan.planners.base import PlanOptions, flag_option, register_planner, require_model
from abplan.prompts import paper_source
from abplan.schema import Paper, Plan


def fit_for(paper: Paper, opts: PlanOptions, model: str, reserve: int = 2000) -> tuple[Paper, list[str]]:
    """The paper cut to the model's window, less the reply and `reserve` tokens for the rest of the
    prompt, and notes of what was cut."""
    return fit_paper(paper, window_budget(model, opts.max_tokens + reserve, opts.extra.get("context_window")))


def planner_request(paper: Paper, opts: PlanOptions, model: str) -> tuple[LMRequest, list[str]]:
    """The one planning request, and notes of what was cut to fit the paper into the model's window."""
    paper, notes = fit_for(paper, opts, model)
    user = prompts.render(
        f"planner_{opts.mode}",
        title=paper.title,
        abstract=paper.abstract,
        k=opts.top_k,
        paper_source=paper_source(paper, opts.max_paper_chars),
    )
    req = LMRequest.chat(
        model,
        prompts.render("planner_system"),
        user,
        temperature=0.0 if opts.temperature is None else opts.temperature,
        max_tokens=opts.max_tokens,
        tag="plan",
    )
    return req, notes


def with_author_prior(system: str) -> str:
    """The system message followed by the author prior (what authors usually ablate): `-O prior=true`
    of the lm planner and of every consensus sample."""
    return system + "\n\n" + prompts.render("consensus_prior")


def _plan_or_problem(text: str) -> tuple[ParsedPlan, str | None]:
    parsed = parse_plan(text)
    return parsed, None if parsed.ablations else (
        "; ".join(parsed.warnings[:3]) or "no ablation could be read"
    )


async def complete_plan(lm: LMClient, req: LMRequest) -> tuple[ParsedPlan, list[LMResponse]]:
    """Ask, parse, and ask once to repair a reply from which no ablation could be read."""
    plan, first, responses, problem = await ask_with_repair(
        lm, req, _plan_or_problem, lambda p: prompts.render("repair", problem=p), "reply (no valid ablation)"
    )
    if first is not None:
        plan.warnings.insert(0, f"first reply unreadable ({problem}); repaired")
        plan.reasoning = plan.reasoning or first.reasoning
    return plan, responses


@register_planner("lm")
class LMPlanner:
    """Faithful re-implementation of AblationBench's LM-Planner, with a tolerant parser and one repair."""

    name = "lm"
    needs_model = True

    async def plan(self, paper: Paper, opts: PlanOptions, lm: LMClient | None) -> Plan:
        lm, model = require_model(self.name, lm, opts)
        req, fit_notes = planner_request(paper, opts, model)
        if opts.mode == "author" and flag_option(opts.extra, "prior", False):
            req = replace(
                req, messages=(("system", with_author_prior(req.messages[0][1])), *req.messages[1:])
            )
        parsed, responses = await complete_plan(lm, req)
        ablations = parsed.ablations
        warnings = fit_notes + list(parsed.warnings)
        if len(ablations) > opts.top_k:
            warnings.append(f"the model proposed {len(ablations)} ablations; kept the first {opts.top_k}")
            ablations = ablations[: opts.top_k]
        return Plan(
            paper_id=paper.id,
            paper_title=paper.title,
            mode=opts.mode,
            planner=self.name,
            model=model,
            k=opts.top_k,
            reasoning_trace=parsed.reasoning,
            ablations=ablations,
            warnings=warnings,
            findings=list(paper.findings),
            usage=usage_of(responses),
        )
