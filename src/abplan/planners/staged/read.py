"""Stage 1, read: one structured-output call extracts what the paper claims and is made of.

Contributions, components (with verbatim quotes), hyperparameters, datasets, metrics and, in reviewer
mode, the ablations the paper already has. An unreadable reply gets one repair request; if that fails
too, the proposals use the paper alone.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, Field, ValidationError

from abplan import prompts
from abplan.lm.client import LMClient
from abplan.lm.repair import ask_twice
from abplan.lm.types import LMRequest, LMResponse
from abplan.parsing import json_objects, strip_thinking
from abplan.planners.base import PlanOptions
from abplan.schema import Paper

SYSTEM = prompts.render("planner_system")


class Component(BaseModel):
    name: str
    description: str = ""
    quote: str = ""
    section: str | None = None


class Hyperparameter(BaseModel):
    name: str
    value: str = ""
    quote: str = ""


class ExistingAblation(BaseModel):
    ablated_part: str
    quote: str = ""


class Extraction(BaseModel):
    contributions: list[str] = Field(default_factory=list)
    components: list[Component] = Field(default_factory=list)
    hyperparameters: list[Hyperparameter] = Field(default_factory=list)
    datasets: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    existing_ablations: list[ExistingAblation] = Field(default_factory=list)


def read_request(paper: Paper, opts: PlanOptions, model: str, src: str) -> LMRequest:
    schema = Extraction.model_json_schema()
    user = prompts.render(
        "staged_read",
        mode=opts.mode,
        title=paper.title,
        abstract=paper.abstract,
        paper_source=src,
        schema=json.dumps(schema),
    )
    return LMRequest.chat(
        model, SYSTEM, user, temperature=0.0, max_tokens=opts.max_tokens, json_schema=schema, tag="read"
    )


# The repair's wording is part of its cached request: keep it as it is.
REPAIR = "That was not a JSON object following the schema. Answer again with the JSON object only."


def parse_extraction(text: str) -> Extraction | None:
    """The largest JSON object in `text` that follows the schema, or None."""
    objs, _ = json_objects(strip_thinking(text))
    for o in sorted(objs, key=lambda o: -len(json.dumps(o))):
        try:
            return Extraction.model_validate(o)
        except ValidationError:
            continue
    return None


async def read(lm: LMClient, req: LMRequest) -> tuple[Extraction, list[LMResponse], list[str]]:
    """The extraction, the responses it took (one, or two with the repair) and warnings."""

    def parse(text: str) -> tuple[Extraction | None, str | None]:
        ex = parse_extraction(text)
        return ex, None if ex is not None else "not a JSON object following the schema"

    got = await ask_twice(lm, req, parse, lambda _problem: REPAIR)
    if got.value is None:
        return (
            Extraction(),
            got.responses,
            ["the extraction could not be read, even after one repair: proposals use the paper alone"],
        )
    return got.value, got.responses, ["the first extraction was unreadable; repaired"] if got.problem else []


def extraction_summary(ex: Extraction) -> str:
    """The extraction as the proposal prompt shows it, a few lines."""
    lines = []
    if ex.contributions:
        lines.append("Contributions: " + "; ".join(ex.contributions[:8]))
    if ex.components:
        lines.append(
            "Components: "
            + "; ".join(
                f"{c.name}" + (f" ({c.description})" if c.description else "") for c in ex.components[:20]
            )
        )
    if ex.hyperparameters:
        lines.append(
            "Hyperparameters: " + "; ".join(f"{h.name} = {h.value}" for h in ex.hyperparameters[:15])
        )
    if ex.datasets:
        lines.append("Datasets: " + ", ".join(ex.datasets[:10]))
    if ex.metrics:
        lines.append("Metrics: " + ", ".join(ex.metrics[:10]))
    if ex.existing_ablations:
        lines.append(
            "Ablations the paper already reports: "
            + "; ".join(e.ablated_part for e in ex.existing_ablations[:15])
        )
    return "\n".join(lines) or "(nothing extracted)"
