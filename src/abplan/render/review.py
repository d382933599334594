"""Reviewer mode as review text (`--format review`): one paragraph per missing ablation.

Each paragraph says what is missing, why it matters for a claim the paper states (quoted from the
study's verified claims, or else from the item's own verified evidence) and the concrete experiment.
No praise and no filler: a paragraph with no claim and no verified quote says so in one sentence.
"""

from __future__ import annotations

from abplan.errors import ConfigError
from abplan.render.markdown import esc_line
from abplan.render.study import claim_line, study_of
from abplan.schema import Ablation, Plan, Study


def _what(a: Ablation) -> str:
    part = esc_line(a.ablated_part)
    alts = ", ".join(esc_line(r) for r in a.replacement or [])
    if a.action == "REPLACE":
        return f"comparison of {part} with {alts or 'a standard alternative'}"
    if a.action == "ADD":
        return f"run with {alts or part} added"
    return f"run without {part}"


def _why(a: Ablation, n: int, study: Study | None) -> str:
    part = esc_line(a.ablated_part)
    claim = next((s.claim for s in study.steps if s.item == n), None) if study else None
    if study is not None and claim is not None:
        return (
            f"It matters for the claim {claim_line(study, claim)}: without it, the gain is shown for the"
            f" full model only and cannot be attributed to {part}."
        )
    ev = next((e for e in a.evidence if e.verified), None)
    if ev is not None:
        where = f" ({esc_line(ev.section)})" if ev.section else ""
        return (
            f"The paper presents {part} as part of its method (\u201c{esc_line(ev.quote)}\u201d{where}),"
            " but no result isolates its effect."
        )
    return f"No stated claim of the paper names {part}, and no quote supporting this request was verified."


def _experiment(a: Ablation, study: Study | None) -> str:
    metrics = ", ".join(esc_line(m) for m in a.metrics) or "the paper's main metric"
    data = f" on {', '.join(esc_line(d) for d in study.datasets)}" if study and study.datasets else ""
    alts = [esc_line(r) for r in a.replacement or []]
    if a.action == "REPLACE":
        change = (
            f"with {esc_line(a.ablated_part)} replaced by {' and by '.join(alts) or 'a standard alternative'}"
        )
    elif a.action == "ADD":
        change = f"with {' and '.join(alts) or esc_line(a.ablated_part)} added"
    else:
        change = f"without {esc_line(a.ablated_part)}"
    where = f" (section {esc_line(study.setting_section)})" if study and study.setting_section else ""
    return (
        f"Concrete experiment: train the model in the main setting{where} {change}, with everything else and the"
        f" seeds unchanged, and report {metrics}{data} next to the full model, with the spread over seeds."
    )


def render_review(plan: Plan) -> str:
    if plan.mode != "reviewer":
        raise ConfigError("--format review writes reviewer-mode text: plan with --mode reviewer")
    study = study_of(plan)
    paras = []
    for n, a in enumerate(plan.ablations, 1):
        head = f"**{n}. Missing ablation: {esc_line(a.name)}.** The paper reports no {_what(a)}."
        paras.append(" ".join([head, _why(a, n, study), _experiment(a, study)]))
    if not paras:
        paras.append("No missing ablation was found.")
    return "\n\n".join(paras) + "\n"
