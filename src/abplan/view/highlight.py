"""Evidence quotes located in a paper's text, as segments a template can mark (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from abplan.schema import Plan

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Quote:
    anchor: str  # the id of its <mark>, e.g. "q1-0": plan item 1, first quote
    item: int  # 1-based plan item number
    ablation: str
    text: str


@dataclass(frozen=True)
class Segment:
    text: str
    quote: Quote | None = None


def quotes_of(plan: Plan) -> list[Quote]:
    """Every evidence quote of the plan, with the anchor its ablation links to."""
    return [
        Quote(f"q{i}-{j}", i, a.name, ev.quote)
        for i, a in enumerate(plan.ablations, 1)
        for j, ev in enumerate(a.evidence)
        if ev.quote.strip()
    ]


def _pattern(quote: str) -> re.Pattern[str] | None:
    """The quote's words in order, with any punctuation or spacing between them (PDF text and LM
    quotes rarely agree on either)."""
    words = _WORD.findall(quote)
    if not words:
        return None
    return re.compile(r"\W+".join(re.escape(w) for w in words), re.IGNORECASE)


def locate(text: str, quotes: list[Quote]) -> tuple[list[Segment], list[Quote]]:
    """`text` cut into plain and quoted segments, and the quotes not found in it (or overlapping one
    already placed: a span is marked once)."""
    spans: list[tuple[int, int, Quote]] = []
    missing: list[Quote] = []
    for q in quotes:
        pat = _pattern(q.text)
        m = pat.search(text) if pat else None
        if m is None or any(m.start() < e and s < m.end() for s, e, _ in spans):
            missing.append(q)
            continue
        spans.append((m.start(), m.end(), q))
    spans.sort(key=lambda s: s[0])
    segments: list[Segment] = []
    pos = 0
    for start, end, q in spans:
        if start > pos:
            segments.append(Segment(text[pos:start]))
        segments.append(Segment(text[start:end], q))
        pos = end
    if pos < len(text):
        segments.append(Segment(text[pos:]))
    return segments, missing
