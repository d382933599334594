"""The leak check: does the cut paper still name results of a gold ablation?

Signals: an evidence quote still present; a reference to a cut table, figure or section; "w/o X" or
"without X" for a gold component X; a gold component named in a sentence that contrasts it (without,
instead of, removing, varying ...) and reports a result (a number, a metric, improves, drops ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from abplan.bench.builder.doc import Doc, refs_in, sentence_spans
from abplan.bench.builder.evidence import quote_in, squash
from abplan.schema import Ablation
from abplan.text_match import content_tokens

CONTRAST = re.compile(
    r"(?i)\b(without|w/o|remov\w*|replac\w*|ablat\w*|instead of|rather than|in place of|swap\w*|disabl\w*|"
    r"omit\w*|exclud\w*|absence|vary|varied|varying|fewer|compared to|compared with|versus|vs\.?)(?=\W|$)"
)
RESULT = re.compile(
    r"(?i)(\d+(?:\.\d+)?\s*(?:\\?%|points?|pp|bits?|dB)|\b(improv\w*|drop\w*|degrad\w*|"
    r"hurt\w*|worse|better|gains?|boost\w*|outperform\w*|underperform\w*|speeds? up|faster|slower|"
    r"accuracy|error|perplexity|likelihood|BLEU|F1|reward|score|performance)\b)"
)
FINDING = re.compile(r"(?i)\b(we (find|found|observe|observed|show|see)|results?|table|figure|fig\.)\b")
WITHOUT = re.compile(r"(?i)\b(?:w/o|without)\s+(?:the\s+|our\s+|any\s+)?((?:[\w\-]+\s*){1,4})")
_CUE_WORDS = frozenset(
    """no without w/o remove removing replace replacing instead effect impact vary varying number size single only using use sensitivity choice choices""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Leak:
    section: str
    excerpt: str
    item: str
    why: str

    def line(self) -> str:
        return f"section {self.section!r}: {self.excerpt!r} ({self.why}: {self.item})"


def keys_of(a: Ablation) -> list[frozenset[str]]:
    """Token sets that name a gold ablation: its name without cue words, and the head of its part."""
    name = " ".join(w for w in re.split(r"\s+", a.name) if w.lower() not in _CUE_WORDS)
    head = re.split(r"(?i)\s+(?:used|of|in|for|that|which|on|at|with|\()\s*", a.ablated_part, maxsplit=1)[0]
    keys = [frozenset(content_tokens(name)), frozenset(content_tokens(head))]
    return [k for k in keys if k]


def mentions(tokens: set[str], key: frozenset[str]) -> bool:
    need = len(key) if len(key) <= 2 else max(2, round(0.6 * len(key)))
    return len(key & tokens) >= need


def _named(sent: str, gold: list[Ablation]) -> Ablation | None:
    toks = content_tokens(sent)
    return next((a for a in gold if any(mentions(toks, k) for k in keys_of(a))), None)


def announces(sent: str, gold: list[Ablation]) -> bool:
    """An abstract, introduction or conclusion sentence that states an ablation result."""
    if re.search(r"(?i)\bablat\w*|\bw/o\b", sent):
        return True
    if CONTRAST.search(sent) and (RESULT.search(sent) or FINDING.search(sent)):
        return _named(sent, gold) is not None
    return False


def sentence_leak(sent: str, gold: list[Ablation], cut_labels: set[str]) -> tuple[str, str] | None:
    """(why, what) when a sentence in the body still gives away a gold ablation's result."""
    gone = refs_in(sent) & cut_labels
    if gone:
        return "refers to a cut table, figure or section", ", ".join(sorted(gone))
    for m in WITHOUT.finditer(sent):
        hit = _named(m.group(1), gold)
        if hit is not None:
            return "w/o a gold component", hit.name
    if CONTRAST.search(sent) and RESULT.search(sent) and (re.search(r"\d", sent) or FINDING.search(sent)):
        hit = _named(sent, gold)
        if hit is not None:
            return "a gold component next to result words", hit.name
    return None


def text_leaks(text: str, gold: list[Ablation]) -> bool:
    """Does this passage hold a gold quote or a sentence that gives a gold result away?"""
    if any(quote_in(e.quote, text) for a in gold for e in a.evidence):
        return True
    return any(sentence_leak(text[a:b], gold, set()) for a, b in sentence_spans(text))


def find_leaks(doc: Doc, gold: list[Ablation], cut_labels: set[str]) -> list[Leak]:
    leaks: list[Leak] = []
    quotes = [(e.quote, a.name) for a in gold for e in a.evidence]
    for p in doc.parts:
        if p.role == "references":
            continue
        for b in p.blocks:
            for q, name in quotes:
                if quote_in(q, b.text):
                    leaks.append(Leak(p.heading, squash(q)[:100], name, "evidence quote still in the text"))
            for a, e in sentence_spans(b.text):
                sent = b.text[a:e]
                got = sentence_leak(sent, gold, cut_labels)
                if got:
                    leaks.append(Leak(p.heading, squash(sent)[:100], got[1], got[0]))
    return leaks
