"""Components of the method: from subsection headings, "we propose" sentences, recurring noun phrases,
acronyms and named alternatives; merged, and alternatives attached to the component they replace."""

from __future__ import annotations

from abplan.planners.offline_extract.sections import section_depth
from abplan.planners.offline_extract.text import MethodPart, clean_heading, clean_np, usable
from abplan.planners.offline_patterns import (
    ACRONYM,
    ALTERNATIVE,
    FUNCTION_WORDS,
    HEAD_NOUN,
    LOSS,
    METHOD_HEAD,
    PROPOSE,
    STANDARD_CHOICE,
    VERBISH,
    WORD,
)
from abplan.schema import Paper, Section
from abplan.text_match import STOP, content_tokens, overlap, split_sentences


def _phrases(sent: str) -> list[str]:
    """Noun phrases of 1-4 content words that end in a component head noun."""
    words = WORD.findall(sent)
    out: list[str] = []
    for i, w in enumerate(words):
        if not HEAD_NOUN.match(w):
            continue
        j = i
        while j > 0 and i - j < 3:
            prev = words[j - 1]
            low = prev.lower()
            if (
                low in FUNCTION_WORDS
                or low in STOP
                or VERBISH.match(prev)
                or prev[0].isdigit()
                or low.endswith("ly")
            ):
                break
            j -= 1
        if j < i:
            out.append(" ".join(words[j : i + 1]))
    return out


def find_components(paper: Paper, msecs: list[Section]) -> list[MethodPart]:
    cands: list[MethodPart] = []
    depths = [section_depth(s) for s in msecs]
    min_depth = min(depths) if depths else 1
    full = paper.text.lower()
    for s, d in zip(msecs, depths, strict=True):
        h, alts = clean_heading(s.heading)
        if d > min_depth and usable(h) and not METHOD_HEAD.fullmatch(h.lower()):
            want = content_tokens(h)
            sents = [x for x in split_sentences(s.text) if len(x) <= 400]
            scored = sorted(sents, key=lambda x: -len(want & content_tokens(x)))
            first = scored[:1] if scored and want & content_tokens(scored[0]) else sents[:1]
            cands.append(
                MethodPart(
                    text=h,
                    kind="component",
                    quote=first[0] if first else s.heading,
                    section=s.heading,
                    alternatives=alts,
                    sources={"heading"},
                )
            )
        for sent in split_sentences(s.text):
            for m in PROPOSE.finditer(sent):
                np = clean_np(m.group("np"))
                np = (
                    " ".join(w for w in np.split() if w.lower() not in FUNCTION_WORDS)
                    if len(np.split()) > 1
                    else np
                )
                if usable(np) and len(np.split()) <= 5:
                    cands.append(
                        MethodPart(
                            text=np, kind="component", quote=sent, section=s.heading, sources={"propose"}
                        )
                    )
            for np in _phrases(sent):
                if usable(np) and full.count(np.lower()) >= 2:
                    cands.append(
                        MethodPart(
                            text=np,
                            kind="component",
                            quote=sent,
                            section=s.heading,
                            sources={"loss" if LOSS.search(np) else "module"},
                        )
                    )
            for m in ACRONYM.finditer(sent):
                words = [w for w in m.group("long").split() if w.lower() not in FUNCTION_WORDS]
                long = " ".join(words[-len(m.group("short")) :]) if words else ""
                if usable(long) and len(long.split()) >= 2:
                    cands.append(
                        MethodPart(
                            text=f"{long} ({m.group('short')})",
                            kind="component",
                            quote=sent,
                            section=s.heading,
                            sources={"acronym"},
                        )
                    )
            for m in ALTERNATIVE.finditer(sent):
                alt = clean_np(m.group("np"))
                if usable(alt):
                    cands.append(
                        MethodPart(
                            text="",
                            kind="alternative",
                            quote=sent,
                            section=s.heading,
                            alternatives=[alt],
                            sources={"alternative"},
                        )
                    )
    return cands


def merge_candidates(cands: list[MethodPart]) -> list[MethodPart]:
    merged: list[MethodPart] = []
    for c in cands:
        for m in merged:
            if m.kind == c.kind and (
                m.text.lower() == c.text.lower()
                or (
                    overlap(m.text, c.text) >= 0.8
                    and min(len(content_tokens(m.text)), len(content_tokens(c.text))) >= 2
                )
            ):
                m.sources |= c.sources
                m.value = m.value or c.value
                if "heading" not in m.sources and (
                    "acronym" in c.sources or (len(c.text) < len(m.text) and "acronym" not in m.sources)
                ):
                    m.text = c.text
                break
        else:
            merged.append(
                MethodPart(
                    text=c.text,
                    kind=c.kind,
                    quote=c.quote,
                    section=c.section,
                    value=c.value,
                    alternatives=list(c.alternatives),
                    sources=set(c.sources),
                )
            )
    return merged


def attach_alternatives(comps: list[MethodPart], alts: list[MethodPart]) -> None:
    for a in alts:
        best: MethodPart | None = None
        best_s = 0.0
        for c in comps:
            if c.kind != "component" or c.section != a.section:
                continue
            sc = 2.0 if c.text.lower() in a.quote.lower() else overlap(c.text, a.quote) * 0.9
            if sc > best_s:
                best, best_s = c, sc
        alt = a.alternatives[0]
        if (
            best is not None
            and best_s >= 0.6
            and alt.lower() not in best.text.lower()
            and alt not in best.alternatives
            and overlap(alt, best.text) < 0.8
        ):
            best.alternatives.append(alt)
            best.sources.add("alternative")


def standard_alternative(c: MethodPart, section_text: str) -> str | None:
    """What the paper says the standard method uses instead (e.g. "a full 256-way softmax")."""
    for sent in split_sentences(c.quote) + split_sentences(section_text):
        m = STANDARD_CHOICE.search(sent)
        if m:
            alt = clean_np(m.group("alt"))
            if usable(alt) and overlap(alt, c.text) < 0.5:
                return alt
    return None


def own_model_name(title: str) -> str | None:
    """ "MWFormer" in "MWFormer: Mesh Understanding with ...": removing the whole model is no ablation."""
    head = title.split(":", 1)[0].strip()
    return head if ":" in title and 0 < len(head.split()) <= 2 and len(head) >= 3 else None
