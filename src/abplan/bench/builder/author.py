"""`abplan dataset author`: a paper in, an AuthorAblation task out (gold list, cut paper, provenance)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from abplan.bench.builder.cut import CutReport, cut_paper, place_evidence
from abplan.bench.builder.doc import doc_from_paper, render_markdown
from abplan.bench.builder.evidence import quote_in
from abplan.bench.builder.find import draft_items, find_candidates
from abplan.bench.builder.leak import find_leaks, text_leaks
from abplan.bench.builder.locate import locate
from abplan.bench.builder.provenance import provenance
from abplan.bench.builder.write import task_id_for
from abplan.errors import AbplanError, InputError
from abplan.lm.client import LMClient
from abplan.lm.types import usage_of
from abplan.schema import Ablation, Paper, Usage

DRAFT_NOTE = "rules-only draft: every item was read by patterns, not checked by a model; review before use"


class LeakError(AbplanError):
    """The cut paper still gives away a gold ablation's result: the task is not written."""

    exit_code = 1


@dataclass
class AuthorOptions:
    model: str | None = None
    task_id: str | None = None
    source_note: str | None = None
    licence: str | None = None


@dataclass
class BuiltTask:
    record: dict[str, Any]
    paper_md: str
    exclusions: list[dict[str, Any]]
    report: CutReport
    notes: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


def gold_record(a: Ablation) -> dict[str, Any]:
    return {**a.core(), "evidence": [e.model_dump(exclude_none=True) for e in a.evidence]}


async def build_author_task(paper: Paper, source: str, opts: AuthorOptions, lm: LMClient | None) -> BuiltTask:
    doc = doc_from_paper(paper)
    cands = find_candidates(doc)
    if not cands:
        raise InputError(
            f"{source}: no ablation found (no section, table, figure or sentence reports removing, "
            "replacing or varying a part of the method)"
        )
    source_text = f"{paper.text}\n{paper.abstract}"
    notes: list[str] = []
    exclusions: list[dict[str, Any]] = []
    usage = Usage()
    if lm is not None and opts.model:
        loc = await locate(lm, doc, cands, opts.model, source_text)
        gold, notes, usage = loc.ablations, loc.notes, usage_of(loc.responses)
        known = {c.id for c in cands}
        chosen = {p for ids in loc.passages.values() for p in ids if p in known}
        for raw, why in loc.rejected:
            exclusions.append({"kind": "ablation", "item": raw, "reason": why})
            notes.append(f"rejected {str(raw.get('name') or '?')!r}: {why}")
        method = "lm"
    else:
        gold = [a for a in draft_items(doc, cands) if all(quote_in(e.quote, source_text) for e in a.evidence)]
        chosen = {c.id for c in cands}
        method = "rules"
    if not gold:
        why = f"; {len(exclusions)} rejected, e.g. {exclusions[0]['reason']}" if exclusions else ""
        raise InputError(
            f"{source}: no ablation with verifiable evidence in {len(cands)} candidate passages{why}"
        )
    gold = place_evidence(doc, gold)
    # A flagged passage the model did not cite, but that gives a gold result away, goes too.
    for c in cands:
        if c.id not in chosen and c.block is not None and text_leaks(c.text, gold, doc.title):
            chosen.add(c.id)
            notes.append(f"also cut {c.kind} {c.id} in {c.heading!r}: it reports a gold ablation")
    cut, report = cut_paper(doc, gold, cands, chosen)
    tid = opts.task_id or task_id_for(paper.title, paper.content_hash)
    leaks = find_leaks(cut, gold, report.labels)
    if leaks:
        more = f" (and {len(leaks) - 1} more)" if len(leaks) > 1 else ""
        raise LeakError(f"{tid}: leak check failed, task not written: {leaks[0].line()}{more}")
    record: dict[str, Any] = {
        "id": tid,
        "task": "author",
        "paper_title": paper.title,
        "paper_abstract": cut.abstract,
        "paper_path": f"papers/{tid}",
        "source": source,
        "ablations_in_paper": [gold_record(a) for a in gold],
        "provenance": provenance(
            source, paper, note=opts.source_note, licence=opts.licence, method=method, model=opts.model
        ),
        "cut": {"sections": report.sections, "blocks": report.blocks, "sentences": report.sentences},
    }
    if method == "rules":
        record["draft"] = DRAFT_NOTE
    return BuiltTask(record, render_markdown(cut), exclusions, report, notes, usage)
