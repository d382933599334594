"""Hyperparameters with their values, and loss weights gathered into one family per symbol."""

from __future__ import annotations

import re

from abplan.planners.offline_extract.text import MethodPart
from abplan.planners.offline_patterns import (
    HYPER,
    HYPER_BEFORE,
    WEIGHT_NAMED,
)
from abplan.schema import Paper, Section
from abplan.text_match import split_sentences


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
