"""One ablation as a runnable protocol, by rules: the offline path of `abplan design`.

The rules fill what the paper and the plan item state (datasets, metrics, the main setting, compute
figures, each quoted) and derive what follows from the ablation's own fields (variants, the outcome
that would show the part matters, the confounds its action brings). What neither gives is "unknown".
"""

from __future__ import annotations

import difflib
import re

from abplan.design import facts
from abplan.errors import InputError
from abplan.grounding import best_sentence
from abplan.schema import UNKNOWN, Ablation, Cost, Design, Figure, Paper, Plan, Variant

# Parts that cannot simply be taken out (a model needs some likelihood, loss or optimiser).
_NOT_REMOVABLE = re.compile(
    r"(?i)likelihood|loss|objective|distribution|optimi[sz]er|softmax|activation|parameteri[sz]ation|"
    r"tokeni[sz]er|schedule"
)

# Parts that carry no weights: removing them leaves the parameter count as it was.
_NO_WEIGHTS = re.compile(
    r"(?i)dropout|regulari[sz]|augment|noise|weight decay|clipping|warm-?up|schedule|masking|"
    r"curriculum|label smoothing|early stopping|loss|objective|sampling"
)


def find_metrics(paper: Paper) -> list[str]:
    """The metrics the paper reports (the offline planner's rules, loaded only when a design needs them,
    so starting the CLI loads no planner)."""
    from abplan.planners.offline_extract import find_metrics as metrics_of

    return metrics_of(paper)


def pick_ablation(plan: Plan, which: str) -> tuple[int, Ablation]:
    """The plan item `which` names: a 1-based index, or a name (case and spacing ignored)."""
    items = plan.ablations
    if not items:
        raise InputError("the plan has no ablations to design")
    if which.strip().isascii() and which.strip().isdigit():
        n = int(which)
        if not 1 <= n <= len(items):
            raise InputError(f"--ablation {n}: the plan has ablations 1 to {len(items)}")
        return n, items[n - 1]
    key = " ".join(which.lower().split())
    names = [" ".join(a.name.lower().split()) for a in items]
    if key in names:
        return names.index(key) + 1, items[names.index(key)]
    near = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
    hint = f" (did you mean '{items[names.index(near[0])].name}'?)" if near else ""
    listed = "; ".join(f"{i}. {a.name}" for i, a in enumerate(items, 1))
    raise InputError(f"--ablation {which!r} names no plan item{hint}; the plan has: {listed}")


def part_ablation(paper: Paper, part: str) -> Ablation:
    """`--part "component"` with no plan: the removal of that component, with the paper's metrics."""
    part = " ".join(part.split())
    if not part:
        raise InputError("--part needs the name of a component")
    ev = best_sentence(paper, part)
    return Ablation(
        name=f"Without {part}",
        ablated_part=part,
        action="REPLACE" if _NOT_REMOVABLE.search(part) else "REMOVE",
        replacement=["a standard alternative (unknown: name one)"] if _NOT_REMOVABLE.search(part) else None,
        metrics=find_metrics(paper),
        evidence=[ev] if ev else [],
    )


def variants_for(a: Ablation) -> list[Variant]:
    """The baseline, the ablation's own variants, and a null control where one makes sense."""
    part = a.ablated_part
    out = [Variant(name="full model (baseline)", description="the paper's main setting, unchanged")]
    if a.action == "REMOVE":
        out.append(Variant(name=f"without {part}", description=f"the main setting with {part} taken out"))
    elif a.action == "REPLACE":
        for r in a.replacement or [UNKNOWN]:
            out.append(Variant(name=f"{part} → {r}", description=f"{part} replaced by {r}, all else fixed"))
        if not _NOT_REMOVABLE.search(part):
            out.append(
                Variant(
                    name=f"without {part}",
                    description=f"{part} taken out: shows whether any choice here matters",
                    null_control=True,
                )
            )
    else:
        for r in a.replacement or [part]:
            out.append(Variant(name=f"with {r}", description=f"the main setting with {r} added"))
        out.append(
            Variant(
                name="size-matched control",
                description=f"the same added parameters and compute as {part}, without its mechanism "
                "(e.g. an identity or randomly initialised block of the same size)",
                null_control=True,
            )
        )
    return out


def short_title(title: str) -> str:
    head, sep, _ = title.partition(":")
    return head.strip() if sep and head.strip() else title.strip()


def research_question(a: Ablation, paper: Paper, metrics: list[str], datasets: list[str]) -> str:
    metric = " and ".join(metrics) if metrics else "its main metric"
    where = f" on {', '.join(datasets)}" if datasets else ""
    name = short_title(paper.title)
    if a.action == "REPLACE" and a.replacement:
        alts = ", ".join(a.replacement)
        return f"Which gives {name} the better {metric}{where}: {a.ablated_part} or {alts}?"
    if a.action == "ADD":
        return f"Does adding {', '.join(a.replacement or [a.ablated_part])} improve {name}'s {metric}{where}?"
    return f"How much of {name}'s {metric}{where} is due to {a.ablated_part}?"


def expected(a: Ablation, metrics: list[str], variants: list[Variant]) -> tuple[str, str]:
    metric = ", ".join(metrics) if metrics else "the main metric"
    changed = [v for v in variants[1:] if not v.null_control]
    worse = "better" if a.action == "ADD" else "worse"
    who = f"'{changed[0].name}'" if len(changed) == 1 else "the changed variants"
    matters = f"{who} {'scores' if len(changed) == 1 else 'score'} {worse} than the full model on {metric} by more than the spread between seeds"
    if any(v.null_control for v in variants):
        matters += ", and the null control does not show the same difference"
    not_ = f"{who} {'stays' if len(changed) == 1 else 'stay'} within the spread between seeds of the full model on {metric}"
    return matters, not_


def confounds(a: Ablation, setting_quoted: bool) -> list[str]:
    part = a.ablated_part
    out = []
    if a.action == "REMOVE" and _NO_WEIGHTS.search(part):
        out.append(f"parameter count: {part} has no weights of its own, so it should not change; check it")
    elif a.action == "REMOVE":
        out.append(
            f"parameter count: taking out {part} changes it; report it for every variant, or match it"
            " (e.g. widen the remaining layers)"
        )
    elif a.action == "REPLACE":
        out.append(
            f"parameter count and compute of each replacement against {part}: report both, or match them"
        )
    else:
        out.append("added capacity: compare with the size-matched control, not only with the baseline")
    out.append(
        "compute matched: the same number of steps (or epochs), batch size and hardware for every variant"
    )
    keep = (
        "the main setting quoted above"
        if setting_quoted
        else "the main setting (unknown: the paper states none)"
    )
    out.append(f"hyperparameters: keep {keep}; retune only what the change requires, for every variant alike")
    out.append("seeds: run the baseline with the same seeds as the variants and compare against its spread")
    return out


def cost_of(variants: list[Variant], figures: list[Figure]) -> Cost:
    runs = len(variants) - 1  # the baseline is shared with the other ablations of a study
    relative = (
        f"{runs} main training run{'s' if runs != 1 else ''} per seed beyond the shared baseline"
        " (each variant assumed to train at the main setting's scale)"
    )
    shown = [f for f in figures if f.verified]
    absolute = (
        "the paper states "
        + "; ".join(f"{f.value} ({f.kind})" for f in shown)
        + " (quoted below: check which describe one main run)"
        if shown
        else f"{UNKNOWN}: the paper states no GPU, time or step figures"
    )
    return Cost(runs=runs, relative=relative, absolute=absolute, figures=shown)


def seeds_line(paper: Paper) -> str:
    ev = facts.find_seeds(paper)
    if ev is None or not ev.verified:
        return f"{UNKNOWN}: the paper does not say how many seeds or runs its numbers come from"
    return f"as many as the paper's own results use: \u201c{ev.quote}\u201d ({ev.section})"


def rule_design(paper: Paper, a: Ablation) -> Design:
    """The protocol the rules can write for `a`: quoted facts, derived fields, "unknown" elsewhere."""
    names, data_quotes = facts.find_datasets(paper)
    metrics = a.metrics or find_metrics(paper)
    setting = [e for e in facts.main_setting(paper) if e.verified]
    variants = variants_for(a)
    matters, not_ = expected(a, metrics, variants)
    flags = [] if setting else ["no sentence of the paper states its main setting: baseline unknown"]
    return Design(
        paper_id=paper.id,
        paper_title=paper.title,
        paper_source=paper.source,
        method="rules",
        ablation=a,
        research_question=research_question(a, paper, metrics, names),
        baseline=setting,
        variants=variants,
        datasets=[e for e in data_quotes if e.verified],
        dataset_names=names,
        metrics=metrics,
        seeds=seeds_line(paper),
        expected_if_matters=matters,
        expected_if_not=not_,
        confounds=confounds(a, bool(setting)),
        cost=cost_of(variants, facts.find_figures(paper)),
        flags=flags,
    )
