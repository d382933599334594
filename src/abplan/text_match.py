"""Light lexical tools shared by the offline planner, the lexical judge and evidence grounding."""

from __future__ import annotations

import re
from functools import lru_cache

STOP = frozenset(
    """a an the of and or for to in on with by from at as is are was were be been being this that these
    those it its their our we us you they which who whom whose what when where how than then there here
    into onto over under about between through during without within using used use uses based via each
    per all any both some such more most less least very also only not no can could may might will would
    should must do does did done has have had new proposed model method approach paper work section
    figure table eq equation results result one two three first second ablation ablations study effect
    impact different other same e.g i.e etc""".split()  # noqa: SIM905
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    w = word.lower()
    for suf in (
        "ization",
        "isation",
        "ations",
        "ation",
        "ings",
        "ing",
        "ies",
        "ied",
        "ers",
        "er",
        "es",
        "ed",
        "s",
        "al",
        "ly",
    ):
        if len(w) > len(suf) + 3 and w.endswith(suf):
            return w[: -len(suf)] + ("y" if suf in ("ies", "ied") else "")
    return w


GREEK_NAMES = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "η": "eta",
    "θ": "theta",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "ρ": "rho",
    "σ": "sigma",
    "τ": "tau",
    "φ": "phi",
    "ω": "omega",
}
_GREEK = re.compile("[" + "".join(GREEK_NAMES) + "]")
_TOKEN = re.compile(r"[A-Za-zα-ωΑ-Ω][A-Za-z0-9α-ωΑ-Ω\-]*")


def content_tokens(text: str) -> set[str]:
    """Content-word stems; a Greek letter reads as its name, so "λVR" and "lambda_VR" share "lambda", "vr"."""
    if not text.isascii():  # ASCII text has no Greek letter to name
        text = _GREEK.sub(lambda m: f" {GREEK_NAMES[m.group(0)]} ", text)
    toks = _TOKEN.findall(text)
    out: set[str] = set()
    for t in toks:
        for part in t.split("-"):
            p = part.lower()
            if len(p) > 1 and p not in STOP:
                out.add(stem(p))
    return out


def overlap(a: str, b: str) -> float:
    """Overlap coefficient of content stems: |A∩B| / min(|A|, |B|)."""
    ta, tb = content_tokens(a), content_tokens(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / min(len(ta), len(tb))


def normalize_ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def split_sentences(text: str) -> list[str]:
    text = re.sub(r"\s+", " ", text)
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z(\[])", text)
    return [p.strip() for p in parts if len(p.strip()) > 3]
