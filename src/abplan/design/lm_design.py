"""One ablation as a protocol written by a model: one structured call, validated, repaired once.

Every quote in the reply (baseline, datasets, compute figures) is checked against the paper like plan
evidence; one that does not occur is dropped and named in the design's `flags`. A cost in GPUs or
hours that no verified figure supports becomes "unknown".
"""

from __future__ import annotations

import json

from pydantic import BaseModel, Field, ValidationError

from abplan import prompts
from abplan.grounding import quote_in_text
from abplan.lm.client import LMClient
from abplan.lm.context import fit_paper, window_budget
from abplan.lm.repair import ask_with_repair
from abplan.lm.types import LMRequest, usage_of
from abplan.parsing import json_objects, strip_thinking
from abplan.prompts import paper_source
from abplan.schema import UNKNOWN, Ablation, Cost, Design, Evidence, Figure, Paper, Variant


class Quoted(BaseModel):
    text: str
    quote: str = ""


class DesignReply(BaseModel):
    """The JSON object the model is asked for (its schema is sent with the request)."""

    research_question: str
    baseline: list[Quoted] = Field(default_factory=list)
    variants: list[Variant] = Field(min_length=1)
    datasets: list[Quoted] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    seeds: str = UNKNOWN
    expected_if_matters: str = UNKNOWN
    expected_if_not: str = UNKNOWN
    confounds: list[str] = Field(default_factory=list)
    cost_runs: int | None = Field(default=None, ge=0)
    cost_relative: str = UNKNOWN
    cost_absolute: str = UNKNOWN
    cost_figures: list[Quoted] = Field(default_factory=list)


SYSTEM = "design_system"


def design_request(
    paper: Paper, a: Ablation, model: str, max_tokens: int = 4096
) -> tuple[LMRequest, list[str]]:
    fitted, notes = fit_paper(paper, window_budget(model, 8000))
    schema = DesignReply.model_json_schema()
    user = prompts.render(
        "design_user",
        ablation_name=a.name,
        part=a.ablated_part,
        action=a.action,
        replacements=", ".join(a.replacement) if a.replacement else "none",
        metrics=", ".join(a.metrics) if a.metrics else "none given",
        title=paper.title,
        abstract=paper.abstract,
        paper_source=paper_source(fitted),
        schema=json.dumps(schema),
    )
    req = LMRequest.chat(
        model,
        prompts.render(SYSTEM),
        user,
        temperature=0.0,
        max_tokens=max_tokens,
        json_schema=schema,
        tag="design",
    )
    return req, notes


def parse_design(text: str) -> tuple[DesignReply | None, str | None]:
    """The reply's design, or None and what is wrong with it (for the repair request)."""
    objs, _ = json_objects(strip_thinking(text))
    if not objs:
        return None, "it is not a JSON object"
    problem = "it does not follow the schema"
    for obj in sorted(objs, key=lambda o: -len(json.dumps(o))):
        try:
            return DesignReply.model_validate(obj), None
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "the object"
            problem = f"field {where}: {first['msg']}"
    return None, problem


def _keep(paper: Paper, items: list[Quoted], what: str, flags: list[str]) -> list[Quoted]:
    kept = []
    for q in items:
        if q.quote and quote_in_text(q.quote, paper.text):
            kept.append(q)
        elif q.quote:
            flags.append(f"dropped an unverifiable quote ({what}: {q.text}): \u201c{q.quote}\u201d")
        else:
            flags.append(f"dropped {what} '{q.text}': no quote from the paper")
    return kept


def section_of(paper: Paper, quote: str) -> str | None:
    """The heading of the section a verified quote comes from."""
    return next((s.heading for s in paper.sections if quote_in_text(quote, s.text)), None)


def verified_design(paper: Paper, a: Ablation, reply: DesignReply, model: str) -> Design:
    """The model's design with every quote checked; what fails is dropped and flagged."""
    flags: list[str] = []
    baseline = _keep(paper, reply.baseline, "baseline", flags)
    datasets = _keep(paper, reply.datasets, "dataset", flags)
    figures = _keep(paper, reply.cost_figures, "compute figure", flags)
    absolute = reply.cost_absolute
    if not figures and absolute.strip().lower() != UNKNOWN:
        flags.append(f"cost '{absolute}' is backed by no verified figure of the paper: set to unknown")
        absolute = UNKNOWN
    return Design(
        paper_id=paper.id,
        paper_title=paper.title,
        paper_source=paper.source,
        method="lm",
        model=model,
        ablation=a,
        research_question=reply.research_question,
        baseline=[
            Evidence(quote=q.quote, section=section_of(paper, q.quote), verified=True) for q in baseline
        ],
        variants=reply.variants,
        datasets=[
            Evidence(quote=q.quote, section=section_of(paper, q.quote), verified=True) for q in datasets
        ],
        dataset_names=[q.text for q in datasets],
        metrics=reply.metrics or a.metrics,
        seeds=reply.seeds,
        expected_if_matters=reply.expected_if_matters,
        expected_if_not=reply.expected_if_not,
        confounds=reply.confounds,
        cost=Cost(
            runs=reply.cost_runs,
            relative=reply.cost_relative,
            absolute=absolute,
            figures=[
                Figure(
                    kind="figure",
                    value=q.text,
                    quote=q.quote,
                    section=section_of(paper, q.quote),
                    verified=True,
                )
                for q in figures
            ],
        ),
        flags=flags,
    )


async def lm_design(paper: Paper, a: Ablation, lm: LMClient, model: str) -> Design:
    """Ask `model` for the design (one call, one repair if unreadable) and verify its quotes."""
    req, notes = design_request(paper, a, model)
    reply, _, responses, problem = await ask_with_repair(
        lm,
        req,
        parse_design,
        lambda p: prompts.render("design_repair", problem=p),
        "the design",
    )
    assert reply is not None  # ask_with_repair raises when the repair is unreadable too
    design = verified_design(paper, a, reply, model)
    extra = [*notes, *([f"the first reply was unreadable ({problem}); repaired"] if problem else [])]
    return design.model_copy(update={"flags": [*extra, *design.flags], "usage": usage_of(responses)})
