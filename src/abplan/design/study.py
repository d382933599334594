"""A plan as a study: run order, total relative cost, and which claimed contribution each item tests.

Rules only (no LM): the claims are the paper's own sentences (`facts.find_claims`, verified), an item
tests the claim that contains most of its ablated part's words, the cost of an item is the number of
training runs its variants need, and the shared baseline is trained once and reused. Absolute cost
comes from the paper's compute figures, or is "unknown".
"""

from __future__ import annotations

from abplan.design import facts
from abplan.design.protocol import variants_for
from abplan.schema import UNKNOWN, Claim, Paper, Plan, Study, StudyStep

MIN_SHARE = 0.5  # share of the ablated part's content words a claim must contain to be tested by it


def claim_for(part: str, name: str, claims: list[Claim]) -> int | None:
    best: tuple[float, int] | None = None
    for i, c in enumerate(claims):
        share = max(facts.tests_claim(part, c.quote), facts.tests_claim(name, c.quote) * 0.9)
        if share >= MIN_SHARE and (best is None or share > best[0]):
            best = (share, i)
    return best[1] if best else None


def order(plan: Plan, runs: list[int], claims: list[Claim]) -> list[StudyStep]:
    """The shared baseline, then the items by runs needed, those testing a claim first, then plan order."""
    claim_of: dict[int, int] = {}
    for j, c in reversed(list(enumerate(claims))):
        for n in c.tested_by:
            claim_of[n] = j
    steps = [
        StudyStep(
            item=0,
            name="shared baseline: the full model in the main setting",
            runs=1,
            why="trained once per seed and reused by every item below",
        )
    ]
    items = range(1, len(plan.ablations) + 1)
    for n in sorted(items, key=lambda n: (runs[n - 1], n not in claim_of, n)):
        claim = claim_of.get(n)
        r = runs[n - 1]
        why = f"{r} run{'s' if r != 1 else ''}; " + (
            f"tests claim {claim + 1}" if claim is not None else "tests no claim the paper states"
        )
        steps.append(StudyStep(item=n, name=plan.ablations[n - 1].name, runs=r, claim=claim, why=why))
    return steps


def build_study(plan: Plan, paper: Paper) -> Study:
    claims = [Claim(quote=e.quote, section=e.section) for e in facts.find_claims(paper)]
    for n, a in enumerate(plan.ablations, 1):
        j = claim_for(a.ablated_part, a.name, claims)
        if j is not None:
            claims[j].tested_by.append(n)
    steps = order(plan, [len(variants_for(a)) - 1 for a in plan.ablations], claims)
    total = sum(s.runs for s in steps)
    figures = [f for f in facts.find_figures(paper) if f.verified]
    absolute = (
        f"{total} × one main run, where the paper states: "
        + "; ".join(f"{f.value} ({f.kind})" for f in figures)
        if figures
        else f"{UNKNOWN}: the paper states no GPU, time or step figures"
    )
    notes = [] if claims else ["no contribution claim found in the abstract or introduction"]
    return Study(
        steps=steps,
        total_runs=total,
        total=f"{total} main training runs per seed (1 shared baseline + {total - 1} for the items)",
        absolute=absolute,
        figures=figures,
        claims=claims,
        datasets=facts.find_datasets(paper)[0],
        setting_section=next((e.section for e in facts.main_setting(paper, 1) if e.verified), None),
        untested=[i for i, c in enumerate(claims) if not c.tested_by],
        notes=notes,
    )


def with_study(plan: Plan, paper: Paper) -> Plan:
    """`plan` with its study in `stages["study"]`, where the renderers find it."""
    study = build_study(plan, paper)
    return plan.model_copy(update={"stages": {**plan.stages, "study": study.model_dump(mode="json")}})
