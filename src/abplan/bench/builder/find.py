"""Rules that find candidate ablation passages, and the rules-only draft of a gold list.

Candidates are whole parts (an "Ablation study" section and its subsections), tables and figures whose
caption names an ablation, and paragraphs of the experiments or appendix that report one. The LM reads
them and writes the gold list; without a model, `draft_items` reads simple patterns ("w/o X").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from abplan.bench.builder.doc import Doc, sentence_spans
from abplan.planners.offline_patterns import METRIC_RES
from abplan.schema import Ablation, Evidence

HEADING_CUE = re.compile(
    r"(?i)\b(ablat\w*|w/o|without|effect of|effects of|impact of|influence of|importance of|role of|"
    r"contribution of|sensitivity|examining|varying|with different|design choices|component analysis|hyper-?parameters?)\b"
)
CAPTION_CUE = re.compile(
    r"(?i)(\bablat\w*|\bw/o\b|\bwithout\b|\beffect of\b|\bimpact of\b|\bremoving\b|\bwe vary\b|\bvarying\b|"
    r"\bdifferent (numbers?|values|choices|sizes) of\b|\bvariants?\b|\bsensitivity\b)"
)
SENTENCE_CUE = re.compile(
    r"(?i)(\bablat\w*|\bw/o\b|\bwe (vary|varied|remove|removed|replace|replaced|disable|drop)\b|"
    r"\beffect of (the|varying|different|removing|using)\b|\bimpact of (the|varying|removing|using)\b|"
    r"\bwithout\b|\bremoving (the|our)\b|\breplacing (the|our)\b)"
)
CANDIDATE_ROLES = ("experiments", "appendix")
PASSAGE_CHARS = 8000


@dataclass(frozen=True)
class Passage:
    """A passage the rules flag: parts [start, stop) whole, or one block of one part."""

    id: str
    kind: str  # "section", "table", "figure" or "paragraph"
    part: int
    stop: int  # for sections: the first part after its subsections
    block: int | None
    heading: str
    text: str
    cue: str


def _subtree_end(doc: Doc, i: int) -> int:
    j = i + 1
    while j < len(doc.parts) and doc.parts[j].level > doc.parts[i].level:
        j += 1
    return j


def find_candidates(doc: Doc) -> list[Passage]:
    out: list[Passage] = []
    skip_until = -1
    for i, part in enumerate(doc.parts):
        if i < skip_until or part.role in ("references", "abstract", "front"):
            continue
        m = HEADING_CUE.search(part.heading)
        if m:
            stop = _subtree_end(doc, i)
            text = "\n\n".join(f"{p.heading}\n{p.text}" for p in doc.parts[i:stop])
            out.append(Passage("", "section", i, stop, None, part.heading, text, m.group(0)))
            skip_until = stop
            continue
        for j, b in enumerate(part.blocks):
            cue = CAPTION_CUE.search(b.caption or b.text[:400]) if b.kind != "paragraph" else None
            if cue is None and b.kind == "paragraph" and part.role in CANDIDATE_ROLES:
                cue = SENTENCE_CUE.search(b.text)
            if cue:
                out.append(Passage("", b.kind, i, i + 1, j, part.heading, b.text, cue.group(0)))
    return [
        Passage(f"P{n}", c.kind, c.part, c.stop, c.block, c.heading, c.text, c.cue)
        for n, c in enumerate(out, 1)
    ]


# Rules-only draft: a few unambiguous patterns, each item quoting the sentence it comes from.
_NP = r"(?P<np>[A-Za-z][\w\-+]*(?:\s+(?!(?:and|or|but|which|that|is|are|was|were|to|in|on|for|by|as|we|leads?|results?|drops?|improves?|hurts?|yields?|gives?|increases?|decreases?|reduces?|causes?|makes?|can|could|may|will|would|has|have|had|does|do)\b)[A-Za-z][\w\-+]*){0,3})"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "REMOVE",
        re.compile(rf"(?i)\b(?:w/o|without|removing|we remove|we removed)\s+(?:the\s+|our\s+|any\s+)?{_NP}"),
    ),
    (
        "REPLACE",
        re.compile(
            rf"(?i)\breplac(?:e|ed|ing)\s+(?:the\s+|our\s+)?{_NP}\s+(?:with|by)\s+(?:a\s+|an\s+|the\s+)?(?P<alt>[\w\-+]+(?:\s+[\w\-+]+){{0,3}})"
        ),
    ),
    ("REPLACE", re.compile(rf"(?i)\b(?:we vary|we varied|varying|effect of|impact of)\s+(?:the\s+)?{_NP}")),
]
_NP_TAIL = re.compile(r"(?i)\s+(the|a|an|of|with|from|and|or)$")


_NOT_PARTS = re.compile(
    r"(?i)^(a|an|need|much|significant|further|any|loss of|changing|modifying|affecting|requiring|degrading|"
    r"sacrificing|compromising|hurting|losing|increasing|extensive|explicit|prior|access)\b"
)
# "without X" names an ablation when it reports a result, or follows the model: "PixelCNN++ without X".
_VARIANT_BEFORE = re.compile(
    r"(?i)\b(model|method|variant|version|network|agent|ours|baseline|architecture|\+\+)\s*$"
)
_RESULT_WORD = re.compile(
    r"(?i)\d\s*%|\b(accuracy|error|drops?|improv\w*|degrad\w*|decreas\w*|increas\w*|hurts?|worse|better|lower|higher|"
    r"score|perplexity|likelihood|reward|performance|results?)\b"
)


def _clean(np: str) -> str:
    np = re.sub(r"\s+", " ", re.sub(r"[\\{}$]", "", np)).strip()
    while _NP_TAIL.search(np):
        np = _NP_TAIL.sub("", np)
    return np


def metrics_in(text: str) -> list[str]:
    return [name for name, rx in METRIC_RES if rx.search(text)][:3]


def draft_items(doc: Doc, cands: list[Passage]) -> list[Ablation]:
    """Ablations read from the candidates by patterns alone: a draft to review, never a finished gold list."""
    out: list[Ablation] = []
    seen: set[str] = set()
    fallback = metrics_in("\n".join(p.text for p in doc.parts if p.role == "experiments")) or ["main metric"]
    for c in cands:
        for heading, text in candidate_blocks(doc, c):
            for a, b in sentence_spans(text):
                _match_sentence(text[a:b].strip(), heading, c, fallback, seen, out)
    return out


def candidate_blocks(doc: Doc, c: Passage) -> list[tuple[str, str]]:
    """(heading, text) of each block a candidate covers."""
    if c.block is not None:
        return [(c.heading, doc.parts[c.part].blocks[c.block].text)]
    return [(p.heading, b.text) for p in doc.parts[c.part : c.stop] for b in p.blocks]


def _match_sentence(
    sent: str, heading: str, c: Passage, fallback: list[str], seen: set[str], out: list[Ablation]
) -> None:
    for action, rx in _PATTERNS:
        m = rx.search(sent)
        if m is None:
            continue
        part = _clean(m.group("np"))
        # "without growing the field" is a verb phrase, "without downsampling blocks" a component.
        gerund = re.match(r"(?i)\w+ing\s+(the|a|an|any|its|our|their|more|it|them)\b", part) is not None
        if len(part) < 3 or gerund or _NOT_PARTS.match(part) or part.lower() in seen or len(sent) > 600:
            continue
        plain_without = m.group(0).lower().startswith("without")
        if plain_without and not (_RESULT_WORD.search(sent) or _VARIANT_BEFORE.search(sent[: m.start()])):
            continue
        seen.add(part.lower())
        alt = _clean(m.group("alt")) if "alt" in rx.groupindex else ""
        out.append(
            Ablation(
                name=f"{'Without' if action == 'REMOVE' else 'Vary'} {part}",
                ablated_part=part,
                action=action,  # type: ignore[arg-type]
                replacement=[alt] if alt else None,
                metrics=metrics_in(c.text) or fallback,
                evidence=[Evidence(quote=sent, section=heading, verified=True)],
            )
        )
        return
