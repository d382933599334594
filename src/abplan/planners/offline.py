"""The offline planner: an ablation plan from what the paper's text says, with no LM at all.

It finds the method's components (subsection headings, "we propose/introduce/add ...", defined
acronyms, loss and regulariser terms), hyperparameters with stated values, named alternatives
("instead of Y"), the paper's metrics and, in reviewer mode, the ablations the paper already has.
Candidates are ranked by centrality (title, abstract, contribution claims, method-section mentions).
Pure Python, deterministic, well under a second per paper."""

from __future__ import annotations

import math
import re

from abplan.lm.client import LMClient
from abplan.planners.base import PlanOptions, register_planner
from abplan.planners.offline_extract import (
    MethodPart,
    attach_alternatives,
    existing_ablations,
    find_components,
    find_hyperparameters,
    find_metrics,
    heading_text,
    merge_candidates,
    method_sections,
    own_model_name,
    standard_alternative,
    weight_families,
)
from abplan.planners.offline_patterns import ADDITIVE, CORE_HEAD
from abplan.schema import Ablation, Evidence, Paper, Plan, Section
from abplan.text_match import content_tokens, overlap, split_sentences


def _weight_sweep(name: str, value: str | None) -> list[str]:
    first = name.split(", ")[0]
    opts = ["0 (term removed)", f"{first} × 0.1", f"{first} × 10"]
    return (
        opts
        if value is None
        else [opts[0], f"{first} = {float(value) * 0.1:g}", f"{first} = {float(value) * 10:g}"]
    )


def _neighbours(value: str, name: str) -> list[str]:
    v = float(value)
    integer = "." not in value and "e" not in value.lower()
    low = name.lower()
    if integer:
        if v <= 1:
            opts = [v + 1, v + 3]
        else:
            opts = [max(0, round(v / 2)), round(v * 2)]
            if v > 2:
                opts.insert(0, 1 if v > 3 else 0)
        vals = [str(int(o)) for o in opts if int(o) != int(v)]
    else:
        vals = [
            f"{v * f:g}"
            for f in (0.1, 0.5, 2, 10)
            if not (low.startswith(("dropout", "momentum")) and v * f >= 1)
        ]
    if re.search(r"(?i)λ|lambda|α|alpha|β|beta|γ|gamma|weight|coefficient|dropout", name):
        vals.insert(0, "0 (term removed)")
    out: list[str] = []
    for x in vals:
        label = f"{name} = {x}" if not x.startswith("0 (") else x
        if label not in out:
            out.append(label)
    return out[:5]


SOURCE_RANK = {"heading": 5, "propose": 4, "acronym": 3, "loss": 2, "hyper": 1}
SOURCE_BONUS = {"heading": 2.0, "propose": 1.2, "acronym": 0.8, "loss": 0.8, "module": 0.3, "hyper": 0.6}


def _score(c: MethodPart, paper: Paper, method_text: str, contrib_text: str) -> float:
    toks = content_tokens(c.text)
    if not toks:
        return 0.0

    def hits(text: str) -> float:
        t = content_tokens(text)
        return len(toks & t) / len(toks)

    low = method_text.lower()
    mentions = low.count(c.text.lower()) if len(c.text) > 3 else 0
    s = 1.0 * hits(paper.title) + 1.5 * hits(paper.abstract) + 1.5 * hits(contrib_text)
    s += 0.8 * math.log1p(mentions)
    # The strongest way it was found counts; ties are broken by bonus, then name, never by set order.
    best = max(c.sources, key=lambda x: (SOURCE_RANK.get(x, 0), SOURCE_BONUS.get(x, 0.0), x))
    s += SOURCE_BONUS.get(best, 0.0)
    s += 0.3 * (len(c.sources) - 1)
    if c.kind == "hyper":
        s += 0.5 * hits(paper.abstract + " " + contrib_text)
    if c.alternatives:
        s += 0.8
    return round(s, 4)


def _contributions(paper: Paper) -> str:
    text = paper.abstract
    for s in paper.sections[:4]:
        for sent in split_sentences(s.text):
            if re.search(
                r"(?i)\b(we propose|we introduce|our contributions?|we present|1\)|2\)|we make|we show that)\b",
                sent,
            ):
                text += " " + sent
    return text


def _to_ablation(c: MethodPart, metrics: list[str], section_text: str = "") -> Ablation:
    """The candidate as an ablation: a sweep for a hyperparameter, REPLACE for a named alternative or a
    core part that cannot simply be removed, REMOVE otherwise."""
    head = c.text.split()[-1].lower() if c.text.split() else ""
    part = c.text
    replacement: list[str] | None = None
    if c.kind == "hyper" and "weight" in c.sources:
        what = "loss weights" if ", " in c.text else "loss weight"
        fixed = f"; set to {c.value} in the paper" if c.value else ""
        name, part = (
            f"Sensitivity to the {what} {c.text}",
            f"{what} {c.text} (weighting terms of the objective{fixed})",
        )
        replacement = _weight_sweep(c.text, c.value)
        why = f"The objective weights its terms by {c.text}; a sweep, including removing a term, shows what each term contributes."
    elif c.kind == "hyper":
        name, part = f"Sensitivity to {c.text}", f"{c.text} (set to {c.value} in the paper)"
        replacement = _neighbours(c.value or "1", c.text)
        why = f"The paper fixes {c.text} = {c.value}; a sweep shows how sensitive the results are to it."
    elif c.alternatives:
        name = f"{c.text[:1].upper()}{c.text[1:]} vs. {c.alternatives[0]}"
        replacement = [*c.alternatives, f"no {c.text}"] if ADDITIVE.search(c.text) else list(c.alternatives)
        why = f"The paper chooses {c.text} over {c.alternatives[0]}; comparing them isolates that design choice."
    elif CORE_HEAD.match(head):
        std = standard_alternative(c, section_text)
        name = f"Standard {head} instead of {c.text}" if c.text.lower() != head else f"Alternative {head}"
        replacement = [std] if std else [f"the standard {head} of the base method"]
        why = f"A {head} cannot simply be removed; replacing {c.text} with the standard choice measures its contribution."
    else:
        name = f"Without {c.text[:1].lower() + c.text[1:] if not c.text[:2].isupper() else c.text}"
        why = f"The paper introduces {c.text}; removing it measures its contribution."
    return Ablation(
        name=name,
        ablated_part=part,
        action="REPLACE" if replacement else "REMOVE",
        replacement=replacement,
        metrics=metrics,
        evidence=[Evidence(quote=c.quote[:400], section=c.section, verified=True)],
        score=c.score,
        rationale=why,
    )


def plan_offline(paper: Paper, opts: PlanOptions) -> Plan:
    k = opts.top_k
    msecs = method_sections(paper)
    section_texts = {s.heading: s.text for s in paper.sections}
    method_text = "\n".join(s.text for s in msecs)
    metrics = find_metrics(paper) or ["the paper's main evaluation metric"]
    raw = find_components(paper, msecs)
    comps = merge_candidates([c for c in raw if c.kind == "component"])
    attach_alternatives(comps, [c for c in raw if c.kind == "alternative"])
    hypers = weight_families(merge_candidates(find_hyperparameters(msecs, paper)))
    contrib = _contributions(paper)
    own = own_model_name(paper.title)
    pool = [c for c in comps + hypers if not (own and own.lower() in c.text.lower())]
    for c in pool:
        c.score = _score(c, paper, method_text, contrib)
        if opts.mode == "reviewer" and "weight" in c.sources:
            c.score += 1.5  # reviewers ask for the sensitivity to loss weights more than anything else
    existing = existing_ablations(paper) if opts.mode == "reviewer" else []
    excluded: list[str] = []
    if existing:
        keep = []
        for c in pool:
            if any(overlap(c.text, e) >= 0.67 for e, _ in existing):
                excluded.append(c.text)
            else:
                keep.append(c)
        pool = keep
    pool.sort(key=lambda c: (-c.score, c.text.lower()))
    chosen: list[MethodPart] = []
    for c in pool:
        if any(overlap(c.text, o.text) >= 0.6 for o in chosen):
            continue
        chosen.append(c)
        if len(chosen) >= k:
            break
    # A prior from how ablations are requested: reviewers ask first for the sensitivity to the objective's
    # weighting terms, and authors sweep them too. The best weight family gets a slot of its own.
    weights = [c for c in pool if "weight" in c.sources]
    slot = min(k, 2 if opts.mode == "reviewer" else 3) - 1
    if weights and weights[0] not in chosen and slot >= 0:
        chosen = chosen[:slot] + [weights[0]] + [c for c in chosen[slot:] if c is not weights[0]]
        chosen = chosen[:k]
    ablations = [_to_ablation(c, metrics, section_texts.get(c.section, "")) for c in chosen]
    trace = _trace(paper, opts, msecs, comps, hypers, metrics, existing, excluded, chosen)
    warnings = [] if ablations else ["no method components could be found in the text"]
    return Plan(
        paper_id=paper.id,
        paper_title=paper.title,
        mode=opts.mode,
        planner="offline",
        model="rules",
        k=k,
        reasoning_trace=trace,
        ablations=ablations,
        warnings=warnings,
        findings=list(paper.findings),
    )


def _trace(
    paper: Paper,
    opts: PlanOptions,
    msecs: list[Section],
    comps: list[MethodPart],
    hypers: list[MethodPart],
    metrics: list[str],
    existing: list[tuple[str, str]],
    excluded: list[str],
    chosen: list[MethodPart],
) -> str:
    def names(cs: list[MethodPart], n: int = 8) -> str:
        top = sorted(cs, key=lambda c: -c.score)[:n]
        return ", ".join(f"{c.text}" + (f" = {c.value}" if c.value else "") for c in top) or "none"

    lines = [
        f"This plan was built from the paper's text by rules, without a language model (mode: {opts.mode}).",
        "",
        f"Method sections read: {', '.join(heading_text(s.heading) for s in msecs[:8]) or 'none found'}.",
        f"Components found ({len(comps)}): {names(comps)}.",
        f"Hyperparameters with stated values ({len(hypers)}): {names(hypers, 5)}.",
        f"Metrics the paper reports: {', '.join(metrics)}.",
    ]
    if opts.mode == "reviewer":
        lines.append(
            f"Ablations the paper already reports ({len(existing)}): {', '.join(e for e, _ in existing[:8]) or 'none found'}"
            + (f"; excluded as already covered: {', '.join(excluded[:6])}." if excluded else ".")
        )
    lines.append("")
    lines.append(
        "Ranking: each candidate scores for appearing in the title, the abstract and the contribution claims, "
        "for its mentions in the method, and for how it was introduced (a subsection of its own ranks highest)."
    )
    for i, c in enumerate(chosen, 1):
        how = ", ".join(sorted(c.sources))
        lines.append(
            f"{i}. {c.text} (score {c.score:.2f}; found as: {how}; section: {heading_text(c.section)})"
        )
    return "\n".join(lines)


@register_planner("offline")
class OfflinePlanner:
    name = "offline"
    needs_model = False

    async def plan(self, paper: Paper, opts: PlanOptions, lm: LMClient | None) -> Plan:
        return plan_offline(paper, opts)
