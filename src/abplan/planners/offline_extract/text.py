"""What the offline rules find in a method, and the phrase clean-up they all share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from abplan.planners.offline_patterns import (
    GENERIC,
    LEAD_VERB,
    NP_STOP,
)
from abplan.text_match import content_tokens


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


def clean_np(np: str) -> str:
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


def usable(np: str) -> bool:
    low = np.lower()
    if len(np) < 3 or len(np) > 80 or low in GENERIC or not content_tokens(np):
        return False
    return not re.fullmatch(r"[\d\W]+", np)


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
