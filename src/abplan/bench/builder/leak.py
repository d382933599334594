"""The leak check: does the cut paper still name results of a gold ablation?

Signals: an evidence quote still present; a reference to a cut table, figure or section; "w/o X" or
"without X" for a gold component X; a gold component named next to a word that contrasts it (without,
instead of, removing, varying ...) in a sentence that reports a result (a number, a metric, improves,
drops ...). In the method, where sentences describe the components, only real result evidence counts:
a number with a unit or percent sign, or an outcome word (improves, drops, outperforms ...), not a
metric noun ("reward", "score") or a bare number from an equation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from abplan.bench.builder.doc import Doc, refs_in, sentence_spans
from abplan.bench.builder.evidence import quote_in, squash
from abplan.bench.builder.rows import item_head, keys_of, mentions, names_variant, table_rows, variant_named
from abplan.schema import Ablation
from abplan.text_match import content_tokens

CONTRAST = re.compile(
    r"(?i)\b(without|w/o|remov\w*|replac\w*|ablat\w*|instead of|rather than|in place of|swap\w*|disabl\w*|"
    r"omit\w*|exclud\w*|absence|vary|varied|varying|fewer|compared to|compared with|versus|vs\.?|alone)(?=\W|$)"
)
_OUTCOME = (
    r"\d+(?:\.\d+)?\s*(?:\\?%|points?|pp|bits?|dB)|\b(?:improv\w*|drop\w*|degrad\w*|"
    r"hurt\w*|worse|better|gains?|boost\w*|outperform\w*|underperform\w*|speeds? up|faster|slower)\b"
)
RESULT = re.compile(
    rf"(?i)({_OUTCOME}|\b(?:accuracy|error|perplexity|likelihood|BLEU|F1|reward|score|performance)\b)"
)
OUTCOME = re.compile(f"(?i)({_OUTCOME})")  # result evidence that holds in the method too
NUMBER = re.compile(r"(?<![\w\\])\d+(?:\.\d+)?(?![\w.]*\w)")  # 82.3, not the 16 of "FP16"
FINDING = re.compile(
    r"(?i)\b(we (find|found|observe|observed|show|see)|results?|table|figure|fig\.|confirm\w*|demonstrat\w*)\b"
)
WITHOUT = re.compile(r"(?i)\b(?:w/o|without)\s+(?:the\s+|our\s+|any\s+)?((?:[\w\-]+\s*){1,4})")
NEAR = 120  # characters either side of a contrast word where the gold component must be named


@dataclass(frozen=True)
class Leak:
    section: str
    excerpt: str
    item: str
    why: str
    at: tuple[int, int, int, int] = (-1, -1, 0, 0)  # part, block, sentence start and end in the block

    def line(self) -> str:
        return f"section {self.section!r}: {self.excerpt!r} ({self.why}: {self.item})"


def _named(sent: str, gold: list[Ablation], title: str = "") -> Ablation | None:
    toks = content_tokens(sent)
    return next((a for a in gold if any(mentions(toks, k) for k in keys_of(a, title))), None)


def leak_spans(text: str) -> list[tuple[int, int]]:
    """Sentences, with each LaTeX list item on its own (items often end without a full stop)."""
    out = []
    for a, b in sentence_spans(text):
        cuts = [a] + [a + m.start() for m in re.finditer(r"\\item\b", text[a:b]) if m.start() > 0] + [b]
        out += [(x, y) for x, y in pairwise(cuts) if text[x:y].strip()]
    return out


def announces(sent: str, gold: list[Ablation], title: str = "") -> bool:
    """An abstract, introduction or conclusion sentence that states an ablation result."""
    if re.search(r"(?i)\bablat\w*|\bw/o\b", sent):
        return True
    if CONTRAST.search(sent) and (RESULT.search(sent) or FINDING.search(sent)):
        return _named(sent, gold, title) is not None
    return COMPARES.search(sent) is not None and _replacement_named(sent, gold, title)


COMPARES = re.compile(
    r"(?i)\b(outperform\w*|underperform\w*|surpass\w*|worse than|better than|gains?|falls? short)\b"
)


def _replacement_named(sent: str, gold: list[Ablation], title: str) -> bool:
    """The gold variant's alternative named ("the nearest station approach"): with an outcome word the
    sentence states the comparison in words, contrast word or not."""
    toks = content_tokens(sent)
    common = content_tokens(title)
    for a in gold:
        for r in a.replacement or []:
            key = frozenset(content_tokens(r.split(" (")[0])) - common
            if len(key) >= 2 and mentions(toks, key):
                return True
    return False


def _named_near_contrast(sent: str, gold: list[Ablation], title: str) -> Ablation | None:
    """A gold component named close to a contrast word (so the contrast is about it, not another thing)."""
    for m in CONTRAST.finditer(sent):
        hit = _named(sent[max(0, m.start() - NEAR) : m.end() + NEAR], gold, title)
        if hit is not None:
            return hit
    return None


def sentence_leak(
    sent: str, gold: list[Ablation], cut_labels: set[str], method: bool = False, title: str = ""
) -> tuple[str, str] | None:
    """(why, what) when a sentence still gives away a gold ablation's result; `method`: the sentence is
    in the method, where naming a component is normal and only a reported outcome counts."""
    gone = refs_in(sent) & cut_labels
    if gone:
        return "refers to a cut table, figure or section", ", ".join(sorted(gone))
    outcome = OUTCOME.search(sent) is not None
    if method and (not outcome or sent.rstrip().endswith("?")):  # a question reports nothing
        return None
    for m in WITHOUT.finditer(sent):
        hit = _named(m.group(1), gold, title)
        if hit is not None:
            return "w/o a gold component", hit.name
    result = outcome if method else RESULT.search(sent) is not None
    number = NUMBER.search(sent) if method else re.search(r"\d", sent)
    if CONTRAST.search(sent) and result and (number or FINDING.search(sent)):
        hit = _named_near_contrast(sent, gold, title)
        if hit is not None:
            return "a gold component next to result words", hit.name
    return None


def text_leaks(text: str, gold: list[Ablation], title: str = "") -> bool:
    """Does this passage hold a gold quote or a sentence that gives a gold result away?"""
    if any(quote_in(e.quote, text) for a in gold for e in a.evidence):
        return True
    return any(sentence_leak(text[a:b], gold, set(), title=title) for a, b in leak_spans(text))


def find_leaks(doc: Doc, gold: list[Ablation], cut_labels: set[str]) -> list[Leak]:
    leaks: list[Leak] = []
    quotes = [(e.quote, a.name) for a in gold for e in a.evidence]
    for i, p in enumerate(doc.parts):
        if p.role == "references":
            continue
        for j, b in enumerate(p.blocks):
            for q, name in quotes:
                if quote_in(q, b.text):
                    at = (i, j, 0, len(b.text))
                    leaks.append(
                        Leak(p.heading, squash(q)[:100], name, "evidence quote still in the text", at)
                    )
            rows = _row_leaks(p.heading, b.text, gold, doc.title, (i, j))
            leaks += rows
            for a, e in leak_spans(b.text):
                if any(lk.at[2] <= a < lk.at[3] or a <= lk.at[2] < e for lk in rows):
                    continue  # the row goes, not the table
                sent = b.text[a:e]
                got = sentence_leak(sent, gold, cut_labels, method=p.role == "method", title=doc.title)
                if got is None and p.role != "method":
                    got = item_leak(sent, gold, doc.title)
                if got:
                    leaks.append(Leak(p.heading, squash(sent)[:100], got[1], got[0], (i, j, a, e)))
    return leaks


ROW_WHY = "a table row named after a gold variant"


def _row_leaks(heading: str, text: str, gold: list[Ablation], title: str, at: tuple[int, int]) -> list[Leak]:
    out = []
    for a, e, label in table_rows(text):
        hit = variant_named(label, gold, title)
        if hit is not None:
            out.append(Leak(heading, squash(text[a:e])[:100], hit.name, ROW_WHY, (*at, a, e)))
    return out


def item_leak(sent: str, gold: list[Ablation], title: str = "") -> tuple[str, str] | None:
    """A list item headed by a gold variant's name that gives a number ("\\item \\textbf{ASR-BN}: 80.81")."""
    if not re.search(r"\d", sent):
        return None
    if not sent.lstrip().startswith("\\item"):
        named = names_variant(LABEL_KEYS.sub("", sent), gold)
        return ("a gold variant's short name with a number", named.name) if named else None
    hit = variant_named(item_head(sent), gold, title)
    return ("a list item named after a gold variant", hit.name) if hit else None


LABEL_KEYS = re.compile(r"\\(?:label|[cC]?ref|eqref|autoref)\*?\{[^{}]*\}")
