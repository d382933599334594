"""Cut the gold ablations out of a paper: their sections, tables and figures, the paragraphs their
evidence comes from, and the sentences of the abstract, introduction and conclusion that announce them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from abplan.bench.builder.doc import Block, Doc, Part, refs_in, sentence_spans
from abplan.bench.builder.evidence import quote_in, squash
from abplan.bench.builder.find import Passage
from abplan.bench.builder.leak import ROW_WHY, Leak, announces, find_leaks, sentence_leak
from abplan.bench.builder.rows import caption_span, table_rows
from abplan.schema import Ablation, Evidence

ANNOUNCING = ("abstract", "intro", "conclusion")
BODY = ("experiments", "appendix")  # outside the method: a sentence saying "ablation" or "w/o" goes
ABLATION_WORD = re.compile(r"(?i)\bablat\w*|\bw/o\b")
LABEL_CMD = re.compile(
    r"\\(?:label|[cC]?ref|autoref|nameref|hyperref|eqref)\*?(?:\[[^\]]*\])?\{[^{}]*\}"
)  # keys say nothing
LEAK_ROUNDS = 4  # cut what the leak check flags, re-check; a cut float can expose sentences citing it


@dataclass
class CutReport:
    sections: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)  # "table in 4 Results", "paragraph in 4 Results"
    sentences: list[str] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)  # labels of everything cut (for the leak check)
    rounds: int = 0  # leak-check rounds that cut something

    def summary(self) -> str:
        def n(k: int, word: str) -> str:
            return f"{k} {word}{'' if k == 1 else 's'}"

        return (
            f"cut {n(len(self.sections), 'section')}, {n(len(self.blocks), 'other block')} "
            f"(table, figure, paragraph), {n(len(self.sentences), 'sentence')}"
        )


def _find_quote(doc: Doc, quote: str) -> tuple[int, int] | None:
    for i, p in enumerate(doc.parts):
        for j, b in enumerate(p.blocks):
            if quote_in(quote, b.text):
                return i, j
    first = squash(quote)[:80]
    for i, p in enumerate(doc.parts):
        for j, b in enumerate(p.blocks):
            if first and first in squash(b.text):
                return i, j
    return None


def _subtree(doc: Doc, i: int) -> range:
    j = i + 1
    while j < len(doc.parts) and doc.parts[j].level > doc.parts[i].level:
        j += 1
    return range(i, j)


def place_evidence(doc: Doc, gold: list[Ablation]) -> list[Ablation]:
    """Each quote with the heading of the part it is in."""
    out = []
    for a in gold:
        ev = []
        for e in a.evidence:
            at = _find_quote(doc, e.quote)
            ev.append(
                Evidence(quote=e.quote, section=doc.parts[at[0]].heading if at else e.section, verified=True)
            )
        out.append(a.model_copy(update={"evidence": ev}))
    return out


def _orphan_floats(doc: Doc, whole: set[int], blocks: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Tables and figures that only cut text refers to (LaTeX floats often sit outside their section)."""
    cut_refs: set[str] = set()
    kept_refs: set[str] = set()
    for i, p in enumerate(doc.parts):
        for j, b in enumerate(p.blocks):
            refs = refs_in(b.text) - set(b.labels)
            (cut_refs if i in whole or (i, j) in blocks else kept_refs).update(refs)
    return {
        (i, j)
        for i, p in enumerate(doc.parts)
        if i not in whole
        for j, b in enumerate(p.blocks)
        if b.kind != "paragraph" and set(b.labels) & cut_refs and not set(b.labels) & kept_refs
    }


_ENV = re.compile(r"\\(begin|end)\{([^{}]*)\}")


def _safe_span(text: str, a: int, b: int) -> tuple[int, int]:
    """Shrink or grow a sentence cut so the LaTeX around it stays balanced.

    A caption's last sentence runs on to the float's `}` and `\\end{...}`: the cut stops before a
    brace or environment it did not open. A brace opened in the cut and closed after it
    (`\\textcolor{red}{First. Second.}`) stays, with the cut starting inside it; an environment begun
    in the cut (a list the sentence introduces) is cut up to its `\\end`.
    """
    opened: list[int] = []  # brace positions still open
    envs: list[str] = []  # environments begun in the cut
    k = a
    while k < b:
        env = _ENV.match(text, k)
        if env and env.group(1) == "begin":
            envs.append(env.group(2))
            k = env.end()
            continue
        if env:
            if not envs:
                return (a, k) if k > a else (env.end(), max(env.end(), b))
            envs.pop()
            k = env.end()
            continue
        if text[k] in "{}" and (k == 0 or text[k - 1] != "\\"):
            if text[k] == "{":
                opened.append(k)
            elif opened:
                opened.pop()
            elif _closes_label(text, a, k):  # "\\textbf{2. Label:} The sentence.": cut after it
                return _safe_span(text, k + 1, b)
            else:
                return a, k
        k += 1
    if envs:
        stop = text.find(f"\\end{{{envs[0]}}}", b)
        return (a, stop + len(envs[0]) + 6) if stop != -1 else (a, b)
    return (opened[-1] + 1, b) if opened else (a, b)


def _closes_label(text: str, a: int, k: int) -> bool:
    """Does the `}` at k close a short bold/italic run label that the sentence at a starts inside?"""
    depth, o = 0, k - 1
    while o >= 0:
        if text[o] == "}" and text[o - 1 : o] != "\\":
            depth += 1
        elif text[o] == "{" and text[o - 1 : o] != "\\":
            if depth == 0:
                break
            depth -= 1
        o -= 1
    lead = re.search(r"\\(?:textbf|textit|emph|underline|textsc)\s*$", text[max(0, o - 12) : max(0, o)])
    return o >= 0 and lead is not None and k - o <= 60


def _drop_sentences(text: str, bad: list[tuple[int, int]], squeeze: bool = True) -> tuple[str, list[str]]:
    """The text without the spans (made LaTeX-safe), and what was really removed, in text order."""
    if not bad:
        return text, []
    gone: list[str] = []
    for a, b in sorted(bad, reverse=True):
        a, b = _safe_span(text, a, b)
        if text[a:b].strip():
            gone.insert(0, squash(text[a:b]))
        text = text[:a] + text[b:]
    return (re.sub(r"[ \t]{2,}", " ", text) if squeeze else text).strip(), gone


def cut_paper(
    doc: Doc, gold: list[Ablation], cands: list[Passage], chosen: set[str]
) -> tuple[Doc, CutReport]:
    """Remove the chosen candidates, every block holding gold evidence, and announcing sentences."""
    rep = CutReport()
    whole: set[int] = set()
    blocks: set[tuple[int, int]] = set()
    for c in cands:
        if c.id not in chosen:
            continue
        if c.block is None:
            whole.update(range(c.part, c.stop))
        else:
            blocks.add((c.part, c.block))
    for a in gold:
        for e in a.evidence:
            at = _find_quote(doc, e.quote)
            if at is None:
                continue
            if doc.parts[at[0]].role not in ANNOUNCING:  # there only the sentences go (below)
                blocks.add(at)
    blocks |= _orphan_floats(doc, whole, blocks)
    for i in sorted(whole):
        if all(k in whole for k in _subtree(doc, i)):
            rep.sections.append(doc.parts[i].heading)
        num = re.match(r"\s*(\d+(?:\.\d+)*)\.?\s", doc.parts[i].heading)
        if num:
            rep.labels.add(f"section {num.group(1)}")
    parts: list[Part] = []
    for i, p in enumerate(doc.parts):
        if i in whole:
            rep.labels.update(lb for b in p.blocks for lb in b.labels)
            continue
        kept: list[Block] = []
        for j, b in enumerate(p.blocks):
            if (i, j) in blocks:
                rep.blocks.append(f"{b.kind} in {p.heading}")
                rep.labels.update(b.labels)
            else:
                kept.append(b)
        parts.append(replace(p, blocks=tuple(kept)))
    parts = [_cut_sentences(p, gold, rep, doc.title) for p in parts]
    return cut_leaks(doc.with_parts(_drop_empty(parts)), gold, rep, LEAK_ROUNDS), rep


def cut_leaks(doc: Doc, gold: list[Ablation], rep: CutReport, rounds: int = LEAK_ROUNDS) -> Doc:
    """Cut what the leak check flags, then check again, at most `rounds` times.

    Outside the method a flagged table or figure goes whole (its labels join the cut ones, so the next
    round catches the sentences that cite it) and a flagged sentence of a paragraph goes; in the method
    only the flagged sentence goes (the check there already asks for a reported outcome). What survives
    the last round is left for the caller's leak check to report.
    """
    for _ in range(rounds):
        leaks = find_leaks(doc, gold, rep.labels)
        if not leaks:
            break
        rep.rounds += 1
        doc = _apply_leak_cuts(doc, leaks, rep)
    return doc


def _apply_leak_cuts(doc: Doc, leaks: list[Leak], rep: CutReport) -> Doc:
    spans: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for lk in leaks:
        spans.setdefault(lk.at[:2], []).append(lk.at[2:])
    whole = {at for at, sp in spans.items() if _goes_whole(doc, at, sp, leaks)}
    rows = {lk.at for lk in leaks if lk.why == ROW_WHY}
    parts: list[Part] = []
    for i, p in enumerate(doc.parts):
        kept: list[Block] = []
        for j, b in enumerate(p.blocks):
            if (i, j) in whole:
                rep.blocks.append(f"{b.kind} in {p.heading} (leak check)")
                rep.labels.update(b.labels)
                continue
            mine = sorted(set(spans.get((i, j), [])))
            squeeze = any((i, j, *sp) not in rows for sp in mine)  # table alignment stays when only rows go
            text, gone = _drop_sentences(b.text, mine, squeeze)
            for g in gone:
                if b.kind != "paragraph" and "&" in g:
                    rep.blocks.append(f"{b.kind} row in {p.heading}: {g[:80]} (leak check)")
                else:
                    rep.sentences.append(f"{p.heading}: {g[:80]} (leak check)")
            if text:
                kept.append(replace(b, text=text))
        parts.append(replace(p, blocks=tuple(kept)))
    return doc.with_parts(_drop_empty(parts))


def _goes_whole(doc: Doc, at: tuple[int, int], spans: list[tuple[int, int]], leaks: list[Leak]) -> bool:
    """A table or figure that reports a gold result goes whole (anywhere: its numbers are the result);
    one that only cites a cut label loses the citing sentence. Outside the method, a paragraph goes
    whole when the flagged sentences are most of it (what is left would be a dangling "This holds ...")."""
    part, b = doc.parts[at[0]], doc.parts[at[0]].blocks[at[1]]
    mine = [lk for lk in leaks if lk.at[:2] == at]
    if any(lk.at[2:] == (0, len(b.text)) for lk in mine):
        return True
    if b.kind != "paragraph":  # a named row or a caption sentence goes alone; other results: the float
        named, data = sum(lk.why == ROW_WHY for lk in mine), len(table_rows(b.text)) - 1
        if named and (2 * named > data or data - named < 2):  # mostly variants: an ablation table
            return True
        cap = caption_span(b.text)
        return any(
            not lk.why.startswith("refers")
            and lk.why != ROW_WHY
            and not (cap and cap[0] <= lk.at[2] < cap[1])  # starts in the caption
            for lk in mine
        )
    flagged = sum(e - a for a, e in set(spans))
    return part.role != "method" and 2 * flagged >= len(b.text)


def _cut_sentences(p: Part, gold: list[Ablation], rep: CutReport, title: str) -> Part:
    quotes = [e.quote for g in gold for e in g.evidence]
    kept: list[Block] = []
    for b in p.blocks:
        if b.kind != "paragraph":
            kept.append(b)
            continue
        bad = []
        for a, e in sentence_spans(b.text):
            sent = b.text[a:e]
            why = ""
            long = len(squash(sent)) >= 40  # "1." is inside many quotes and says nothing
            quoted = any(quote_in(q, sent) or (long and quote_in(sent, q)) for q in quotes)
            if p.role in ANNOUNCING and (
                quoted or announces(sent, gold, title) or sentence_leak(sent, gold, set(), title=title)
            ):
                why = "announces an ablation result"
            elif p.role in BODY and ABLATION_WORD.search(LABEL_CMD.sub("", sent)):
                why = "announces the ablations"
            elif refs_in(sent) & rep.labels:
                why = "refers to a cut table, figure or section"
            if why:
                bad.append((a, e))
        text, gone = _drop_sentences(b.text, bad)
        rep.sentences += [f"{p.heading}: {g[:80]}" for g in gone]
        if text:
            kept.append(replace(b, text=text))
    return replace(p, blocks=tuple(kept))


def _drop_empty(parts: list[Part]) -> list[Part]:
    """A part left with no text and no kept subsection goes too (its heading alone would hint at the cut)."""
    out: list[Part] = []
    for k, p in enumerate(parts):
        has_child = k + 1 < len(parts) and parts[k + 1].level > p.level
        if p.blocks or has_child or p.role == "abstract":
            out.append(p)
    return out
