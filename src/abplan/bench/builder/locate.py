"""The LM step of finding ablations: it reads the rule candidates (with the method as context) and
writes the gold list, each item with a verbatim quote; a quote not in the source rejects its item."""

from __future__ import annotations

from dataclasses import dataclass, field

from abplan import prompts
from abplan.bench.builder.doc import Doc
from abplan.bench.builder.evidence import quote_in
from abplan.bench.builder.find import PASSAGE_CHARS, Passage
from abplan.lm.client import LMClient
from abplan.lm.context import CHARS_PER_TOKEN, context_window
from abplan.lm.repair import ask_with_repair
from abplan.lm.types import LMRequest, LMResponse
from abplan.parsing import split_reply, to_ablation
from abplan.schema import Ablation, Evidence

METHOD_CHARS = 12_000
MAX_TOKENS = 8192
MAX_PASSAGES = 40


@dataclass
class Located:
    ablations: list[Ablation]
    passages: dict[str, list[str]]  # ablation name -> candidate ids the LM cited
    rejected: list[tuple[dict[str, object], str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    responses: list[LMResponse] = field(default_factory=list)


def author_request(doc: Doc, cands: list[Passage], model: str) -> tuple[LMRequest, int]:
    """The request, and how many candidates it holds (as many as fit the model's window, in order)."""
    method = "\n\n".join(f"{p.heading}\n{p.text}" for p in doc.parts if p.role == "method")
    budget = max(PASSAGE_CHARS, (context_window(model) - MAX_TOKENS - 2000) * CHARS_PER_TOKEN)
    budget -= min(len(method), METHOD_CHARS) + len(doc.abstract)
    passages: list[dict[str, str]] = []
    for c in cands[:MAX_PASSAGES]:
        text = c.text if len(c.text) <= PASSAGE_CHARS else c.text[:PASSAGE_CHARS] + "\n[... cut ...]"
        budget -= len(text)
        if budget < 0 and passages:
            break
        passages.append({"id": c.id, "kind": c.kind, "heading": c.heading.replace('"', "'"), "text": text})
    user = prompts.render(
        "dataset_author_user",
        title=doc.title,
        abstract=doc.abstract,
        method=method[:METHOD_CHARS],
        method_truncated=len(method) > METHOD_CHARS,
        passages=passages,
    )
    req = LMRequest.chat(
        model,
        prompts.render("dataset_author_system"),
        user,
        temperature=0.0,
        max_tokens=MAX_TOKENS,
        tag="dataset-author",
    )
    return req, len(passages)


def _read(text: str) -> tuple[list[dict[str, object]], str | None]:
    reply = split_reply(text, "ablations")
    has_block = "<ablations" in text.lower()
    if not reply.items and not has_block:
        return [], "no <ablations> block and no JSON item"
    return reply.items, None


def verify(
    items: list[dict[str, object]], source: str
) -> tuple[list[Ablation], dict[str, list[str]], list[tuple[dict[str, object], str]]]:
    """Items whose evidence occurs verbatim (up to white space) in `source`; the others, with reasons."""
    kept: list[Ablation] = []
    cited: dict[str, list[str]] = {}
    rejected: list[tuple[dict[str, object], str]] = []
    for i, raw in enumerate(items):
        ab, _notes = to_ablation(raw, i)
        if ab is None:
            rejected.append((raw, "not a valid ablation (name, ablated_part or action missing)"))
            continue
        if not ab.evidence:
            rejected.append((raw, "no evidence quote"))
            continue
        bad = [e.quote for e in ab.evidence if not quote_in(e.quote, source)]
        if bad:
            rejected.append((raw, f"evidence not found in the source: {bad[0][:120]!r}"))
            continue
        if ab.name.lower() in {k.lower() for k in cited}:
            rejected.append((raw, f"duplicate name {ab.name!r}"))
            continue
        ab = ab.model_copy(update={"evidence": [Evidence(quote=e.quote, verified=True) for e in ab.evidence]})
        kept.append(ab)
        ids = raw.get("passages") or raw.get("passage") or []
        cited[ab.name] = [str(x) for x in (ids if isinstance(ids, list) else [ids])]
    return kept, cited, rejected


async def locate(lm: LMClient, doc: Doc, cands: list[Passage], model: str, source: str) -> Located:
    req, shown = author_request(doc, cands, model)
    items, _first, responses, problem = await ask_with_repair(
        lm,
        req,
        _read,
        lambda p: prompts.render("dataset_repair", problem=p, tag="ablations"),
        "ablation list",
    )
    kept, cited, rejected = verify(items, source)
    notes = [f"first reply unreadable ({problem}); repaired"] if problem else []
    if len(cands) > shown:
        notes.append(
            f"{len(cands)} candidate passages; the model read the first {shown} (its window, or at most {MAX_PASSAGES})"
        )
    return Located(kept, cited, rejected, notes, responses)
