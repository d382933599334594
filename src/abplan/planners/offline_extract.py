"""Extraction rules of the offline planner: the method sections, components, hyperparameters, named
alternatives, metrics and existing ablations that a paper's text states."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from abplan.planners.offline_patterns import (
    ABLATION_HEAD,
    ACRONYM,
    ALTERNATIVE,
    BEFORE_HEAD,
    END_HEAD,
    FUNCTION_WORDS,
    GENERIC,
    HEAD_NOUN,
    HYPER,
    HYPER_BEFORE,
    LEAD_VERB,
    LOSS,
    METHOD_HEAD,
    METRIC_RES,
    NP_STOP,
    PROPOSE,
    RESULT_HEAD,
    SKIP_HEAD,
    STANDARD_CHOICE,
    VERBISH,
    WEIGHT_NAMED,
    WITHOUT,
    WORD,
)
from abplan.schema import Paper, Section
from abplan.text_match import STOP, content_tokens, overlap, split_sentences


@dataclass
class MethodPart:
    """A component, hyperparameter or named alternative the rules found in the method text."""

    text: str
    kind: str  # component | hyper | alternative
    quote: str
    section: str
    value: str | None = None
    alternatives: list[str] = field(default_factory=list)
    score: float = 0.0
    sources: set[str] = field(default_factory=set)


def _clean_np(np: str) -> str:
    np = NP_STOP.sub("", np.strip())
    np = re.sub(
        r"^(?:a|an|the|our|this|these|its|their|two|several|novel|new|simple|proposed)\s+", "", np, flags=re.I
    )
    np = re.sub(r"[\s,.;:()\-]+$", "", np)
    np = re.sub(r"\s+", " ", np)
    return np.strip()


def heading_text(h: str) -> str:
    """A heading as a phrase: no number, and ordinary words in lower case (acronyms such as PixelCNN kept)."""
    h = re.sub(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-H](?:\.\d+)*\.?|[IVX]+\.)\s+", "", h).strip()
    if h.isupper():
        return h.lower()
    return " ".join(w.lower() if w[:1].isupper() and w[1:].islower() else w for w in h.split())


def _usable(np: str) -> bool:
    low = np.lower()
    if len(np) < 3 or len(np) > 80 or low in GENERIC or not content_tokens(np):
        return False
    return not re.fullmatch(r"[\d\W]+", np)


def _number(heading: str) -> str | None:
    m = re.match(r"^\s*(\d+(?:\.\d+)*)\.?\s", heading)
    return m.group(1) if m else None


def _depth(s: Section) -> int:
    num = _number(s.heading)
    return num.count(".") + 1 if num else s.level


def method_sections(paper: Paper) -> list[Section]:
    """The method: the span between the background sections and the experiments, plus method-named
    sections elsewhere (not under a skipped section, not after the references), with their subsections."""
    secs = list(paper.sections)
    end = next((i for i, s in enumerate(secs) if END_HEAD.search(s.heading)), len(secs))
    secs = secs[:end]
    levels = [s.level for s in secs if s.heading != "[front matter]"]
    base = min(levels) if levels else 1

    def top(s: Section) -> bool:
        num = _number(s.heading)
        return "." not in num if num else s.level <= base

    tops = [(i, s) for i, s in enumerate(secs) if top(s) and s.heading != "[front matter]"]
    last_before = max((i for i, s in tops if BEFORE_HEAD.search(s.heading)), default=-1)
    # The span starts at the first top-level section after the background (its subsections excluded).
    start = next((i for i, _ in tops if i > last_before), len(secs)) - 1 if last_before >= 0 else -1
    stop = next(
        (
            i
            for i, s in tops
            if i > start and RESULT_HEAD.search(s.heading) and not METHOD_HEAD.search(s.heading)
        ),
        len(secs),
    )
    span = set(range(start + 1, stop)) if start >= 0 or stop < len(secs) else set()
    skipped = False
    taking = False  # inside a method-named top-level section: its subsections come along
    picked: list[Section] = []
    for i, s in enumerate(secs):
        if top(s):
            skipped = bool(SKIP_HEAD.search(s.heading)) and not METHOD_HEAD.search(s.heading)
            taking = bool(METHOD_HEAD.search(s.heading)) and not skipped
        if s.heading == "[front matter]" or ABLATION_HEAD.search(s.heading):
            continue
        in_span = i in span and not (top(s) and SKIP_HEAD.search(s.heading))
        named = bool(METHOD_HEAD.search(s.heading)) and not SKIP_HEAD.search(s.heading) and not skipped
        if in_span or named or taking:
            picked.append(s)
    if not picked:
        picked = [
            s
            for s in secs
            if s.text.strip() and not SKIP_HEAD.search(s.heading) and s.heading != "[front matter]"
        ]
    return picked or [s for s in paper.sections if s.text.strip()]


def find_metrics(paper: Paper) -> list[str]:
    counts: Counter[str] = Counter()
    weights = [(s.text, 3 if RESULT_HEAD.search(s.heading) else 1) for s in paper.sections]
    weights.append((paper.abstract, 2))
    for text, w in weights:
        for name, rx in METRIC_RES:
            n = len(rx.findall(text))
            if n:
                counts[name] += n * w
    # "top-1 accuracy" subsumes "accuracy" when both are found.
    if counts.get("top-1 accuracy") and "accuracy" in counts:
        counts["accuracy"] = 0
    if counts.get("negative log-likelihood") and counts.get("log-likelihood"):
        counts["log-likelihood"] = 0
    ranked = counts.most_common()
    if not ranked or ranked[0][1] == 0:
        return []
    top = ranked[0][1]
    # A metric mentioned once in passing is not one the paper reports.
    return [m for m, c in ranked if c > 0 and c >= max(2, 0.25 * top)][:3] or [ranked[0][0]]


def existing_ablations(paper: Paper) -> list[tuple[str, str]]:
    """(phrase, section) of ablations the paper already reports."""
    found: list[tuple[str, str]] = []
    for s in paper.sections:
        if ABLATION_HEAD.search(s.heading):
            found.append((heading_text(s.heading), s.heading))
            for m in WITHOUT.finditer(s.text):
                np = _clean_np(m.group("np"))
                if _usable(np):
                    found.append((np, s.heading))
        for sent in split_sentences(s.text):
            if re.search(
                r"(?i)\bablat|\bw/o\b|we (?:remove|vary|replace)\b|sensitivity to|effect of (?:the|varying)",
                sent,
            ):
                hit = re.search(
                    r"(?i)(?:ablat\w*|w/o|remov\w*|vary\w*|replac\w*|effect of|sensitivity to)\s+(?:the\s+|of the\s+|of\s+)?(?P<np>[\w\-]+(?:\s+[\w\-]+){0,4})",
                    sent,
                )
                if hit:
                    np = _clean_np(hit.group("np"))
                    if _usable(np):
                        found.append((np, s.heading))
    seen: set[str] = set()
    out = []
    for np, sec in found:
        if np.lower() not in seen:
            seen.add(np.lower())
            out.append((np, sec))
    return out


def clean_heading(h: str) -> tuple[str, list[str]]:
    """Heading text without its number or a leading verb; "X versus Y" gives alternatives [Y]."""
    t = heading_text(h)
    t = LEAD_VERB.sub("", t)
    t = (
        re.sub(r"(?i)^(?:\w+\s+)?(?:using|with|via)\s+", "", t)
        if re.match(r"(?i)^\w+\s+(?:using|with|via)\s", t)
        else t
    )
    m = re.match(r"(?i)^(.+?)\s+(?:versus|vs\.?|instead of|rather than|over)\s+(.+)$", t)
    if m:
        return m.group(1).strip(), [m.group(2).strip()]
    return t.strip(), []


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
    depths = [_depth(s) for s in msecs]
    min_depth = min(depths) if depths else 1
    full = paper.text.lower()
    for s, d in zip(msecs, depths, strict=True):
        h, alts = clean_heading(s.heading)
        if d > min_depth and _usable(h) and not METHOD_HEAD.fullmatch(h.lower()):
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
                np = _clean_np(m.group("np"))
                np = (
                    " ".join(w for w in np.split() if w.lower() not in FUNCTION_WORDS)
                    if len(np.split()) > 1
                    else np
                )
                if _usable(np) and len(np.split()) <= 5:
                    cands.append(
                        MethodPart(
                            text=np, kind="component", quote=sent, section=s.heading, sources={"propose"}
                        )
                    )
            for np in _phrases(sent):
                if _usable(np) and full.count(np.lower()) >= 2:
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
                if _usable(long) and len(long.split()) >= 2:
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
                alt = _clean_np(m.group("np"))
                if _usable(alt):
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


def find_hyperparameters(msecs: list[Section], paper: Paper) -> list[MethodPart]:
    out: list[MethodPart] = []
    secs = msecs + [
        s for s in paper.sections if re.search(r"(?i)implementation|setup|training details|hyper", s.heading)
    ]
    for s in secs:
        for sent in split_sentences(s.text):
            for m in WEIGHT_NAMED.finditer(sent):
                names = (
                    re.split(r"\s*(?:,|and)\s*", m.group("names")) if m.group("names") else [m.group("name")]
                )
                for n in names:
                    out.append(
                        MethodPart(
                            text=n,
                            kind="hyper",
                            quote=sent,
                            section=s.heading,
                            value=None,
                            sources={"hyper", "weight"},
                        )
                    )
            for m in HYPER.finditer(sent):
                name = m.group("name")
                if name in ("k", "K", "T", "N", "M") and not re.search(rf"\b{name}\s*=", sent):
                    continue
                out.append(
                    MethodPart(
                        text=name,
                        kind="hyper",
                        quote=sent,
                        section=s.heading,
                        value=m.group("value"),
                        sources={"hyper"},
                    )
                )
            for m in HYPER_BEFORE.finditer(sent):
                if float(m.group("value")) > 1:
                    out.append(
                        MethodPart(
                            text=f"number of {m.group('name')}",
                            kind="hyper",
                            quote=sent,
                            section=s.heading,
                            value=m.group("value"),
                            sources={"hyper"},
                        )
                    )
    return out


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


def weight_families(hypers: list[MethodPart]) -> list[MethodPart]:
    """λVR = 1, λRP = 1 and "λPC is a weighting term" are one experiment: the loss weights λVR, λRP, λPC."""
    out: list[MethodPart] = []
    families: dict[str, MethodPart] = {}
    for h in hypers:
        base = h.text[0] if h.text and h.text[0] in "λαβγτημερ" else None
        weighty = "weight" in h.sources or re.search(r"(?i)weight|coefficient|loss", h.quote)
        if base is None or not weighty:
            out.append(h)
            continue
        fam = families.get(base)
        if fam is None:
            fam = MethodPart(
                text=h.text,
                kind="hyper",
                quote=h.quote,
                section=h.section,
                value=h.value,
                sources=set(h.sources) | {"weight"},
            )
            families[base] = fam
            out.append(fam)
        elif h.text not in fam.text.split(", "):
            fam.text = f"{fam.text}, {h.text}"
            fam.value = fam.value or h.value
            fam.sources |= h.sources
    return out


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
            alt = _clean_np(m.group("alt"))
            if _usable(alt) and overlap(alt, c.text) < 0.5:
                return alt
    return None


def own_model_name(title: str) -> str | None:
    """ "MWFormer" in "MWFormer: Mesh Understanding with ...": removing the whole model is no ablation."""
    head = title.split(":", 1)[0].strip()
    return head if ":" in title and 0 < len(head.split()) <= 2 and len(head) >= 3 else None
