"""Checking that quoted evidence really occurs in the paper (whitespace- and case-insensitive, fuzzy)."""

from __future__ import annotations

import re
from functools import lru_cache

from abplan.schema import Evidence, Paper
from abplan.text_match import content_tokens, split_sentences


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


@lru_cache(maxsize=32)
def _index(text: str) -> tuple[str, frozenset[tuple[str, ...]]]:
    words = _words(text)
    return " ".join(words), frozenset(tuple(words[i : i + 4]) for i in range(max(0, len(words) - 3)))


def quote_in_text(quote: str, text: str, min_share: float = 0.8) -> bool:
    """True when the quote occurs in the text up to case, spacing and punctuation, or when at least
    `min_share` of its word 4-grams do (hyphenation and extraction debris break a few)."""
    q = _words(quote)
    if len(q) < 3:
        return False
    flat, grams = _index(text)
    if " ".join(q) in flat:
        return True
    qg = [tuple(q[i : i + 4]) for i in range(len(q) - 3)]
    return bool(qg) and sum(g in grams for g in qg) / len(qg) >= min_share


def best_sentence(paper: Paper, phrase: str) -> Evidence | None:
    """The paper sentence that shares the most content words with `phrase` (a fallback quote)."""
    want = content_tokens(phrase)
    if not want:
        return None
    best: tuple[float, str, str] | None = None
    for s in paper.sections:
        if re.search(r"(?i)references|bibliography", s.heading):
            continue
        for sent in split_sentences(s.text):
            if len(sent) > 400:
                continue
            got = len(want & content_tokens(sent)) / len(want)
            if got > 0 and (best is None or got > best[0]):
                best = (got, sent, s.heading)
    if best is None or best[0] < 0.5:
        return None
    return Evidence(quote=best[1], section=best[2], verified=True)
