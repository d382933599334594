"""The study of a plan with one LM call: the paper's claims and which items test them, the runs each
item needs and the paper's compute figures. Claim and figure quotes are verified against the paper
(an unverifiable one is dropped and noted); item numbers outside the plan are ignored. The run order
follows the same rule as the offline study (`study.order`).
"""

from __future__ import annotations

import json

from pydantic import BaseModel, Field, ValidationError

from abplan import prompts
from abplan.design.lm_design import Quoted, section_of
from abplan.design.protocol import variants_for
from abplan.design.study import build_study, order
from abplan.grounding import quote_in_text
from abplan.lm.client import LMClient
from abplan.lm.context import fit_paper, window_budget
from abplan.lm.repair import ask_with_repair
from abplan.lm.types import LMRequest, usage_of
from abplan.parsing import json_objects, strip_thinking
from abplan.prompts import paper_source
from abplan.schema import UNKNOWN, Claim, Figure, Paper, Plan, Study


class ClaimReply(BaseModel):
    quote: str
    tested_by: list[int] = Field(default_factory=list)


class ItemRuns(BaseModel):
    item: int
    runs: int = Field(ge=0)


class StudyReply(BaseModel):
    claims: list[ClaimReply] = Field(default_factory=list)
    runs: list[ItemRuns] = Field(default_factory=list)
    figures: list[Quoted] = Field(default_factory=list)
    absolute: str = UNKNOWN


def study_request(plan: Plan, paper: Paper, model: str) -> LMRequest:
    fitted, _ = fit_paper(paper, window_budget(model, 8000))
    schema = StudyReply.model_json_schema()
    user = prompts.render(
        "study_user",
        items=plan.ablations,
        title=paper.title,
        abstract=paper.abstract,
        paper_source=paper_source(fitted),
        schema=json.dumps(schema),
    )
    system = prompts.render("study_system")
    return LMRequest.chat(
        model, system, user, temperature=0.0, max_tokens=4096, json_schema=schema, tag="study"
    )


def parse_study(text: str) -> tuple[StudyReply | None, str | None]:
    objs, _ = json_objects(strip_thinking(text))
    if not objs:
        return None, "it is not a JSON object"
    try:
        return StudyReply.model_validate(max(objs, key=lambda o: len(json.dumps(o)))), None
    except ValidationError as e:
        first = e.errors()[0]
        return None, f"field {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


def verified_study(plan: Plan, paper: Paper, reply: StudyReply) -> Study:
    """The rules' study with the model's claims, runs and figures where they check out."""
    base = build_study(plan, paper)
    n_items = len(plan.ablations)
    notes: list[str] = []
    claims = []
    for c in reply.claims:
        if quote_in_text(c.quote, paper.text):
            tested = sorted({n for n in c.tested_by if 1 <= n <= n_items})
            claims.append(Claim(quote=c.quote, section=section_of(paper, c.quote), tested_by=tested))
        else:
            notes.append(f"dropped an unverifiable claim quote: \u201c{c.quote}\u201d")
    figures = []
    for f in reply.figures:
        if quote_in_text(f.quote, paper.text):
            figures.append(
                Figure(
                    kind="figure",
                    value=f.text,
                    quote=f.quote,
                    section=section_of(paper, f.quote),
                    verified=True,
                )
            )
        else:
            notes.append(f"dropped an unverifiable compute figure: \u201c{f.quote}\u201d")
    runs = {r.item: r.runs for r in reply.runs if 1 <= r.item <= n_items}
    fallback = [len(variants_for(a)) - 1 for a in plan.ablations]
    steps = order(plan, [runs.get(n, fallback[n - 1]) for n in range(1, n_items + 1)], claims)
    absolute = reply.absolute if figures else f"{UNKNOWN}: no verified compute figure"
    if not figures and reply.absolute.strip().lower() != UNKNOWN:
        notes.append(f"cost '{reply.absolute}' is backed by no verified figure: set to unknown")
    total = sum(s.runs for s in steps)
    return base.model_copy(
        update={
            "steps": steps,
            "total_runs": total,
            "total": f"{total} main training runs per seed (1 shared baseline + {total - 1} for the items)",
            "absolute": absolute,
            "figures": figures,
            "claims": claims,
            "untested": [i for i, c in enumerate(claims) if not c.tested_by],
            "method": "lm",
            "notes": notes,
        }
    )


async def with_lm_study(plan: Plan, paper: Paper, lm: LMClient, model: str) -> Plan:
    """`plan` with a study from one LM call (repaired once), its usage added to the plan's."""
    reply, _, responses, _ = await ask_with_repair(
        lm,
        study_request(plan, paper, model),
        parse_study,
        lambda p: prompts.render("design_repair", problem=p),
        "the study",
    )
    assert reply is not None
    study = verified_study(plan, paper, reply)
    usage = plan.usage.add(usage_of(responses))
    stages = {**plan.stages, "study": study.model_dump(mode="json")}
    return plan.model_copy(update={"stages": stages, "usage": usage})
