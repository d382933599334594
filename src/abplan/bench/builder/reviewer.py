"""`abplan dataset reviewer`: a paper and its official reviews in, a ReviewerAblation task out.

The LM lists the ablations the reviewers ask for and the requests it excludes (already answered,
baselines, new datasets, clarifications), each with a quote; a request is kept only if its quote is in
the review it names (or another one), and every exclusion is recorded with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abplan import prompts
from abplan.bench.builder.doc import doc_from_paper, render_markdown
from abplan.bench.builder.evidence import quote_in, squash
from abplan.bench.builder.find import find_candidates
from abplan.bench.builder.provenance import file_sha256, provenance
from abplan.bench.builder.reviews import Reviews
from abplan.bench.builder.write import task_id_for
from abplan.errors import InputError
from abplan.lm.client import LMClient
from abplan.lm.context import estimate_tokens, fit_paper, window_budget
from abplan.lm.repair import ask_with_repair
from abplan.lm.types import LMRequest, usage_of
from abplan.parsing import split_reply, to_ablation
from abplan.schema import Ablation, Paper, Usage

REASONS = ("answered_in_paper", "baseline", "new_dataset", "clarification", "other")
MAX_TOKENS = 8192


@dataclass
class ReviewerTask:
    record: dict[str, Any]
    paper_md: str
    exclusions: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


def reviewer_request(paper: Paper, reviews: Reviews, model: str) -> tuple[LMRequest, list[str]]:
    review_tokens = sum(estimate_tokens(r) for r in reviews.texts)
    fitted, notes = fit_paper(paper, window_budget(model, MAX_TOKENS + review_tokens + 3000))
    doc = doc_from_paper(paper)
    reported = [f"{c.heading}: {squash(c.text)[:160]}" for c in find_candidates(doc)[:15]]
    user = prompts.render(
        "dataset_reviewer_user",
        title=paper.title,
        reported=reported,
        paper_source=fitted.text,
        reviews=reviews.texts,
    )
    req = LMRequest.chat(
        model,
        prompts.render("dataset_reviewer_system"),
        user,
        temperature=0.0,
        max_tokens=MAX_TOKENS,
        tag="dataset-reviewer",
    )
    return req, notes


def _read(text: str) -> tuple[tuple[list[dict[str, Any]], list[dict[str, Any]]], str | None]:
    kept = split_reply(text, "missing_ablations")
    excluded = split_reply(text, "excluded") if "<excluded" in text.lower() else None
    if not kept.items and "<missing_ablations" not in text.lower():
        return ([], []), "no <missing_ablations> block and no JSON item"
    return (kept.items, excluded.items if excluded else []), None


def _review_of(quote: str, texts: list[str], said: Any) -> int | None:
    """The 1-based number of the review holding the quote: the one named if it does, else the first."""
    n = said if isinstance(said, int) and not isinstance(said, bool) else None
    if n is not None and 1 <= n <= len(texts) and quote_in(quote, texts[n - 1]):
        return n
    return next((i for i, t in enumerate(texts, 1) if quote_in(quote, t)), None)


def verify_requests(
    items: list[dict[str, Any]], excluded: list[dict[str, Any]], texts: list[str]
) -> tuple[list[tuple[Ablation, int, str]], list[dict[str, Any]]]:
    """Requests whose quote is in a review, as (ablation, review number, quote); every exclusion, with its reason."""
    kept: list[tuple[Ablation, int, str]] = []
    out_ex: list[dict[str, Any]] = []
    for i, raw in enumerate(items):
        ab, _ = to_ablation(raw, i)
        quote = str(raw.get("evidence") or "").strip()
        n = _review_of(quote, texts, raw.get("review")) if quote else None
        if ab is None:
            out_ex.append(
                {"kind": "request", "item": raw, "reason": "invalid", "note": "not a valid ablation"}
            )
        elif n is None:
            note = "evidence not found in any review" if quote else "no evidence quote"
            out_ex.append({"kind": "request", "item": raw, "reason": "unverified", "note": note})
        elif any(squash(k.name).lower() == squash(ab.name).lower() for k, _, _ in kept):
            out_ex.append({"kind": "request", "item": raw, "reason": "duplicate", "note": ab.name})
        else:
            kept.append((ab, n, quote))
    for raw in excluded:
        quote = str(raw.get("request") or raw.get("evidence") or "").strip()
        reason = str(raw.get("reason") or "other")
        out_ex.append(
            {
                "kind": "request",
                "request": quote,
                "review": _review_of(quote, texts, raw.get("review")),
                "reason": reason if reason in REASONS else "other",
                "note": str(raw.get("note") or ""),
                "verified": bool(quote) and _review_of(quote, texts, raw.get("review")) is not None,
            }
        )
    return kept, out_ex


@dataclass
class ReviewerOptions:
    model: str
    task_id: str | None = None
    source_note: str | None = None
    licence: str | None = None


async def build_reviewer_task(
    paper: Paper, source: str, reviews: Reviews, reviews_path: Path, opts: ReviewerOptions, lm: LMClient
) -> ReviewerTask:
    req, notes = reviewer_request(paper, reviews, opts.model)
    (items, excluded), _first, responses, problem = await ask_with_repair(
        lm,
        req,
        _read,
        lambda p: prompts.render("dataset_repair", problem=p, tag="missing_ablations"),
        "request list",
    )
    if problem:
        notes.append(f"first reply unreadable ({problem}); repaired")
    kept, exclusions = verify_requests(items, excluded, reviews.texts)
    if not kept:
        raise InputError(
            f"{source}: no missing-ablation request with a verifiable quote in {len(reviews.texts)} reviews "
            f"({len(exclusions)} requests excluded)"
        )
    tid = opts.task_id or task_id_for(paper.title, paper.content_hash)
    missing = [{**a.core(), "evidence": q, "review": n} for a, n, q in kept]
    prov = provenance(
        source, paper, note=opts.source_note, licence=opts.licence, method="lm", model=opts.model
    )
    prov.update(
        reviews_source=str(reviews_path),
        reviews_format=reviews.format,
        reviews_sha256=file_sha256(reviews_path),
    )
    record: dict[str, Any] = {
        "id": tid,
        "task": "reviewer",
        "paper_title": paper.title,
        "paper_abstract": paper.abstract,
        "paper_path": f"papers/{tid}",
        "source": source,
        "review_text": reviews.texts,
        "missing_ablations": missing,
        "num_ablation_suggestions": len(missing),
        "provenance": prov,
    }
    return ReviewerTask(
        record, render_markdown(doc_from_paper(paper)), exclusions, notes, usage_of(responses)
    )
